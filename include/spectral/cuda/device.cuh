// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Whether a CUDA device is usable: device_count() and require_device().

#include <spectral/cuda/error.cuh>

#include <cuda_runtime.h>

namespace spectral::cuda {

/// Number of usable CUDA devices; 0 when there is no GPU or no driver (never throws).
[[nodiscard]] inline int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return count;
}

/// @throws cuda_error with the runtime's reason when no CUDA device can be used.
inline void require_device() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    throw cuda_error(spectral::detail::concat(
        "no CUDA device is available (cudaGetDeviceCount: ",
        status == cudaSuccess ? "0 devices" : cudaGetErrorString(status),
        "); the spectral::cuda backend needs a GPU, use spectral::cpu::backend instead"));
  }
}

}  // namespace spectral::cuda
