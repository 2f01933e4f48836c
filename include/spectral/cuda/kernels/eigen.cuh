// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels around the batched eigensolver and the Cholesky factorisation.

#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cstdint>

namespace spectral::cuda::detail {

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

}  // namespace spectral::cuda::detail
