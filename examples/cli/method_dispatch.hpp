// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CLI's type-erasure boundary: method and axis names to library types, and a .npy array's
/// runtime dtype to the scalar type the library is instantiated with.

#include <spectral/io/npy.hpp>
#include <spectral/spectral.hpp>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace spectral::cli {

inline constexpr std::array<std::string_view, 5> method_names = {
    "zca", "pca", "cholesky", "power", "iternorm"};
inline constexpr std::array<std::string_view, 2> axis_names = {"samples", "features"};

/// The names as CLI11 wants them for IsMember.
template <std::size_t N>
[[nodiscard]] std::vector<std::string> choices(const std::array<std::string_view, N>& names) {
  return {names.begin(), names.end()};
}

/// Parses an axis name; the parser has already restricted it to axis_names.
[[nodiscard]] inline axis parse_axis(std::string_view name) {
  SPECTRAL_EXPECTS(name == "samples" || name == "features",
                   "--axis: expected samples or features, got '",
                   name,
                   "'");
  return name == "samples" ? axis::samples : axis::features;
}

/**
 * @brief Constructs the method named `name` (validating its parameter) and calls fn with it.
 * @throws invalid_input for an unknown name, p < 0 (power) or iters < 1 (iternorm)
 */
template <class Fn>
decltype(auto) with_method(std::string_view name, double power, int iters, Fn&& fn) {
  if (name == "zca") {
    return std::forward<Fn>(fn)(zca_whitening{});
  }
  if (name == "pca") {
    return std::forward<Fn>(fn)(pca_whitening{});
  }
  if (name == "cholesky") {
    return std::forward<Fn>(fn)(cholesky_whitening{});
  }
  if (name == "power") {
    return std::forward<Fn>(fn)(power_function{power});
  }
  SPECTRAL_EXPECTS(name == "iternorm", "--method: unknown method '", name, "'");
  return std::forward<Fn>(fn)(iter_norm{iters});
}

/// Calls fn(matrix) with the array in its own scalar type (float or double).
template <class Fn>
decltype(auto) with_scalar(const io::npy_matrix& array, Fn&& fn) {
  return std::visit(std::forward<Fn>(fn), array);
}

/// The array converted to T (a float64 gradient may accompany a float32 input, and vice versa).
template <real_scalar T>
[[nodiscard]] row_matrix<T> cast_to(io::npy_matrix array) {
  if (auto* same = std::get_if<row_matrix<T>>(&array)) {
    return std::move(*same);
  }
  return std::visit([](const auto& m) -> row_matrix<T> { return m.template cast<T>(); }, array);
}

template <real_scalar T>
[[nodiscard]] constexpr std::string_view dtype_name() noexcept {
  return sizeof(T) == 4 ? "float32" : "float64";
}

}  // namespace spectral::cli
