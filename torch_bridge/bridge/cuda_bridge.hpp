// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CUDA half of the bridge, behind a plain C++ interface: bridge/cuda_bridge.cu (nvcc)
/// runs the library's CUDA transform; spectral_function.hpp (g++, LibTorch) hands it device
/// pointers, the current stream and LibTorch's caching allocator. Neither side sees the other's
/// headers, so the CUDA code never compiles LibTorch and LibTorch never compiles kernels.

#include "bridge/transform_spec.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace spectral::torch_bridge::cuda_bridge {

/// Device memory for contexts and workspaces; the bridge passes LibTorch's caching allocator
/// so the transform shares the framework's pool instead of holding a second one.
struct device_allocator {
  void* (*allocate)(std::size_t bytes, void* stream) = nullptr;
  void (*deallocate)(void* pointer) noexcept = nullptr;
};

enum class precision { f32, f64 };

/// What forward saved for backward (the transform and its context, in device memory).
class saved_forward {
 public:
  saved_forward() = default;
  saved_forward(const saved_forward&) = delete;
  saved_forward& operator=(const saved_forward&) = delete;
  virtual ~saved_forward() = default;
  /// ∂⟨G, Y⟩/∂Z into grad_in (N×D, contiguous, the forward's precision), on `stream`.
  virtual void backward(const void* grad_out, void* grad_in, void* stream) const = 0;
};

/**
 * @brief Y = ST(Z) on the GPU for a contiguous row-major N×D device array, on `stream`
 *        (a cudaStream_t). The transform object (cuBLAS/cuSOLVER handles) is cached per spec,
 *        precision and device.
 * @throws invalid_input / numerical_error / cuda_error as spectral_transform<…, cuda::backend>
 */
[[nodiscard]] std::shared_ptr<const saved_forward> forward(const transform_spec& spec,
                                                           precision type,
                                                           const void* z,
                                                           void* out,
                                                           std::int64_t rows,
                                                           std::int64_t cols,
                                                           void* stream,
                                                           device_allocator memory);

/**
 * @brief Waits for every device this process ran a transform on and throws what the calls made
 *        with `cuda_sync_check` off recorded since the last check (the first problem in the
 *        library's fixed order, naming the methods involved); then clears the record.
 * @throws invalid_input for non-finite inputs or gradients, numerical_error for numerical
 *         failures, cuda_error for a failed synchronisation
 */
void check_pending();

}  // namespace spectral::torch_bridge::cuda_bridge
