// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// INTL's objective as a torch module (docs/math.md#intl-loss, docs/math.md#intl-m): every view
/// whitened by the library's transform (the bridge), then the normalised MSE against the anchor
/// view and β·trace loss.

#include "bridge/spectral_function.hpp"

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace spectral::torch_bridge {

/// The objective and its parts; `total` carries the autograd graph.
struct intl_terms {
  torch::Tensor total;
  torch::Tensor alignment;
  torch::Tensor trace;
};

/// TL = Σ_k (var_k − 1)² over the rows k of the whitening layout (samples axis: each sample's
/// variance over its D features; features axis: each feature's over the N samples), divisor M−1.
[[nodiscard]] inline torch::Tensor trace_loss(const torch::Tensor& y, axis a) {
  const auto variance = a == axis::samples ? y.var(1, /*unbiased=*/true) : y.var(0, true);
  return (variance - 1.0).pow(2).sum();
}

/// nMSE = 2 − (2/N) Σ_n cos(a_n, b_n), norms clamped at 1e-12 as F.normalize.
[[nodiscard]] inline torch::Tensor normalized_mse(const torch::Tensor& a, const torch::Tensor& b) {
  const auto an = a / a.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  const auto bn = b / b.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  return 2.0 - 2.0 * (an * bn).sum(1).mean();
}

/**
 * @brief L = (1/(V−1)) Σ_{i≥1} [nMSE(Ẑ^i, Ẑ^0) + β TL(Ẑ^i)] + β TL(Ẑ^0), Ẑ^i = ST(Z^i) (intl);
 *        with a momentum anchor (intl_m), L = (1/(V−1)) Σ_{i≥1} [nMSE(Ẑ^i, Ẑ_k) + β TL(Ẑ^i)]
 *        where Ẑ_k = ST(anchor) carries no gradient and has no trace term.
 */
class IntlLossImpl : public torch::nn::Module {
 public:
  /// @param beta the trace-loss weight; docs/math.md#trade-off-beta: 0.01·(log2 K − 3)
  ///        (trade_off_beta)
  IntlLossImpl(transform_spec spec, double beta) : spec_(spec), beta_(beta) {
    SPECTRAL_EXPECTS(std::isfinite(beta) && beta >= 0.0, "beta: must be finite and >= 0, got ",
                     beta);
  }

  /// intl: views[0] is the anchor. @throws invalid_input for fewer than 2 views.
  intl_terms forward(const std::vector<torch::Tensor>& views) {
    SPECTRAL_EXPECTS(views.size() >= 2, "views: INTL needs at least 2 views, got ", views.size());
    const auto anchor = spectral_transform_op(views[0], spec_);
    return assemble(anchor, views, 1, trace_loss(anchor, spec_.opts.axis));
  }

  /// intl_m: the anchor comes from the momentum encoder (no gradient, no trace term); `online`
  /// holds the other V−1 views.
  intl_terms forward_momentum(const torch::Tensor& momentum_anchor,
                              const std::vector<torch::Tensor>& online) {
    SPECTRAL_EXPECTS(!online.empty(), "online: INTL-M needs at least 1 online view");
    torch::Tensor anchor;
    {
      torch::NoGradGuard no_grad;
      anchor = spectral_transform_op(momentum_anchor.detach(), spec_);
    }
    return assemble(anchor, online, 0, torch::zeros({}, anchor.options()));
  }

  [[nodiscard]] double beta() const noexcept { return beta_; }
  [[nodiscard]] const transform_spec& spec() const noexcept { return spec_; }

 private:
  intl_terms assemble(const torch::Tensor& anchor,
                      const std::vector<torch::Tensor>& views,
                      std::size_t first,
                      const torch::Tensor& anchor_trace) {
    const double others = 1.0 / static_cast<double>(views.size() - first);
    torch::Tensor alignment = torch::zeros({}, anchor.options());
    torch::Tensor trace = anchor_trace;
    for (std::size_t v = first; v < views.size(); ++v) {
      const auto whitened = spectral_transform_op(views[v], spec_);
      alignment = alignment + others * normalized_mse(whitened, anchor);
      trace = trace + others * trace_loss(whitened, spec_.opts.axis);
    }
    return {alignment + beta_ * trace, alignment.detach(), trace.detach()};
  }

  transform_spec spec_;
  double beta_;
};
TORCH_MODULE(IntlLoss);

}  // namespace spectral::torch_bridge
