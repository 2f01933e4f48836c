// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels over `count` K×K column-major matrices stored back to back (stride K²): the G groups
// of one transform, handled in one launch each.

#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cstdint>

namespace spectral::cuda::detail {

/// a = diagonal · I for every matrix.
template <class T>
__global__ void fill_scaled_identity_kernel(T* a, std::int64_t k, std::int64_t count, T diagonal) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t r = idx % area;
    a[idx] = (r % k == r / k) ? diagonal : T(0);
  }
}

/// out = alpha · x + beta · y (flat).
template <class T>
__global__ void axpby_kernel(std::int64_t n, T alpha, const T* x, T beta, const T* y, T* out) {
  for (std::int64_t idx = global_thread(); idx < n; idx += grid_threads()) {
    out[idx] = alpha * x[idx] + beta * y[idx];
  }
}

/// out = alpha · (a + aᵀ), every matrix; exactly symmetric. `out` may be `a`: the thread that
/// owns (i, j), i ≤ j, reads and writes both entries.
template <class T>
__global__ void symmetrize_kernel(const T* a, T alpha, T* out, std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t base = (idx / area) * area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    if (i <= j) {
      const T v = alpha * (a[base + i + j * k] + a[base + j + i * k]);
      out[base + i + j * k] = v;
      out[base + j + i * k] = v;
    }
  }
}

/// Copies the lower triangle onto the upper one (results of products known to be symmetric).
template <class T>
__global__ void mirror_lower_kernel(T* a, std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t base = (idx / area) * area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    if (i < j) {
      a[base + i + j * k] = a[base + j + i * k];
    }
  }
}

/// Zeroes the strict upper triangle (cuSOLVER's potrf leaves the input there).
template <class T>
__global__ void zero_upper_kernel(T* a, std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t r = idx % area;
    if (r % k < r / k) {
      a[idx] = T(0);
    }
  }
}

/// One block per matrix: trace[b] = Σ_i a_b(i, i), summed in double.
template <class T>
__global__ void batched_trace_kernel(const T* a, std::int64_t k, T* trace) {
  const std::int64_t b = blockIdx.x;
  double sum = 0.0;
  for (std::int64_t i = threadIdx.x; i < k; i += blockDim.x) {
    sum += static_cast<double>(a[b * k * k + i * (k + 1)]);
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) {
    trace[b] = static_cast<T>(sum);
  }
}

/// One block per matrix: out[b] = ⟨a_b, b_b⟩ (Frobenius), summed in double.
template <class T>
__global__ void batched_dot_kernel(const T* a, const T* b, std::int64_t size, T* out) {
  const std::int64_t m = blockIdx.x;
  double sum = 0.0;
  for (std::int64_t i = threadIdx.x; i < size; i += blockDim.x) {
    sum += static_cast<double>(a[m * size + i]) * static_cast<double>(b[m * size + i]);
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) {
    out[m] = static_cast<T>(sum);
  }
}

/// Flags groups whose covariance trace (eps removed) is no larger than the rounding noise that
/// centring leaves in a constant input: K·(4ε·max|z|)² (the CPU backend's rule).
template <class T>
__global__ void check_not_constant_kernel(const T* trace, const T* max_abs, double eps,
                                          double unit_roundoff, std::int64_t k, std::int64_t count,
                                          device_status* status) {
  for (std::int64_t b = global_thread(); b < count; b += grid_threads()) {
    const double noise = 4.0 * unit_roundoff * static_cast<double>(max_abs[b]);
    const double floor = static_cast<double>(k) * noise * noise;
    const double t = static_cast<double>(trace[b]) - static_cast<double>(k) * eps;
    if (!(t > floor)) {
      report(status, status_constant_input, static_cast<int>(b), t, floor);
    }
  }
}

/// Fills an array of per-matrix pointers for the pointer-array cuBLAS/cuSOLVER APIs.
template <class T>
__global__ void pointer_array_kernel(T* base, std::int64_t stride, std::int64_t count, T** out) {
  for (std::int64_t b = global_thread(); b < count; b += grid_threads()) {
    out[b] = base + b * stride;
  }
}

}  // namespace spectral::cuda::detail
