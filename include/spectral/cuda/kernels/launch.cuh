// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/cuda/error.cuh>

#include <algorithm>
#include <cstdint>

#include <cuda_runtime.h>

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

}  // namespace spectral::cuda::detail
