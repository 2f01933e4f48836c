// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The exceptions the library throws (invalid_input, numerical_error) and the macros that
/// throw them.

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace spectral {

/**
 * @brief Thrown for bad shapes, parameters and preconditions (the caller's input).
 *
 * The message names the argument and the value received, e.g.
 * "groups: D=10 is not divisible by groups=3".
 */
class invalid_input : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/**
 * @brief Thrown when the numbers themselves make the transform impossible: a singular or
 * non-positive-definite covariance, a failed eigensolver, or a non-finite result.
 */
class numerical_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Concatenates streamable values into a message (keeps throw sites one line long).
template <class... Parts>
[[nodiscard]] std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

}  // namespace detail
}  // namespace spectral

/// Precondition check that is always on; throws spectral::invalid_input with the message parts.
#define SPECTRAL_EXPECTS(condition, ...)                                        \
  do {                                                                          \
    if (!(condition)) {                                                         \
      throw ::spectral::invalid_input(::spectral::detail::concat(__VA_ARGS__)); \
    }                                                                           \
  } while (false)

/// Unconditional numerical failure; throws spectral::numerical_error with the message parts.
#define SPECTRAL_FAIL(...) \
  throw ::spectral::numerical_error(::spectral::detail::concat(__VA_ARGS__))
