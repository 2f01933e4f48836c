// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The status word in which a transform's steps record data problems (in the backend's memory),
/// and throw_status(), which turns it into the exception the problem deserves.

#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>

#include <string_view>
#include <tuple>

namespace spectral {

/// Reasons a data check can fail; several may be set at once.
enum status_flag : unsigned {
  status_nonfinite_input = 1U << 0U,        ///< NaN or Inf in the forward input
  status_nonfinite_gradient = 1U << 1U,     ///< NaN or Inf in grad_out
  status_constant_input = 1U << 2U,         ///< covariance is rounding noise only
  status_not_positive_definite = 1U << 3U,  ///< Σ singular or not positive definite
  status_solver_failed = 1U << 4U,          ///< the eigensolver or factorisation reported failure
  status_trace_not_positive = 1U << 5U,     ///< IterNorm: tr Σ <= 0 or not finite
  status_nonfinite_output = 1U << 6U,       ///< forward's Y
  status_nonfinite_grad_in = 1U << 7U,      ///< backward's ∂L/∂Z
};

/// Number of distinct status flags (one example slot each).
inline constexpr int status_flag_count = 8;

/**
 * @brief The status word a transform's steps record data problems in, in the backend's memory
 *        (device memory on CUDA), so that no step needs the host to look at the numbers.
 *
 * Each flag keeps one example (group, value, bound), so the message thrown for a problem shows
 * that problem's numbers. Zero-initialised means "no problem".
 */
struct status_word {
  unsigned flags;                   ///< the status_flag bits set so far
  int group[status_flag_count];     ///< per flag slot: the group of the first example
  double value[status_flag_count];  ///< per flag slot: the offending value
  double bound[status_flag_count];  ///< per flag slot: the bound it violated (when any)
};

namespace detail {

/// Index of a flag's example slot: its lowest set bit (a zero flag has none: slot 0).
[[nodiscard]] SPECTRAL_HOST_DEVICE inline int slot_of(unsigned flag) noexcept {
  int slot = 0;
  while (slot < status_flag_count - 1 && ((flag >> static_cast<unsigned>(slot)) & 1U) == 0U) {
    ++slot;
  }
  return slot;
}

/// Records `flag` with an example, from host or device code. On the device the flag is set
/// atomically and the first reporter's example kept; the example fields are plain stores, so a
/// race between reporters leaves some reporter's valid example.
SPECTRAL_HOST_DEVICE inline void report(
    status_word* status, unsigned flag, int group, double value, double bound) {
#if defined(__CUDA_ARCH__)
  const unsigned before = atomicOr(&status->flags, flag);
#else
  const unsigned before = status->flags;
  status->flags |= flag;
#endif
  if ((before & flag) == 0U) {
    const int slot = slot_of(flag);
    status->group[slot] = group;
    status->value[slot] = value;
    status->bound[slot] = bound;
  }
}

}  // namespace detail

/**
 * @brief Throws what a status word records (the first flag in a fixed order), as the
 *        exception the caller's problem deserves: invalid_input for non-finite inputs,
 *        numerical_error for the rest. Does nothing when no flag is set.
 * @param s      the status word to read (host memory)
 * @param method the method's name, for the message
 */
inline void throw_status(const status_word& s, std::string_view method) {
  if (s.flags == 0U) {
    return;
  }
  const auto has = [&](unsigned flag) { return (s.flags & flag) != 0U; };
  const auto example = [&](unsigned flag) {
    const int i = detail::slot_of(flag);
    return std::tuple<int, double, double>{s.group[i], s.value[i], s.bound[i]};
  };
  const auto where = [&](int group) {
    return detail::concat(" [", method, ", group ", group, "]");
  };
  if (has(status_nonfinite_input)) {
    const auto [g, v, b] = example(status_nonfinite_input);
    throw invalid_input(detail::concat("z: contains NaN or Inf (value ", v, ")", where(g)));
  }
  if (has(status_nonfinite_gradient)) {
    const auto [g, v, b] = example(status_nonfinite_gradient);
    throw invalid_input(detail::concat("grad_out: contains NaN or Inf (value ", v, ")", where(g)));
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
    SPECTRAL_FAIL(method, ": the solver reported info=", v, where(g));
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

}  // namespace spectral
