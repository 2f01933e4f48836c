// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/kernels/batched.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/spectral_transform.cuh>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace spectral::cuda {

/**
 * @brief The CPU's running_statistics (core/running_statistics.hpp) on device memory: EMAs of
 *        the batch mean and of each group's W, so a transform serves as a layer at inference:
 *        y = (z − mean) Wᵀ per group. Features axis only. Move-only; one per stream.
 */
template <real_scalar T>
class running_statistics {
 public:
  /// @throws invalid_input unless 0 < momentum ≤ 1.
  explicit running_statistics(double momentum = 0.1,
                              memory_resource memory = stream_ordered_resource())
      : momentum_(momentum), backend_(memory) {
    SPECTRAL_EXPECTS(std::isfinite(momentum) && momentum > 0.0 && momentum <= 1.0,
                     "momentum: must be in (0, 1], got ", momentum);
  }

  /// Folds one forward pass's batch statistics in (the first update copies them).
  template <class Method>
  void update(const transform_context<T, Method>& ctx, cudaStream_t stream = nullptr);

  /// y = (z − mean) Wᵀ per group, into out (N×D). @throws invalid_input before any update.
  void apply(embedding_view<const T> z, embedding_view<T> out, cudaStream_t stream = nullptr);

  [[nodiscard]] bool empty() const noexcept { return transforms_.empty(); }
  [[nodiscard]] std::int64_t features() const noexcept { return features_; }
  [[nodiscard]] std::int64_t groups() const noexcept { return groups_; }
  /// Device pointers: D means; G column-major K×K matrices back to back.
  [[nodiscard]] const T* mean() const noexcept { return mean_.data(); }
  [[nodiscard]] const T* transforms() const noexcept { return transforms_.data(); }

 private:
  double momentum_;
  backend backend_;
  std::int64_t features_ = 0;
  std::int64_t groups_ = 0;
  device_buffer<T> mean_;
  device_buffer<T> transforms_;
};

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T>
template <class Method>
void running_statistics<T>::update(const transform_context<T, Method>& ctx, cudaStream_t stream) {
  SPECTRAL_EXPECTS(ctx.opts.axis == axis::features,
                   "ctx: running statistics need the features axis, got the samples axis (its "
                   "N×N transform depends on the batch)");
  SPECTRAL_EXPECTS(!ctx.empty(), "ctx: the context is empty (forward was not called)");
  backend_.bind(stream);
  const std::int64_t d = ctx.cols();
  const std::int64_t groups = ctx.opts.groups;
  const std::int64_t k = d / groups;
  if (!transforms_.empty()) {
    SPECTRAL_EXPECTS(d == features_ && groups == groups_, "ctx: has D=", d, " in ", groups,
                     " groups, the statistics have D=", features_, " in ", groups_);
  }
  // Every group's K×K W, also for groups solved on the smaller side (the M×M W̃ is no EMA term).
  auto incoming = backend_.allocate<T>(k * k * groups);
  const primitives<backend, T> p{backend_};
  spectral::detail::transform_matrices(p, ctx, dense_batch(incoming.data(), k, k, groups));
  if (transforms_.empty()) {
    features_ = d;
    groups_ = groups;
    mean_ = backend_.allocate<T>(d);
    SPECTRAL_CUDA_TRY(cudaMemcpyAsync(mean_.data(), ctx.feature_mean_data.data(),
                                      mean_.size() * sizeof(T), cudaMemcpyDeviceToDevice, stream));
    transforms_ = std::move(incoming);
    return;
  }
  const T keep = static_cast<T>(1.0 - momentum_);
  const T take = static_cast<T>(momentum_);
  detail::launch(backend_, "axpby_kernel", static_cast<std::int64_t>(mean_.size()),
                 detail::axpby_kernel<T>, static_cast<std::int64_t>(mean_.size()), keep,
                 static_cast<const T*>(mean_.data()), take, ctx.feature_mean_data.data(),
                 mean_.data());
  detail::launch(backend_, "axpby_kernel", static_cast<std::int64_t>(transforms_.size()),
                 detail::axpby_kernel<T>, static_cast<std::int64_t>(transforms_.size()), keep,
                 static_cast<const T*>(transforms_.data()), take,
                 static_cast<const T*>(incoming.data()), transforms_.data());
}

namespace detail {
/// out[i, j] = z[i, j] − mean[j] (compact output).
template <class T>
__global__ void subtract_mean_kernel(const T* z, std::int64_t rows, std::int64_t cols,
                                     std::int64_t stride, const T* mean, T* out) {
  for (std::int64_t idx = global_thread(); idx < rows * cols; idx += grid_threads()) {
    const std::int64_t i = idx / cols;
    const std::int64_t j = idx % cols;
    out[idx] = z[i * stride + j] - mean[j];
  }
}
}  // namespace detail

template <real_scalar T>
void running_statistics<T>::apply(embedding_view<const T> z, embedding_view<T> out,
                                  cudaStream_t stream) {
  SPECTRAL_EXPECTS(!transforms_.empty(), "running_statistics: apply() before any update()");
  SPECTRAL_EXPECTS(z.cols == features_, "z: has D=", z.cols, " features, the statistics were ",
                   "collected for D=", features_);
  detail::expect_view(z, z.rows, z.cols, "z");
  detail::expect_view(out, z.rows, z.cols, "out");
  backend_.bind(stream);
  const std::int64_t n = z.rows;
  const std::int64_t d = z.cols;
  const std::int64_t k = d / groups_;
  auto centered = backend_.allocate<T>(static_cast<std::size_t>(n * d));
  detail::launch(backend_, "subtract_mean_kernel", n * d, detail::subtract_mean_kernel<T>, z.data,
                 n, d, z.row_stride, static_cast<const T*>(mean_.data()), centered.data());
  // Per group, the output block (K×N, column-major view of the N×D rows) is W times Z_cᵀ's.
  const batch<const T> w{transforms_.data(), k, k, k, k * k, groups_};
  const batch<const T> blocks{centered.data(), k, n, d, k, groups_};
  backend_.gemm<T>(op::none, op::none, T(1), w, blocks, T(0),
                   batch<T>{out.data, k, n, out.row_stride, k, groups_});
}

}  // namespace spectral::cuda
