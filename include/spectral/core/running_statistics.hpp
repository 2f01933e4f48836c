// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// running_statistics: exponential moving averages of a transform's mean and W, for using a
/// trained transform as an inference layer.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
#include <spectral/detail/checks.hpp>

#include <cmath>
#include <utility>

namespace spectral {

namespace detail {
/// s = keep·s + take·x (the exponential moving average's step).
template <class T>
struct blend_into {
  batch<T> s;
  batch<const T> x;
  T keep;
  T take;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    s(b, i, j) = keep * s(b, i, j) + take * x(b, i, j);
  }
};

/// out = z − mean, with mean[i] the mean of feature i (row i of the D×N columns).
template <class T>
struct subtract_feature_mean {
  batch<const T> z;
  batch<T> out;
  const T* mean;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = z(b, i, j) - mean[i];
  }
};
}  // namespace detail

/**
 * @brief Exponential moving averages of the batch mean and of each group's transform matrix W,
 *        so that a trained transform can serve as a layer at inference (as the IterNorm and
 *        DBN layers do): y = (z − mean) Wᵀ per group, with no matrix function at inference.
 *
 * Only the features axis has statistics that outlive a batch (the samples axis builds an N×N
 * matrix for the batch at hand), so the samples axis is rejected.
 * Update rule: s ← (1 − momentum)·s + momentum·s_batch; the first update copies the batch.
 * Written once for every backend; the statistics live in the backend's memory (CUDA: the
 * device, in stream order; one object per stream).
 */
template <real_scalar T, class Backend = cpu::backend>
class running_statistics {
 public:
  /// The backend's execution stream (CUDA: cudaStream_t; the CPU: std::nullptr_t, unused).
  using stream_type = typename detail::backend_traits<Backend>::stream;

  /// @param momentum     weight of each new batch in the averages, in (0, 1]
  /// @param backend_args what the backend is made from (CUDA: a memory resource)
  /// @throws invalid_input unless 0 < momentum ≤ 1.
  template <class... BackendArgs>
  explicit running_statistics(double momentum = 0.1, BackendArgs&&... backend_args)
      : momentum_(momentum), backend_(std::forward<BackendArgs>(backend_args)...) {
    SPECTRAL_EXPECTS(std::isfinite(momentum) && momentum > 0.0 && momentum <= 1.0,
                     "momentum: must be in (0, 1], got ", momentum);
  }

  /// Folds one forward pass's batch statistics in (every group's K×K W, also for groups solved
  /// on the smaller side). @throws invalid_input on the samples axis or when the context's
  /// shape differs from earlier updates.
  template <class Method>
  void update(const transform_context<T, Method, Backend>& ctx, stream_type stream = {});

  /// y = (z − mean) Wᵀ per group, into out (N×D). @throws invalid_input before any update, for
  /// a D that differs from the statistics' or non-finite z.
  void apply(embedding_cref<T> z,
             embedding_ref<T> out) const requires detail::host_backend<Backend>;
  /// The same on device memory, in stream order.
  void apply(embedding_view<const T> z, embedding_view<T> out, stream_type stream = {}) const
      requires(!detail::host_backend<Backend>);

  /// Whether no update() has happened yet.
  [[nodiscard]] bool empty() const noexcept { return groups_ == 0; }
  /// D, fixed by the first update (0 before).
  [[nodiscard]] index_t features() const noexcept { return features_; }
  /// The number of groups G, fixed by the first update (0 before).
  [[nodiscard]] index_t groups() const noexcept { return groups_; }

  /// The D running means (host memory).
  [[nodiscard]] Eigen::Map<const vector<T>> mean() const requires detail::host_backend<Backend> {
    return {mean_.data(), features_};
  }
  /// Group `group`'s K×K running W (host memory). @throws invalid_input for a group out of range.
  [[nodiscard]] Eigen::Map<const matrix<T>> transform(
      index_t group) const requires detail::host_backend<Backend> {
    SPECTRAL_EXPECTS(group >= 0 && group < groups_, "group: must be in [0, ", groups_, "), got ",
                     group);
    const index_t k = features_ / groups_;
    return {transforms_.data() + group * k * k, k, k};
  }
  /// Device pointer to the D running means.
  [[nodiscard]] const T* mean() const noexcept requires(!detail::host_backend<Backend>) {
    return mean_.data();
  }
  /// Device pointer to the G running W, column-major K×K matrices back to back.
  [[nodiscard]] const T* transforms() const noexcept requires(!detail::host_backend<Backend>) {
    return transforms_.data();
  }

 private:
  /// The algorithm of apply on the backend's memory (z, out: the D×N columns).
  void run_apply(batch<const T> z, batch<T> out) const;

  double momentum_;
  mutable Backend backend_;
  index_t features_ = 0;
  index_t groups_ = 0;
  typename Backend::template buffer<T> mean_;
  typename Backend::template buffer<T> transforms_;
};

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T, class Backend>
template <class Method>
void running_statistics<T, Backend>::update(const transform_context<T, Method, Backend>& ctx,
                                            stream_type stream) {
  SPECTRAL_EXPECTS(ctx.opts.axis == axis::features,
                   "ctx: running statistics need the features axis, got the samples axis (its "
                   "N×N transform depends on the batch)");
  SPECTRAL_EXPECTS(!ctx.empty(), "ctx: the context is empty (forward was not called)");
  const index_t d = ctx.cols();
  const index_t groups = ctx.opts.groups;
  const index_t k = d / groups;
  if (!empty()) {
    SPECTRAL_EXPECTS(d == features_ && groups == groups_, "ctx: has D=", d, " in ", groups,
                     " groups, the statistics have D=", features_, " in ", groups_);
  }
  if constexpr (!detail::host_backend<Backend>) {
    backend_.bind(stream);
  } else {
    (void)stream;
  }
  const primitives<Backend, T> p{backend_};
  // Every W first, then the update, so that a failure leaves the statistics as they were.
  auto incoming = p.allocate(k * k * groups);
  const batch<T> w = dense_batch(incoming.data(), k, k, groups);
  detail::transform_matrices(p, ctx, w);
  const batch<const T> batch_mean = ctx.feature_means();
  if (empty()) {
    auto mean = p.allocate(d);
    p.for_each(extent::of(batch_mean),
               detail::copy_entries<T>{batch_mean, dense_batch(mean.data(), d, 1, 1)});
    mean_ = std::move(mean);
    transforms_ = std::move(incoming);
    features_ = d;
    groups_ = groups;
    return;
  }
  const T keep = static_cast<T>(1.0 - momentum_);
  const T take = static_cast<T>(momentum_);
  p.for_each(extent::of(batch_mean),
             detail::blend_into<T>{dense_batch(mean_.data(), d, 1, 1), batch_mean, keep, take});
  p.for_each(extent::of(w),
             detail::blend_into<T>{dense_batch(transforms_.data(), k, k, groups), w, keep, take});
}

template <real_scalar T, class Backend>
void running_statistics<T, Backend>::run_apply(batch<const T> z, batch<T> out) const {
  const primitives<Backend, T> p{backend_};
  const index_t d = z.rows;
  const index_t n = z.cols;
  const index_t k = d / groups_;
  auto centered = p.allocate(d * n);
  const batch<T> zc = dense_batch(centered.data(), d, n, 1);
  p.for_each(extent::of(zc), detail::subtract_feature_mean<T>{z, zc, mean_.data()});
  // Per group, the output block (K×N of the D×N columns) is W times Z_c's block.
  p.gemm(op::none, op::none, T(1),
         dense_batch(static_cast<const T*>(transforms_.data()), k, k, groups_),
         detail::group_blocks(batch<const T>(zc), groups_), T(0),
         detail::group_blocks(out, groups_));
}

template <real_scalar T, class Backend>
void running_statistics<T, Backend>::apply(
    embedding_cref<T> z, embedding_ref<T> out) const requires detail::host_backend<Backend> {
  SPECTRAL_EXPECTS(!empty(), "running_statistics: apply() before any update()");
  SPECTRAL_EXPECTS(z.cols() == features_, "z: has D=", z.cols(), " features, the statistics ",
                   "were collected for D=", features_);
  detail::expect_shape(out, z.rows(), z.cols(), "out");
  detail::expect_finite(z, "z");
  run_apply(detail::columns_of(z), detail::columns_of(out));
}

template <real_scalar T, class Backend>
void running_statistics<T, Backend>::apply(embedding_view<const T> z,
                                           embedding_view<T> out,
                                           stream_type stream) const
    requires(!detail::host_backend<Backend>) {
  SPECTRAL_EXPECTS(!empty(), "running_statistics: apply() before any update()");
  SPECTRAL_EXPECTS(z.cols == features_, "z: has D=", z.cols, " features, the statistics were ",
                   "collected for D=", features_);
  detail::expect_view(z, z.rows, z.cols, "z");
  detail::expect_view(out, z.rows, z.cols, "out");
  backend_.bind(stream);
  run_apply(z.columns(), out.columns());
}

}  // namespace spectral
