// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/cuda/error.cuh>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace spectral::cuda::detail {

inline constexpr int block_threads = 256;
inline constexpr int warp_threads = 32;

/// Blocks for a grid-stride loop over `work` items (capped: the loops cover the rest).
[[nodiscard]] inline unsigned grid_blocks(std::int64_t work) {
  const std::int64_t blocks = (work + block_threads - 1) / block_threads;
  return static_cast<unsigned>(std::clamp<std::int64_t>(blocks, 1, std::int64_t{1} << 20));
}

/// Launch-error check after every kernel (cheap: no synchronisation).
inline void check_launch(const char* kernel) {
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    throw_cuda(kernel, status, __FILE__, __LINE__);
  }
}

/// Grid-stride loop index helpers.
__device__ inline std::int64_t global_thread() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline std::int64_t grid_threads() {
  return static_cast<std::int64_t>(gridDim.x) * blockDim.x;
}

/// Sum of `value` over the block, in double (every thread gets the result).
__device__ inline double block_sum(double value) {
  __shared__ double partial[block_threads / warp_threads];
  for (int offset = warp_threads / 2; offset > 0; offset /= 2) {
    value += __shfl_down_sync(0xffffffffU, value, offset);
  }
  const int lane = static_cast<int>(threadIdx.x) % warp_threads;
  const int warp = static_cast<int>(threadIdx.x) / warp_threads;
  if (lane == 0) {
    partial[warp] = value;
  }
  __syncthreads();
  double total = 0.0;
  for (int w = 0; w < static_cast<int>(blockDim.x) / warp_threads; ++w) {
    total += partial[w];
  }
  __syncthreads();  // partial may be reused by the next call
  return total;
}

/// Sum over a warp (every lane gets the result).
__device__ inline double warp_sum(double value) {
  for (int offset = warp_threads / 2; offset > 0; offset /= 2) {
    value += __shfl_xor_sync(0xffffffffU, value, offset);
  }
  return value;
}

/// Maximum over a warp (every lane gets the result).
__device__ inline double warp_max(double value) {
  for (int offset = warp_threads / 2; offset > 0; offset /= 2) {
    value = fmax(value, __shfl_xor_sync(0xffffffffU, value, offset));
  }
  return value;
}

/// atomicMax for non-negative floating point values (their bit patterns order like integers).
__device__ inline void atomic_max_nonnegative(float* address, float value) {
  atomicMax(reinterpret_cast<int*>(address), __float_as_int(value));
}
__device__ inline void atomic_max_nonnegative(double* address, double value) {
  atomicMax(reinterpret_cast<unsigned long long*>(address),
            static_cast<unsigned long long>(__double_as_longlong(value)));
}

}  // namespace spectral::cuda::detail
