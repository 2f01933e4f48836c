// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CLI's type-erasure boundary: method and axis names to library types, and a .npy array's
/// runtime dtype to the scalar type the library is instantiated with. The methods, their names
/// and parameters come from the library's registry (spectral/methods/registry.hpp).

#include "npy.hpp"

#include <spectral/spectral.hpp>

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace spectral::cli {

inline constexpr std::array<std::string_view, 2> axis_names = {"samples", "features"};

/// The names as CLI11 wants them for IsMember, e.g. choices(method_names()).
[[nodiscard]] inline std::vector<std::string> choices(std::span<const std::string_view> names) {
  return {names.begin(), names.end()};
}

/// "name: description" of every registered method, one per line (the --method help text).
[[nodiscard]] inline std::string method_help() {
  std::string out;
  for (const method_entry& entry : method_table()) {
    out.append(out.empty() ? "" : "\n").append(entry.name).append(": ").append(entry.description);
  }
  return out;
}

/// Parses an axis name; the parser has already restricted it to axis_names.
[[nodiscard]] inline axis parse_axis(std::string_view name) {
  SPECTRAL_EXPECTS(name == "samples" || name == "features",
                   "--axis: expected samples or features, got '", name, "'");
  return name == "samples" ? axis::samples : axis::features;
}

/**
 * @brief Constructs the registered method named `name` with p = `power` (power) and T = `iters`
 *        (iternorm), validating them, and calls fn with it (spectral::visit_method).
 * @throws invalid_input for an unknown name ("--method: unknown method '…'", listing the known
 *         ones), p < 0 (power) or iters out of [1, iter_norm::max_iterations] (iternorm)
 */
template <class Fn>
decltype(auto) with_method(std::string_view name, double power, int iters, Fn&& fn) {
  method_spec spec = parse_method(name, "--method");
  spec.power = power;
  spec.iterations = iters;
  return visit_method(spec, std::forward<Fn>(fn));
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
