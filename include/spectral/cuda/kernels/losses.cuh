// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels of INTL's losses. Per-row terms go to a buffer and are summed by one block, so the
// value is deterministic (no floating-point atomics).

#include <spectral/cuda/kernels/launch.cuh>

#include <cstdint>
#include <type_traits>

namespace spectral::cuda::detail {

/// Trace loss, samples axis: row n's variance over its D entries, d_n; excess[n] = d_n − 1; and
/// grad[n, :] += scale · 4 (d_n − 1)(y_n − ȳ_n)/(D − 1). One warp per row.
template <class T>
__global__ void trace_loss_rows_kernel(const T* y, std::int64_t rows, std::int64_t cols,
                                       std::int64_t stride, T* excess, T* grad,
                                       std::int64_t grad_stride, T scale) {
  const std::int64_t lane = threadIdx.x % warp_threads;
  const std::int64_t warps = grid_threads() / warp_threads;
  for (std::int64_t row = global_thread() / warp_threads; row < rows; row += warps) {
    const T* y_row = y + row * stride;
    double sum = 0.0;
    for (std::int64_t c = lane; c < cols; c += warp_threads) {
      sum += static_cast<double>(y_row[c]);
    }
    const double mean = warp_sum(sum) / static_cast<double>(cols);
    double squares = 0.0;
    for (std::int64_t c = lane; c < cols; c += warp_threads) {
      const double centered = static_cast<double>(y_row[c]) - mean;
      squares += centered * centered;
    }
    const double e = warp_sum(squares) / static_cast<double>(cols - 1) - 1.0;
    if (lane == 0) {
      excess[row] = static_cast<T>(e);
    }
    if (grad != nullptr) {
      const double factor = static_cast<double>(scale) * 4.0 * e / static_cast<double>(cols - 1);
      for (std::int64_t c = lane; c < cols; c += warp_threads) {
        grad[row * grad_stride + c] += static_cast<T>(factor * (static_cast<double>(y_row[c]) - mean));
      }
    }
  }
}

/// Trace loss, features axis: column j's variance over the N rows (one thread per column).
template <class T>
__global__ void trace_loss_columns_kernel(const T* y, std::int64_t rows, std::int64_t cols,
                                          std::int64_t stride, T* excess, T* grad,
                                          std::int64_t grad_stride, T scale) {
  for (std::int64_t j = global_thread(); j < cols; j += grid_threads()) {
    double sum = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      sum += static_cast<double>(y[i * stride + j]);
    }
    const double mean = sum / static_cast<double>(rows);
    double squares = 0.0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const double centered = static_cast<double>(y[i * stride + j]) - mean;
      squares += centered * centered;
    }
    const double e = squares / static_cast<double>(rows - 1) - 1.0;
    excess[j] = static_cast<T>(e);
    if (grad != nullptr) {
      const double factor = static_cast<double>(scale) * 4.0 * e / static_cast<double>(rows - 1);
      for (std::int64_t i = 0; i < rows; ++i) {
        grad[i * grad_stride + j] +=
            static_cast<T>(factor * (static_cast<double>(y[i * stride + j]) - mean));
      }
    }
  }
}

/// Normalised MSE per row: cosine[n] = ⟨a_n/‖a_n‖, b_n/‖b_n‖⟩ (norms clamped at 1e-12 as
/// F.normalize), and grad_a[n] += scale · (−(2/N)(v_n − cos·u_n)/‖a_n‖) (likewise grad_b);
/// on a clamped row the projection term vanishes. One warp per row.
template <class T>
__global__ void normalized_mse_rows_kernel(const T* a, std::int64_t a_stride, const T* b,
                                           std::int64_t b_stride, std::int64_t rows,
                                           std::int64_t cols, T* cosine, T* grad_a,
                                           std::int64_t grad_a_stride, T* grad_b,
                                           std::int64_t grad_b_stride, T scale) {
  constexpr double min_norm = 1e-12;
  const std::int64_t lane = threadIdx.x % warp_threads;
  const std::int64_t warps = grid_threads() / warp_threads;
  const double two_over_n = 2.0 / static_cast<double>(rows);
  for (std::int64_t row = global_thread() / warp_threads; row < rows; row += warps) {
    const T* a_row = a + row * a_stride;
    const T* b_row = b + row * b_stride;
    double aa = 0.0;
    double bb = 0.0;
    double ab = 0.0;
    for (std::int64_t c = lane; c < cols; c += warp_threads) {
      const double x = static_cast<double>(a_row[c]);
      const double y = static_cast<double>(b_row[c]);
      aa += x * x;
      bb += y * y;
      ab += x * y;
    }
    const double norm_a = fmax(sqrt(warp_sum(aa)), min_norm);
    const double norm_b = fmax(sqrt(warp_sum(bb)), min_norm);
    const double cos = warp_sum(ab) / (norm_a * norm_b);
    if (lane == 0) {
      cosine[row] = static_cast<T>(cos);
    }
    const double s = static_cast<double>(scale) * two_over_n;
    const double keep_a = norm_a > min_norm ? cos : 0.0;
    const double keep_b = norm_b > min_norm ? cos : 0.0;
    for (std::int64_t c = lane; c < cols; c += warp_threads) {
      const double u = static_cast<double>(a_row[c]) / norm_a;
      const double v = static_cast<double>(b_row[c]) / norm_b;
      if (grad_a != nullptr) {
        grad_a[row * grad_a_stride + c] += static_cast<T>(-s * (v - keep_a * u) / norm_a);
      }
      if (grad_b != nullptr) {
        grad_b[row * grad_b_stride + c] += static_cast<T>(-s * (u - keep_b * v) / norm_b);
      }
    }
  }
}

/// One block: value = offset + factor · Σ_i term(x_i), term = x² (squares) or x.
template <class T>
__global__ void reduce_terms_kernel(const T* x, std::int64_t count, bool squares, double offset,
                                    double factor, T* value) {
  double sum = 0.0;
  for (std::int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    const double v = static_cast<double>(x[i]);
    sum += squares ? v * v : v;
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) {
    *value = static_cast<T>(offset + factor * sum);
  }
}

}  // namespace spectral::cuda::detail
