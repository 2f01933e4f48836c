// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/checks.hpp>

#include <cmath>
#include <vector>

namespace spectral {

/**
 * @brief Exponential moving averages of the batch mean and of each group's transform matrix W,
 *        so that a trained transform can serve as a layer at inference (as the IterNorm and
 *        DBN layers do): y = (z − mean) Wᵀ per group, with no matrix function at inference.
 *
 * Only the features axis has statistics that outlive a batch (the samples axis builds an N×N
 * matrix for the batch at hand), so the samples axis is rejected.
 * Update rule: s ← (1 − momentum)·s + momentum·s_batch; the first update copies the batch.
 */
template <real_scalar T>
class running_statistics {
 public:
  /// @throws invalid_input unless 0 < momentum ≤ 1.
  explicit running_statistics(double momentum = 0.1) : momentum_(momentum) {
    SPECTRAL_EXPECTS(std::isfinite(momentum) && momentum > 0.0 && momentum <= 1.0,
                     "momentum: must be in (0, 1], got ", momentum);
  }

  /// Folds one forward pass's batch statistics in. @throws invalid_input on the samples axis or
  /// when the context's shape differs from earlier updates.
  template <class Method>
  void update(const transform_context<T, Method>& ctx);

  /// y = (z − mean) Wᵀ per group, into out (N×D). @throws invalid_input before any update or
  /// for a D that differs from the statistics'.
  void apply(embedding_cref<T> z, embedding_ref<T> out) const;

  [[nodiscard]] bool empty() const noexcept { return transforms_.empty(); }
  [[nodiscard]] const vector<T>& mean() const noexcept { return mean_; }
  [[nodiscard]] const std::vector<matrix<T>>& transforms() const noexcept { return transforms_; }

 private:
  double momentum_;
  vector<T> mean_;
  std::vector<matrix<T>> transforms_;
};

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T>
template <class Method>
void running_statistics<T>::update(const transform_context<T, Method>& ctx) {
  SPECTRAL_EXPECTS(ctx.opts.axis == axis::features,
                   "ctx: running statistics need the features axis, got the samples axis (its "
                   "N×N transform depends on the batch)");
  SPECTRAL_EXPECTS(!ctx.empty(), "ctx: the context is empty (forward was not called)");
  // Every W first (transform_matrix may recompute one, and may throw), then the update, so a
  // failure leaves the statistics as they were.
  std::vector<matrix<T>> incoming;
  const auto groups = static_cast<std::size_t>(ctx.opts.groups);
  for (std::size_t g = 0; g < groups; ++g) {
    incoming.push_back(transform_matrix(ctx, static_cast<index_t>(g)));
  }
  if (transforms_.empty()) {
    mean_ = ctx.feature_mean();
    transforms_ = std::move(incoming);
    return;
  }
  SPECTRAL_EXPECTS(ctx.feature_mean().size() == mean_.size() && groups == transforms_.size(),
                   "ctx: has D=", ctx.feature_mean().size(), " in ", groups,
                   " groups, the statistics have D=", mean_.size(), " in ", transforms_.size());
  const T keep = static_cast<T>(1.0 - momentum_);
  const T take = static_cast<T>(momentum_);
  mean_ = keep * mean_ + take * ctx.feature_mean();
  for (std::size_t g = 0; g < transforms_.size(); ++g) {
    transforms_[g] = keep * transforms_[g] + take * incoming[g];
  }
}

template <real_scalar T>
void running_statistics<T>::apply(embedding_cref<T> z, embedding_ref<T> out) const {
  SPECTRAL_EXPECTS(!transforms_.empty(), "running_statistics: apply() before any update()");
  SPECTRAL_EXPECTS(z.cols() == mean_.size(), "z: has D=", z.cols(), " features, the statistics ",
                   "were collected for D=", mean_.size());
  detail::expect_shape(out, z.rows(), z.cols(), "out");
  detail::expect_finite(z, "z");
  const index_t width = mean_.size() / static_cast<index_t>(transforms_.size());
  for (std::size_t g = 0; g < transforms_.size(); ++g) {
    const index_t first = static_cast<index_t>(g) * width;
    out.middleCols(first, width).noalias() =
        (z.middleCols(first, width).rowwise() - mean_.segment(first, width).transpose()) *
        transforms_[g].transpose();
  }
}

}  // namespace spectral
