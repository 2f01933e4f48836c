// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cstdint>

namespace spectral::cuda::detail {

/// Features axis: out = in − column means (over the N rows). One thread per column, so reads
/// and writes of a row are coalesced across the warp. Optionally records the column means, the
/// largest |in| per group of `group_width` columns, and non-finite entries.
template <class T>
__global__ void center_features_kernel(const T* in, std::int64_t rows, std::int64_t cols,
                                       std::int64_t in_stride, T* out, std::int64_t out_stride,
                                       T* mean, T* group_max_abs, std::int64_t group_width,
                                       device_status* status, unsigned nonfinite_flag) {
  for (std::int64_t j = global_thread(); j < cols; j += grid_threads()) {
    double sum = 0.0;
    double largest = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const double v = static_cast<double>(in[i * in_stride + j]);
      if (status != nullptr && !isfinite(v)) {
        report(status, nonfinite_flag, static_cast<int>(j / group_width), v, 0.0);
      }
      sum += v;
      largest = fmax(largest, fabs(v));  // fmax drops NaN
    }
    const double average = sum / static_cast<double>(rows);
    for (std::int64_t i = 0; i < rows; ++i) {
      out[i * out_stride + j] = static_cast<T>(static_cast<double>(in[i * in_stride + j]) - average);
    }
    if (mean != nullptr) {
      mean[j] = static_cast<T>(average);
    }
    if (group_max_abs != nullptr) {
      atomic_max_nonnegative(&group_max_abs[j / group_width], static_cast<T>(largest));
    }
  }
}

/// Samples axis: each row's block of `width` columns (one per group) loses its own mean. One
/// warp per (row, group); lanes stride the block so the warp reads contiguous memory.
template <class T>
__global__ void center_samples_kernel(const T* in, std::int64_t rows, std::int64_t groups,
                                      std::int64_t width, std::int64_t in_stride, T* out,
                                      std::int64_t out_stride, T* group_max_abs,
                                      device_status* status, unsigned nonfinite_flag) {
  const std::int64_t lane = threadIdx.x % warp_threads;
  const std::int64_t warps = grid_threads() / warp_threads;
  for (std::int64_t task = global_thread() / warp_threads; task < rows * groups; task += warps) {
    const std::int64_t row = task / groups;
    const std::int64_t group = task % groups;
    const T* source = in + row * in_stride + group * width;
    T* target = out + row * out_stride + group * width;
    double sum = 0.0;
    double largest = 0.0;
    for (std::int64_t c = lane; c < width; c += warp_threads) {
      const double v = static_cast<double>(source[c]);
      if (status != nullptr && !isfinite(v)) {
        report(status, nonfinite_flag, static_cast<int>(group), v, 0.0);
      }
      sum += v;
      largest = fmax(largest, fabs(v));
    }
    const double average = warp_sum(sum) / static_cast<double>(width);
    largest = warp_max(largest);
    for (std::int64_t c = lane; c < width; c += warp_threads) {
      target[c] = static_cast<T>(static_cast<double>(source[c]) - average);
    }
    if (lane == 0 && group_max_abs != nullptr) {
      atomic_max_nonnegative(&group_max_abs[group], static_cast<T>(largest));
    }
  }
}

/// Records the first non-finite entry of an N×D strided matrix (grid-stride over entries).
template <class T>
__global__ void check_finite_kernel(const T* a, std::int64_t rows, std::int64_t cols,
                                    std::int64_t stride, std::int64_t group_width,
                                    device_status* status, unsigned flag) {
  for (std::int64_t idx = global_thread(); idx < rows * cols; idx += grid_threads()) {
    const std::int64_t i = idx / cols;
    const std::int64_t j = idx % cols;
    const double v = static_cast<double>(a[i * stride + j]);
    if (!isfinite(v)) {
      report(status, flag, static_cast<int>(j / group_width), v, 0.0);
    }
  }
}

}  // namespace spectral::cuda::detail
