// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// ResNet backbones in torchvision's layout (v1.5: stride on the 3×3 conv of a bottleneck), with
/// the reference INTL code's changes (docs/trainer.md#architecture): an extra zero pad of 1 before
/// conv1, a CIFAR stem without max-pool, and zero-init of the last BN γ of every block except in
/// ResNet-18.
/// The forward ends at global average pooling; there is no classifier. Child names follow
/// torchvision (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, …) so state-dict keys map
/// one to one onto the reference checkpoints' `backbone.*` keys. Every BN is a SyncBatchNorm2d
/// (plain BatchNorm2d until a multi-rank process group is attached, models/sync_batch_norm.hpp).

#include "models/sync_batch_norm.hpp"

#include <spectral/core/error.hpp>

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace spectral::trainer {

/**
 * @brief How to build a ResNet backbone.
 *
 * The defaults are torchvision's ResNet-18 with the ImageNet stem plus zero-init of the last
 * BN γ; use reference() for the INTL code's per-depth rule.
 */
struct resnet_options {
  int depth = 18;                  ///< 18, 34 (basic blocks) or 50, 101, 152 (bottlenecks).
  bool cifar_stem = false;         ///< 3×3 stride-1 conv1 and no max-pool (32×32 inputs).
  std::int64_t in_channels = 3;    ///< Image channels (1 for Fashion-MNIST).
  bool zero_init_residual = true;  ///< γ = 0 on the last BN of every residual block.
  std::int64_t width = 64;         ///< Channels of the stem and first stage (64 = torchvision);
                                   ///< stage i has width·2^i planes. Small for CPU smoke runs.

  /**
   * @brief The reference code's options for a depth: RGB input and zero-init of the last BN γ
   * for every depth except 18 (commit 837cd7e, docs/trainer.md#architecture), torchvision width.
   */
  [[nodiscard]] static resnet_options reference(int depth, bool cifar) {
    return {depth, cifar, 3, depth != 18, 64};
  }
};

/// Two 3×3 convs; expansion 1 (ResNet-18/34).
class BasicBlockImpl : public torch::nn::Cloneable<BasicBlockImpl> {
 public:
  static constexpr std::int64_t expansion = 1;

  BasicBlockImpl(std::int64_t in_planes, std::int64_t planes, std::int64_t stride);

  void reset() override;
  torch::Tensor forward(torch::Tensor x);

  /// The BN whose γ zero_init_residual sets to 0.
  [[nodiscard]] SyncBatchNorm2d& last_bn() { return bn2_; }

 private:
  std::int64_t in_planes_;
  std::int64_t planes_;
  std::int64_t stride_;
  torch::nn::Conv2d conv1_{nullptr};
  SyncBatchNorm2d bn1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  SyncBatchNorm2d bn2_{nullptr};
  torch::nn::Sequential downsample_ = nullptr;
};
TORCH_MODULE(BasicBlock);

/// 1×1 → 3×3 (strided) → 1×1 convs; expansion 4 (ResNet-50/101/152).
class BottleneckImpl : public torch::nn::Cloneable<BottleneckImpl> {
 public:
  static constexpr std::int64_t expansion = 4;

  BottleneckImpl(std::int64_t in_planes, std::int64_t planes, std::int64_t stride);

  void reset() override;
  torch::Tensor forward(torch::Tensor x);

  /// The BN whose γ zero_init_residual sets to 0.
  [[nodiscard]] SyncBatchNorm2d& last_bn() { return bn3_; }

 private:
  std::int64_t in_planes_;
  std::int64_t planes_;
  std::int64_t stride_;
  torch::nn::Conv2d conv1_{nullptr};
  SyncBatchNorm2d bn1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  SyncBatchNorm2d bn2_{nullptr};
  torch::nn::Conv2d conv3_{nullptr};
  SyncBatchNorm2d bn3_{nullptr};
  torch::nn::Sequential downsample_ = nullptr;
};
TORCH_MODULE(Bottleneck);

/**
 * @brief ResNet backbone: stem, four stages, global average pool; output N × feature_dim().
 *
 * Cloneable, so `clone()` (and clone_frozen() in ema.hpp) give a deep copy.
 *
 * @throws spectral::invalid_input from the constructor for an unsupported depth or
 * in_channels < 1.
 */
class ResNetImpl : public torch::nn::Cloneable<ResNetImpl> {
 public:
  explicit ResNetImpl(const resnet_options& options);

  void reset() override;

  /// N×C×H×W images → N × feature_dim() pooled features. Works on channels_last input.
  torch::Tensor forward(torch::Tensor x);

  /// The last stage's feature map before pooling, N × feature_dim() × h × w.
  torch::Tensor feature_map(torch::Tensor x);

  /// 8·width for basic-block depths, 32·width for bottleneck depths (512 and 2048 at width 64).
  [[nodiscard]] std::int64_t feature_dim() const;

  [[nodiscard]] const resnet_options& options() const { return options_; }

 private:
  [[nodiscard]] bool bottleneck() const { return options_.depth >= 50; }
  torch::nn::Sequential make_stage(std::int64_t& in_planes,
                                   std::int64_t planes,
                                   std::int64_t blocks,
                                   std::int64_t stride);
  void initialise();

  resnet_options options_;
  torch::nn::Conv2d conv1_{nullptr};
  SyncBatchNorm2d bn1_{nullptr};
  std::array<torch::nn::Sequential, 4> layers_{nullptr, nullptr, nullptr, nullptr};
};
TORCH_MODULE(ResNet);

// --- implementation

namespace detail {

inline torch::nn::Conv2d conv(std::int64_t in,
                              std::int64_t out,
                              std::int64_t kernel,
                              std::int64_t stride,
                              std::int64_t padding) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

inline torch::nn::Sequential downsample_if_needed(std::int64_t in_planes,
                                                  std::int64_t out_planes,
                                                  std::int64_t stride) {
  if (stride == 1 && in_planes == out_planes) {
    return torch::nn::Sequential(nullptr);
  }
  return torch::nn::Sequential(conv(in_planes, out_planes, 1, stride, 0),
                               SyncBatchNorm2d(out_planes));
}

/// Layers per stage for each supported depth; throws for any other depth.
inline std::array<std::int64_t, 4> resnet_stage_sizes(int depth) {
  switch (depth) {
    case 18:
      return {2, 2, 2, 2};
    case 34:
      return {3, 4, 6, 3};
    case 50:
      return {3, 4, 6, 3};
    case 101:
      return {3, 4, 23, 3};
    case 152:
      return {3, 8, 36, 3};
    default:
      break;
  }
  SPECTRAL_EXPECTS(false, "resnet_options.depth: ", depth, " is not one of 18, 34, 50, 101, 152");
  return {};
}

}  // namespace detail

inline BasicBlockImpl::BasicBlockImpl(std::int64_t in_planes,
                                      std::int64_t planes,
                                      std::int64_t stride)
    : in_planes_(in_planes), planes_(planes), stride_(stride) {
  reset();
}

// Cloneable::clone() calls reset() on a copy, so every child is (re)built here, including
// clearing downsample_ that the copy constructor duplicated.
inline void BasicBlockImpl::reset() {
  conv1_ = register_module("conv1", detail::conv(in_planes_, planes_, 3, stride_, 1));
  bn1_ = register_module("bn1", SyncBatchNorm2d(planes_));
  conv2_ = register_module("conv2", detail::conv(planes_, planes_, 3, 1, 1));
  bn2_ = register_module("bn2", SyncBatchNorm2d(planes_));
  downsample_ = detail::downsample_if_needed(in_planes_, planes_ * expansion, stride_);
  if (downsample_) {
    register_module("downsample", downsample_);
  }
}

inline torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = bn2_(conv2_(out));
  out += downsample_ ? downsample_->forward(x) : x;
  return torch::relu(out);
}

inline BottleneckImpl::BottleneckImpl(std::int64_t in_planes,
                                      std::int64_t planes,
                                      std::int64_t stride)
    : in_planes_(in_planes), planes_(planes), stride_(stride) {
  reset();
}

inline void BottleneckImpl::reset() {
  conv1_ = register_module("conv1", detail::conv(in_planes_, planes_, 1, 1, 0));
  bn1_ = register_module("bn1", SyncBatchNorm2d(planes_));
  conv2_ = register_module("conv2", detail::conv(planes_, planes_, 3, stride_, 1));
  bn2_ = register_module("bn2", SyncBatchNorm2d(planes_));
  conv3_ = register_module("conv3", detail::conv(planes_, planes_ * expansion, 1, 1, 0));
  bn3_ = register_module("bn3", SyncBatchNorm2d(planes_ * expansion));
  downsample_ = detail::downsample_if_needed(in_planes_, planes_ * expansion, stride_);
  if (downsample_) {
    register_module("downsample", downsample_);
  }
}

inline torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = torch::relu(bn2_(conv2_(out)));
  out = bn3_(conv3_(out));
  out += downsample_ ? downsample_->forward(x) : x;
  return torch::relu(out);
}

inline ResNetImpl::ResNetImpl(const resnet_options& options) : options_(options) {
  (void)detail::resnet_stage_sizes(options_.depth);
  SPECTRAL_EXPECTS(options_.in_channels >= 1, "resnet_options.in_channels: ", options_.in_channels,
                   " must be at least 1");
  SPECTRAL_EXPECTS(options_.width >= 1, "resnet_options.width: ", options_.width,
                   " must be at least 1");
  reset();
}

inline void ResNetImpl::reset() {
  // The reference pads by 1 before conv1 (ConstantPad2d(1), then padding 2 for 7×7 or 1 for
  // 3×3). Two zero pads compose into one, so conv1 pads by 3 or 2 instead: the same numbers
  // (a 32×32 CIFAR image still becomes a 34×34 map) without copying the input once more.
  const std::int64_t width = options_.width;
  conv1_ = register_module("conv1", options_.cifar_stem
                                        ? detail::conv(options_.in_channels, width, 3, 1, 2)
                                        : detail::conv(options_.in_channels, width, 7, 2, 3));
  bn1_ = register_module("bn1", SyncBatchNorm2d(width));
  const auto sizes = detail::resnet_stage_sizes(options_.depth);
  std::int64_t in_planes = width;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const std::int64_t planes = width << i;
    const std::int64_t stride = i == 0 ? 1 : 2;
    layers_[i] = register_module("layer" + std::to_string(i + 1),
                                 make_stage(in_planes, planes, sizes[i], stride));
  }
  initialise();
}

inline torch::nn::Sequential ResNetImpl::make_stage(std::int64_t& in_planes,
                                                    std::int64_t planes,
                                                    std::int64_t blocks,
                                                    std::int64_t stride) {
  torch::nn::Sequential stage;
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t s = b == 0 ? stride : 1;
    if (bottleneck()) {
      stage->push_back(Bottleneck(in_planes, planes, s));
      in_planes = planes * BottleneckImpl::expansion;
    } else {
      stage->push_back(BasicBlock(in_planes, planes, s));
      in_planes = planes * BasicBlockImpl::expansion;
    }
  }
  return stage;
}

// torchvision's init: Kaiming-normal (fan_out, ReLU) convs, BN γ = 1 and β = 0, then γ = 0 on
// each block's last BN so every residual branch starts as the identity.
inline void ResNetImpl::initialise() {
  torch::NoGradGuard no_grad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<SyncBatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
  if (!options_.zero_init_residual) {
    return;
  }
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* basic = module->as<BasicBlock>()) {
      torch::nn::init::zeros_(basic->last_bn()->weight);
    } else if (auto* bottle = module->as<Bottleneck>()) {
      torch::nn::init::zeros_(bottle->last_bn()->weight);
    }
  }
}

inline torch::Tensor ResNetImpl::feature_map(torch::Tensor x) {
  x = torch::relu(bn1_(conv1_(x)));
  if (!options_.cifar_stem) {
    x = torch::max_pool2d(x, /*kernel_size=*/{3, 3}, /*stride=*/{2, 2}, /*padding=*/{1, 1});
  }
  for (auto& layer : layers_) {
    x = layer->forward(x);
  }
  return x;
}

inline torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  // flatten rather than view: the pooled map may be channels_last (non-contiguous as NCHW).
  return torch::adaptive_avg_pool2d(feature_map(std::move(x)), {1, 1}).flatten(1);
}

inline std::int64_t ResNetImpl::feature_dim() const {
  return 8 * options_.width *
         (bottleneck() ? BottleneckImpl::expansion : BasicBlockImpl::expansion);
}

}  // namespace spectral::trainer
