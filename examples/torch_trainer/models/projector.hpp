// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The INTL projector (docs/trainer.md#architecture) and the encoder = backbone + projector that
/// the losses see.

#include "models/resnet.hpp"
#include "models/sync_batch_norm.hpp"

#include <spectral/core/error.hpp>

#include <torch/torch.h>

#include <cstdint>
#include <utility>

namespace spectral::trainer {

/**
 * @brief Three-layer projector: Linear(in→hidden, no bias) → BN1d → ReLU → Linear(hidden→hidden,
 * no bias) → BN1d → ReLU → Linear(hidden→out, bias).
 *
 * The BN layers are SyncBatchNorm1d (docs/trainer.md#architecture): plain BN1d until
 * use_process_group() attaches a multi-rank group, then their batch statistics span every rank.
 *
 * Linear layers keep LibTorch's default init, which is PyTorch's (Kaiming-uniform with a = √5,
 * bias U(±1/√fan_in)). Children are named "0", "1", "3", "4", "6", the indices of the
 * reference's nn.Sequential, so state-dict keys match (`projector.0.weight`, …).
 *
 * @throws spectral::invalid_input from the constructor when a width is below 1.
 * @note In training mode BN1d needs at least 2 rows per batch.
 */
class ProjectorImpl : public torch::nn::Cloneable<ProjectorImpl> {
 public:
  ProjectorImpl(std::int64_t in_features, std::int64_t hidden_features, std::int64_t out_features);

  void reset() override;

  /// N × in_features → N × out_features.
  torch::Tensor forward(torch::Tensor x);

  [[nodiscard]] std::int64_t in_features() const { return in_; }
  [[nodiscard]] std::int64_t out_features() const { return out_; }

 private:
  std::int64_t in_;
  std::int64_t hidden_;
  std::int64_t out_;
  torch::nn::Linear linear1_{nullptr};
  SyncBatchNorm1d bn1_{nullptr};
  torch::nn::Linear linear2_{nullptr};
  SyncBatchNorm1d bn2_{nullptr};
  torch::nn::Linear linear3_{nullptr};
};
TORCH_MODULE(Projector);

/**
 * @brief Backbone + projector, as in the reference's `module.backbone` / `module.projector`.
 *
 * Cloneable, so it can serve as the INTL-M momentum copy (clone_frozen in ema.hpp).
 *
 * @throws spectral::invalid_input from the constructor (see ResNetImpl and ProjectorImpl).
 */
class EncoderImpl : public torch::nn::Cloneable<EncoderImpl> {
 public:
  EncoderImpl(const resnet_options& backbone,
              std::int64_t hidden_features,
              std::int64_t out_features);

  void reset() override;

  /// Images → projections, N × out_features.
  torch::Tensor forward(torch::Tensor x);

  /// Images → backbone features, N × backbone()->feature_dim() (what kNN / linear eval use).
  torch::Tensor features(torch::Tensor x);

  [[nodiscard]] ResNet& backbone() { return backbone_; }
  [[nodiscard]] Projector& projector() { return projector_; }

 private:
  resnet_options backbone_options_;
  std::int64_t hidden_;
  std::int64_t out_;
  ResNet backbone_{nullptr};
  Projector projector_{nullptr};
};
TORCH_MODULE(Encoder);

// --- implementation

inline ProjectorImpl::ProjectorImpl(std::int64_t in_features,
                                    std::int64_t hidden_features,
                                    std::int64_t out_features)
    : in_(in_features), hidden_(hidden_features), out_(out_features) {
  SPECTRAL_EXPECTS(in_ >= 1 && hidden_ >= 1 && out_ >= 1,
                   "projector widths must be at least 1, got in_features=", in_,
                   ", hidden_features=", hidden_, ", out_features=", out_);
  reset();
}

inline void ProjectorImpl::reset() {
  using torch::nn::LinearOptions;
  linear1_ = register_module("0", torch::nn::Linear(LinearOptions(in_, hidden_).bias(false)));
  bn1_ = register_module("1", SyncBatchNorm1d(hidden_));
  linear2_ = register_module("3", torch::nn::Linear(LinearOptions(hidden_, hidden_).bias(false)));
  bn2_ = register_module("4", SyncBatchNorm1d(hidden_));
  linear3_ = register_module("6", torch::nn::Linear(LinearOptions(hidden_, out_)));
}

inline torch::Tensor ProjectorImpl::forward(torch::Tensor x) {
  x = torch::relu(bn1_(linear1_(x)));
  x = torch::relu(bn2_(linear2_(x)));
  return linear3_(x);
}

inline EncoderImpl::EncoderImpl(const resnet_options& backbone,
                                std::int64_t hidden_features,
                                std::int64_t out_features)
    : backbone_options_(backbone), hidden_(hidden_features), out_(out_features) {
  reset();
}

inline void EncoderImpl::reset() {
  backbone_ = register_module("backbone", ResNet(backbone_options_));
  projector_ = register_module("projector", Projector(backbone_->feature_dim(), hidden_, out_));
}

inline torch::Tensor EncoderImpl::forward(torch::Tensor x) {
  return projector_(backbone_(std::move(x)));
}

inline torch::Tensor EncoderImpl::features(torch::Tensor x) { return backbone_(std::move(x)); }

}  // namespace spectral::trainer
