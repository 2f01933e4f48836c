// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace spectral::detail {

/// Whether every entry is finite. x − x is 0 for a finite x and NaN for ±Inf or NaN, so the sum
/// is 0 exactly when all are finite: one vectorised reduction. (Eigen's allFinite() is a scalar
/// loop, many times slower on an embedding-sized matrix, and forward + backward check 4 such.)
/// -ffinite-math-only (part of -ffast-math) lets the compiler fold x − x to 0 and std::isfinite
/// to true, so under it both checks read the exponent bits instead.
template <class S>
[[nodiscard]] bool is_finite_value(S v) {
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
  if constexpr (std::is_same_v<S, float>) {
    return (std::bit_cast<std::uint32_t>(v) & 0x7f800000u) != 0x7f800000u;
  } else if constexpr (std::is_same_v<S, double>) {
    return (std::bit_cast<std::uint64_t>(v) & 0x7ff0000000000000ull) != 0x7ff0000000000000ull;
  }
#endif
  return std::isfinite(static_cast<double>(v));
}

template <class Derived>
[[nodiscard]] bool all_finite(const Eigen::DenseBase<Derived>& m) {
#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
  for (index_t c = 0; c < m.cols(); ++c) {
    for (index_t r = 0; r < m.rows(); ++r) {
      if (!is_finite_value(m(r, c))) {
        return false;
      }
    }
  }
  return true;
#else
  using scalar = typename Derived::Scalar;
  return (m.derived().array() - m.derived().array()).sum() == scalar(0);
#endif
}

/// Throws invalid_input naming the first non-finite entry; O(size), always on, because a single
/// NaN would otherwise spread through Σ into every output.
template <class Derived>
void expect_finite(const Eigen::DenseBase<Derived>& m, std::string_view name) {
  if (all_finite(m)) {
    return;
  }
  for (index_t r = 0; r < m.rows(); ++r) {
    for (index_t c = 0; c < m.cols(); ++c) {
      const auto v = m(r, c);
      SPECTRAL_EXPECTS(is_finite_value(v), name, ": entry (", r, ", ", c, ") is ", v,
                       "; inputs must be finite");
    }
  }
}

template <class Derived>
void expect_shape(const Eigen::DenseBase<Derived>& m,
                  index_t rows,
                  index_t cols,
                  std::string_view name) {
  SPECTRAL_EXPECTS(m.rows() == rows && m.cols() == cols, name, ": expected ", rows, "x", cols,
                   ", got ", m.rows(), "x", m.cols());
}

/// Numerical counterpart of expect_finite, for results: a non-finite output is the library's
/// failure to report, never the caller's to discover.
template <class Derived>
void ensure_finite_result(const Eigen::DenseBase<Derived>& m, std::string_view what) {
  if (!all_finite(m)) {
    SPECTRAL_FAIL(what, " contains non-finite values (the covariance is too ill-conditioned for ",
                  "this scalar type; add eps or use double)");
  }
}

}  // namespace spectral::detail
