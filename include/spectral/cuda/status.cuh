// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/cuda/error.cuh>

#include <cuda_runtime.h>

#include <string>
#include <string_view>
#include <tuple>

namespace spectral::cuda {

/// Reasons a device-side check can fail; several may be set at once.
enum status_flag : unsigned {
  status_nonfinite_input = 1U << 0U,      ///< NaN or Inf in the forward input
  status_nonfinite_gradient = 1U << 1U,   ///< NaN or Inf in grad_out
  status_constant_input = 1U << 2U,       ///< covariance is rounding noise only
  status_not_positive_definite = 1U << 3U,
  status_solver_failed = 1U << 4U,        ///< cuSOLVER info != 0
  status_trace_not_positive = 1U << 5U,   ///< IterNorm: tr Σ <= 0 or not finite
  status_nonfinite_output = 1U << 6U,     ///< forward's Y
  status_nonfinite_grad_in = 1U << 7U,    ///< backward's ∂L/∂Z
};

/// Number of distinct status flags (one example slot each).
inline constexpr int status_flag_count = 8;

/**
 * @brief The device status word a context carries: kernels record problems here instead of
 *        the host synchronising after every step. Each flag keeps one example (group, value,
 *        bound), so the message of the problem that is thrown shows that problem's numbers.
 */
struct device_status {
  unsigned flags;
  int group[status_flag_count];
  double value[status_flag_count];
  double bound[status_flag_count];
};

namespace detail {

/// Records `flag` from device code. The example fields are plain stores: any reporter's values
/// are a valid example, so the race between reporters is harmless.
__device__ inline void report(device_status* status, unsigned flag, int group, double value,
                              double bound) {
  const unsigned before = atomicOr(&status->flags, flag);
  if ((before & flag) == 0U) {
    const int slot = __ffs(static_cast<int>(flag)) - 1;
    status->group[slot] = group;
    status->value[slot] = value;
    status->bound[slot] = bound;
  }
}

/// The example slot of a flag (host side).
[[nodiscard]] inline int slot_of(unsigned flag) noexcept {
  int slot = 0;
  while ((flag >> static_cast<unsigned>(slot)) != 1U) {
    ++slot;
  }
  return slot;
}

/// Throws the exception the CPU backend would throw for the same problem (the first recorded
/// flag in this order), with that problem's own example.
inline void throw_status(const device_status& s, std::string_view method) {
  const auto has = [&](unsigned flag) { return (s.flags & flag) != 0U; };
  const auto example = [&](unsigned flag) {
    const int i = slot_of(flag);
    return std::tuple<int, double, double>{s.group[i], s.value[i], s.bound[i]};
  };
  const auto where = [&](int group) {
    return spectral::detail::concat(" [", method, ", group ", group, "]");
  };
  if (has(status_nonfinite_input)) {
    const auto [g, v, b] = example(status_nonfinite_input);
    throw invalid_input(spectral::detail::concat("z: contains NaN or Inf (value ", v, ")", where(g)));
  }
  if (has(status_nonfinite_gradient)) {
    const auto [g, v, b] = example(status_nonfinite_gradient);
    throw invalid_input(
        spectral::detail::concat("grad_out: contains NaN or Inf (value ", v, ")", where(g)));
  }
  if (has(status_constant_input)) {
    const auto [g, v, b] = example(status_constant_input);
    SPECTRAL_FAIL(method, ": z's covariance is zero up to rounding (trace ", v, ", rounding floor ",
                  b, "); every observation is identical after centring, nothing to transform",
                  where(g));
  }
  if (has(status_trace_not_positive)) {
    const auto [g, v, b] = example(status_trace_not_positive);
    SPECTRAL_FAIL(method, ": the covariance has trace ", v,
                  "; every observation is identical after centring", where(g));
  }
  if (has(status_solver_failed)) {
    const auto [g, v, b] = example(status_solver_failed);
    SPECTRAL_FAIL(method, ": cuSOLVER reported info=", v, where(g));
  }
  if (has(status_not_positive_definite)) {
    const auto [g, v, b] = example(status_not_positive_definite);
    SPECTRAL_FAIL(method, ": the covariance is singular or not positive definite (smallest ", v,
                  ", need > ", b,
                  "); add eps > 0 or use more observations than the covariance size", where(g));
  }
  if (has(status_nonfinite_output)) {
    const auto [g, v, b] = example(status_nonfinite_output);
    SPECTRAL_FAIL(method, " output: the result contains NaN or Inf (value ", v, ")", where(g));
  }
  if (has(status_nonfinite_grad_in)) {
    const auto [g, v, b] = example(status_nonfinite_grad_in);
    SPECTRAL_FAIL(method, " gradient: the result contains NaN or Inf (value ", v, ")", where(g));
  }
}

}  // namespace detail

/**
 * @brief Copies a status word to the host (synchronising `stream`) and throws what it records.
 * @throws invalid_input for non-finite inputs, numerical_error for numerical failures.
 */
inline void check_status(const device_status* d_status, cudaStream_t stream,
                         std::string_view method) {
  device_status h_status{};
  SPECTRAL_CUDA_TRY(
      cudaMemcpyAsync(&h_status, d_status, sizeof(h_status), cudaMemcpyDeviceToHost, stream));
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream));
  if (h_status.flags != 0U) {
    detail::throw_status(h_status, method);
  }
}

}  // namespace spectral::cuda
