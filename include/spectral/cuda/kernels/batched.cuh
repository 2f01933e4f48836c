// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels over `count` K×K column-major matrices stored back to back (stride K²): the G groups
// of one transform, handled in one launch each.

#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cstdint>

namespace spectral::cuda::detail {

/// out = alpha · x + beta · y (flat).
template <class T>
__global__ void axpby_kernel(std::int64_t n, T alpha, const T* x, T beta, const T* y, T* out) {
  for (std::int64_t idx = global_thread(); idx < n; idx += grid_threads()) {
    out[idx] = alpha * x[idx] + beta * y[idx];
  }
}

}  // namespace spectral::cuda::detail
