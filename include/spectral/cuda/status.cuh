// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The device side of the status word: device_status and check_status(), which reads one back
/// and throws what it records.

#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/cuda/error.cuh>

#include <string_view>

#include <cuda_runtime.h>

namespace spectral::cuda {

/**
 * @brief The device status word a context carries: kernels record problems here instead of
 *        the host synchronising after every step. It is the core `status_word`
 *        (core/status.hpp), so the CUDA backend, the CPU backend and the algorithm written
 *        against `batched_backend` share one layout, one set of flags and one message per flag.
 */
using device_status = spectral::status_word;

// The flags under the names the CUDA code has always used (spectral::cuda::status_...).
using spectral::status_constant_input;
using spectral::status_flag;
using spectral::status_flag_count;
using spectral::status_nonfinite_grad_in;
using spectral::status_nonfinite_gradient;
using spectral::status_nonfinite_input;
using spectral::status_nonfinite_output;
using spectral::status_not_positive_definite;
using spectral::status_solver_failed;
using spectral::status_trace_not_positive;

namespace detail {
// report() (host and device: atomicOr on the device), slot_of() and throw_status() are the
// core's; these declarations keep the kernels' unqualified `report(...)` and the
// `detail::throw_status(...)` callers working unchanged.
using spectral::throw_status;
using spectral::detail::report;
using spectral::detail::slot_of;
}  // namespace detail

/**
 * @brief Copies a status word to the host (synchronising `stream`) and throws what it records.
 * @throws invalid_input for non-finite inputs, numerical_error for numerical failures.
 */
inline void check_status(const device_status* d_status,
                         cudaStream_t stream,
                         std::string_view method) {
  device_status h_status{};
  SPECTRAL_CUDA_TRY(
      cudaMemcpyAsync(&h_status, d_status, sizeof(h_status), cudaMemcpyDeviceToHost, stream));
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream));
  if (h_status.flags != 0U) {
    spectral::throw_status(h_status, method);
  }
}

}  // namespace spectral::cuda
