// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// SyncBN (docs/trainer.md#architecture: the reference converts every BN to SyncBatchNorm): in
/// training mode the batch statistics cover the rows of every rank, and their gradient flows back
/// to every rank.
/// The modules have LibTorch BatchNorm's parameters and buffers under the same names (weight,
/// bias, running_mean, running_var, num_batches_tracked), so checkpoints are unchanged. Without a
/// process group, with one rank, or in eval mode, forward is LibTorch's BatchNorm forward.
///
/// (They do not derive from torch::nn::BatchNorm2dImpl: Debian's LibTorch does not export
/// BatchNormImplBase's pretty_print, which a derived class's vtables need.)

#include "distributed/gather.hpp"
#include "distributed/process_group.hpp"

#include <spectral/core/error.hpp>

#include <torch/nn/cloneable.h>
#include <torch/nn/functional/batchnorm.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <ostream>
#include <vector>

namespace spectral::trainer {

namespace detail {

/**
 * BatchNorm1d/2d with optional cross-rank statistics; `Dims` = 1 (N×C or N×C×L) or 2 (N×C×H×W).
 * Defaults are LibTorch's: eps 1e-5, momentum 0.1, affine, running statistics tracked.
 */
template <class Derived, int Dims>
class sync_batch_norm_base : public torch::nn::Cloneable<Derived> {
 public:
  explicit sync_batch_norm_base(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : num_features_(num_features), eps_(eps), momentum_(momentum) {
    SPECTRAL_EXPECTS(num_features >= 1, "SyncBatchNorm: num_features must be >= 1, got ",
                     num_features);
    reset();
  }

  void reset() override {
    weight = this->register_parameter("weight", torch::ones({num_features_}));
    bias = this->register_parameter("bias", torch::zeros({num_features_}));
    running_mean = this->register_buffer("running_mean", torch::zeros({num_features_}));
    running_var = this->register_buffer("running_var", torch::ones({num_features_}));
    num_batches_tracked =
        this->register_buffer("num_batches_tracked", torch::tensor(0, torch::kLong));
  }

  torch::Tensor forward(const torch::Tensor& input) {
    const bool dims_ok = Dims == 1 ? (input.dim() == 2 || input.dim() == 3) : input.dim() == 4;
    SPECTRAL_EXPECTS(dims_ok, "SyncBatchNorm", Dims, "d: expected ",
                     Dims == 1 ? "2-D or 3-D" : "4-D", " input, got ", input.dim(), "-D");
    SPECTRAL_EXPECTS(input.size(1) == num_features_, "SyncBatchNorm", Dims, "d: expected ",
                     num_features_, " channels, got ", input.size(1));
    if (dist_ == nullptr || dist_->world_size() == 1 || !this->is_training()) {
      if (this->is_training()) {
        num_batches_tracked += 1;
      }
      return torch::nn::functional::detail::batch_norm(input, running_mean, running_var, weight,
                                                       bias, this->is_training(), momentum_, eps_);
    }
    return synced_forward(input);
  }

  void pretty_print(std::ostream& stream) const override {
    stream << "SyncBatchNorm" << Dims << "d(" << num_features_ << ", eps=" << eps_
           << ", momentum=" << momentum_
           << ", ranks=" << (dist_ == nullptr ? 1 : dist_->world_size()) << ")";
  }

  /// Statistics over every rank of `dist` in training mode; nullptr: this rank's batch only.
  void set_process_group(distributed* dist) noexcept { dist_ = dist; }
  [[nodiscard]] distributed* process_group() const noexcept { return dist_; }
  [[nodiscard]] std::int64_t num_features() const noexcept { return num_features_; }

  torch::Tensor weight;
  torch::Tensor bias;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;

 private:
  // Two passes as LibTorch's CPU kernel (the mean, then the centred second moment) rather than
  // E[x²] − E[x]², so the result matches one process on the global batch to float rounding.
  // Each rank's value count travels in the first all-reduce, so ranks may pass different
  // numbers of rows. Half-precision input (autocast) is reduced in float32, as PyTorch's
  // SyncBatchNorm does, and the output has the input's type.
  torch::Tensor synced_forward(const torch::Tensor& input) {
    distributed& dist = *dist_;
    const bool half =
        input.scalar_type() == torch::kHalf || input.scalar_type() == torch::kBFloat16;
    const torch::Tensor x = half ? input.to(torch::kFloat32) : input;
    std::vector<std::int64_t> reduce_dims{0};
    std::vector<std::int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
    for (std::int64_t d = 2; d < x.dim(); ++d) {
      reduce_dims.push_back(d);
    }
    shape[1] = num_features_;
    const std::int64_t local = x.numel() / num_features_;
    SPECTRAL_EXPECTS(local >= 1,
                     "SyncBatchNorm: expected at least 1 value per channel on each "
                     "rank, got ",
                     local);
    const torch::Tensor sums = all_reduce_with_backward(
        torch::cat({x.sum(reduce_dims), torch::full({1}, static_cast<double>(local), x.options())}),
        dist);
    const torch::Tensor total = sums.narrow(0, num_features_, 1).detach();  // values per channel
    const torch::Tensor mean = sums.narrow(0, 0, num_features_) / total;
    const torch::Tensor centred = x - mean.view(shape);
    const torch::Tensor var =
        all_reduce_with_backward((centred * centred).sum(reduce_dims), dist) / total;
    const torch::Tensor y = centred * torch::rsqrt(var + eps_).view(shape);
    {
      // LibTorch's running update, with the unbiased variance of the global batch.
      torch::NoGradGuard no_grad;
      num_batches_tracked += 1;
      running_mean.mul_(1.0 - momentum_).add_(mean.detach().to(running_mean.dtype()), momentum_);
      running_var.mul_(1.0 - momentum_)
          .add_((var.detach() * total / (total - 1.0)).to(running_var.dtype()), momentum_);
    }
    const torch::Tensor out = y * weight.view(shape) + bias.view(shape);
    return half ? out.to(input.scalar_type()) : out;
  }

  std::int64_t num_features_;
  double eps_;
  double momentum_;
  distributed* dist_ = nullptr;  // not owned; copied by clone()
};

}  // namespace detail

/// BatchNorm2d whose training-mode statistics can span every rank (use_process_group).
class SyncBatchNorm2dImpl : public detail::sync_batch_norm_base<SyncBatchNorm2dImpl, 2> {
 public:
  using sync_batch_norm_base::sync_batch_norm_base;
};
TORCH_MODULE(SyncBatchNorm2d);

/// BatchNorm1d counterpart (the projector's N×C layers).
class SyncBatchNorm1dImpl : public detail::sync_batch_norm_base<SyncBatchNorm1dImpl, 1> {
 public:
  using sync_batch_norm_base::sync_batch_norm_base;
};
TORCH_MODULE(SyncBatchNorm1d);

/**
 * @brief Points every SyncBatchNorm1d/2d inside `module` (itself included) at `dist`; nullptr
 *        detaches them (plain BN).
 * @return how many layers were attached
 * @note `dist` must outlive every forward and backward pass of the module.
 */
inline std::int64_t use_process_group(torch::nn::Module& module, distributed* dist) {
  std::int64_t count = 0;
  for (const auto& m : module.modules(/*include_self=*/true)) {
    if (auto* bn2 = m->as<SyncBatchNorm2dImpl>()) {
      bn2->set_process_group(dist);
      ++count;
    } else if (auto* bn1 = m->as<SyncBatchNorm1dImpl>()) {
      bn1->set_process_group(dist);
      ++count;
    }
  }
  return count;
}

}  // namespace spectral::trainer
