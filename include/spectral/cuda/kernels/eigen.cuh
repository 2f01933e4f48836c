// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels around the batched eigensolver and the Cholesky factorisation.

#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cstdint>

namespace spectral::cuda::detail {

/// One warp per eigenvector: flips it so that its largest-magnitude entry (the first one on a
/// tie, as the CPU backend picks) is positive; the convention that makes PCA reproducible.
template <class T>
__global__ void fix_eigenvector_signs_kernel(T* vectors, std::int64_t k, std::int64_t columns) {
  const int lane = static_cast<int>(threadIdx.x) % warp_threads;
  const std::int64_t warps = grid_threads() / warp_threads;
  for (std::int64_t column = global_thread() / warp_threads; column < columns; column += warps) {
    T* u = vectors + column * k;
    T best = T(-1);
    std::int64_t best_index = 0;
    for (std::int64_t i = lane; i < k; i += warp_threads) {
      const T magnitude = u[i] < T(0) ? -u[i] : u[i];
      if (magnitude > best) {
        best = magnitude;
        best_index = i;
      }
    }
    for (int offset = warp_threads / 2; offset > 0; offset /= 2) {
      const T other = __shfl_xor_sync(0xffffffffU, best, offset);
      const auto other_index = __shfl_xor_sync(0xffffffffU, best_index, offset);
      if (other > best || (other == best && other_index < best_index)) {
        best = other;
        best_index = other_index;
      }
    }
    const bool flip = u[best_index] < T(0);
    __syncwarp();
    if (flip) {
      for (std::int64_t i = lane; i < k; i += warp_threads) {
        u[i] = -u[i];
      }
    }
  }
}

/// Turns cuSOLVER's per-matrix info into the status word (a template only so that the header
/// can be included by several translation units).
template <class Info>
__global__ void solver_info_kernel(const Info* info, std::int64_t count, device_status* status) {
  for (std::int64_t b = global_thread(); b < count; b += grid_threads()) {
    if (info[b] != 0) {
      report(status, status_solver_failed, static_cast<int>(b), static_cast<double>(info[b]), 0.0);
    }
  }
}

/// Positive-definiteness of ascending eigenvalues: smallest > K·ε·largest (the CPU rule).
template <class T>
__global__ void check_positive_definite_kernel(const T* ascending, std::int64_t k,
                                               std::int64_t count, double unit_roundoff,
                                               device_status* status) {
  for (std::int64_t b = global_thread(); b < count; b += grid_threads()) {
    const double smallest = static_cast<double>(ascending[b * k]);
    const double largest = static_cast<double>(ascending[b * k + k - 1]);
    const double floor = static_cast<double>(k) * unit_roundoff * fmax(largest, 0.0);
    if (!(largest > 0.0) || !(smallest > floor)) {
      report(status, status_not_positive_definite, static_cast<int>(b), smallest, floor);
    }
  }
}

/// One block per matrix: the largest diagonal entry (before factorisation).
template <class T>
__global__ void batched_max_diagonal_kernel(const T* a, std::int64_t k, T* out) {
  const std::int64_t b = blockIdx.x;
  __shared__ double partial[block_threads];
  double largest = -1.0e308;
  for (std::int64_t i = threadIdx.x; i < k; i += blockDim.x) {
    largest = fmax(largest, static_cast<double>(a[b * k * k + i * (k + 1)]));
  }
  partial[threadIdx.x] = largest;
  __syncthreads();
  for (unsigned step = blockDim.x / 2; step > 0; step /= 2) {
    if (threadIdx.x < step) {
      partial[threadIdx.x] = fmax(partial[threadIdx.x], partial[threadIdx.x + step]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    out[b] = static_cast<T>(partial[0]);
  }
}

/// Cholesky pivots: the smallest L_ii² must exceed K·ε·max Σ_ii (the CPU rule).
template <class T>
__global__ void check_cholesky_kernel(const T* lower, const T* largest_diagonal, const int* info,
                                      std::int64_t k, std::int64_t count, double unit_roundoff,
                                      device_status* status) {
  for (std::int64_t b = global_thread(); b < count; b += grid_threads()) {
    double smallest = 1.0e308;
    for (std::int64_t i = 0; i < k; ++i) {
      const double pivot = static_cast<double>(lower[b * k * k + i * (k + 1)]);
      smallest = fmin(smallest, pivot * pivot);
    }
    const double largest = static_cast<double>(largest_diagonal[b]);
    const double floor = static_cast<double>(k) * unit_roundoff * largest;
    if (info[b] != 0) {
      smallest = 0.0;
    }
    if (!(largest > 0.0) || !(smallest > floor)) {
      report(status, status_not_positive_definite, static_cast<int>(b), smallest, floor);
    }
  }
}

}  // namespace spectral::cuda::detail
