// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Ranges of the CLI's numeric flags, checked on the text while parsing, before any work: the
/// whole text must be a number of the flag's type, finite, and inside the range, else the parse
/// fails with "--flag: must be … in [low, high], got 'text'" (exit 2). CLI11's own Range lets
/// "nan" through (every comparison with NaN is false) and says nothing of a trailing "x".
/// Sizes, counts and iterations all have an upper bound, so no flag can ask for unbounded memory
/// or time.

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <type_traits>

namespace spectral::cli {

/// Whether the lower end of a range is included ([low, high]) or excluded ((low, high]).
enum class lower_end { closed, open };

namespace detail {

template <class T>
[[nodiscard]] std::string show(T value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace detail

/**
 * @brief A validator for a numeric flag of type T: the text parses as T in full, is finite, and
 *        lies in [low, high] (or (low, high] with lower_end::open). Finite is the only upper
 *        bound when high is T's largest value.
 */
template <class T>
[[nodiscard]] CLI::Validator in_range(T low, T high, lower_end end = lower_end::closed) {
  static_assert(std::is_arithmetic_v<T>);
  constexpr bool integral = std::is_integral_v<T>;
  // A range open above (high = the type's largest value) reads ">= low", not "[low, 1.8e+308]".
  const std::string range = high == std::numeric_limits<T>::max()
                                ? (end == lower_end::closed ? ">= " : "> ") + detail::show(low)
                                : (end == lower_end::closed ? "in [" : "in (") + detail::show(low) +
                                      ", " + detail::show(high) + "]";
  const std::string kind = integral ? "an integer" : "a finite number";
  return CLI::Validator(
      [low, high, end, range, kind](std::string& input) -> std::string {
        T value{};
        const char* first = input.data();
        const char* last = input.data() + input.size();
        const auto [stop, error] = std::from_chars(first, last, value);
        bool ok = error == std::errc{} && stop == last && !input.empty();
        if constexpr (!integral) {
          ok = ok && std::isfinite(value);
        }
        ok = ok && value <= high && (end == lower_end::closed ? value >= low : value > low);
        if (!ok) {
          return "must be " + kind + " " + range + ", got '" + input + "'";
        }
        return {};
      },
      (integral ? "INT " : "FLOAT ") + range);
}

}  // namespace spectral::cli
