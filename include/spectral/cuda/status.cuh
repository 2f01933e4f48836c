// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/cuda/error.cuh>

#include <cuda_runtime.h>

#include <string>
#include <string_view>

namespace spectral::cuda {

/// Reasons a device-side check can fail; several may be set at once.
enum status_flag : unsigned {
  status_nonfinite_input = 1U << 0U,      ///< NaN or Inf in the forward input
  status_nonfinite_gradient = 1U << 1U,   ///< NaN or Inf in grad_out
  status_constant_input = 1U << 2U,       ///< covariance is rounding noise only
  status_not_positive_definite = 1U << 3U,
  status_solver_failed = 1U << 4U,        ///< cuSOLVER info != 0
  status_trace_not_positive = 1U << 5U,   ///< IterNorm: tr Σ <= 0 or not finite
  status_nonfinite_output = 1U << 6U,
};

/**
 * @brief The device status word a context carries: kernels record problems here instead of
 *        the host synchronising after every step. One example (group, value, bound) is kept.
 */
struct device_status {
  unsigned flags;
  int group;
  double value;
  double bound;
};

namespace detail {

/// Records `flag` from device code. The example fields are plain stores: any reporter's values
/// are a valid example, so the race between reporters is harmless.
__device__ inline void report(device_status* status, unsigned flag, int group, double value,
                              double bound) {
  const unsigned before = atomicOr(&status->flags, flag);
  if ((before & flag) == 0U) {
    status->group = group;
    status->value = value;
    status->bound = bound;
  }
}

/// Throws the exception the CPU backend would throw for the same problem.
inline void throw_status(const device_status& s, std::string_view method, std::string_view stage) {
  const auto where = spectral::detail::concat(" [", method, " ", stage, ", group ", s.group, "]");
  if ((s.flags & status_nonfinite_input) != 0U) {
    throw invalid_input(spectral::detail::concat("z: contains NaN or Inf (value ", s.value, ")",
                                                 where));
  }
  if ((s.flags & status_nonfinite_gradient) != 0U) {
    throw invalid_input(spectral::detail::concat("grad_out: contains NaN or Inf (value ", s.value,
                                                 ")", where));
  }
  if ((s.flags & status_constant_input) != 0U) {
    SPECTRAL_FAIL(method, ": z's covariance is zero up to rounding (trace ", s.value,
                  ", rounding floor ", s.bound,
                  "); every observation is identical after centring, nothing to transform", where);
  }
  if ((s.flags & status_trace_not_positive) != 0U) {
    SPECTRAL_FAIL(method, ": the covariance has trace ", s.value,
                  "; every observation is identical after centring", where);
  }
  if ((s.flags & status_solver_failed) != 0U) {
    SPECTRAL_FAIL(method, ": cuSOLVER reported info=", s.value, where);
  }
  if ((s.flags & status_not_positive_definite) != 0U) {
    SPECTRAL_FAIL(method, ": the covariance is singular or not positive definite (smallest ",
                  s.value, ", need > ", s.bound,
                  "); add eps > 0 or use more observations than the covariance size", where);
  }
  if ((s.flags & status_nonfinite_output) != 0U) {
    SPECTRAL_FAIL(method, " ", stage, ": the result contains NaN or Inf (value ", s.value, ")",
                  where);
  }
}

}  // namespace detail

/**
 * @brief Copies a status word to the host (synchronising `stream`) and throws what it records.
 * @throws invalid_input for non-finite inputs, numerical_error for numerical failures.
 */
inline void check_status(const device_status* d_status, cudaStream_t stream,
                         std::string_view method, std::string_view stage) {
  device_status h_status{};
  SPECTRAL_CUDA_TRY(
      cudaMemcpyAsync(&h_status, d_status, sizeof(h_status), cudaMemcpyDeviceToHost, stream));
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream));
  if (h_status.flags != 0U) {
    detail::throw_status(h_status, method, stage);
  }
}

}  // namespace spectral::cuda
