// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// One test suite for the spectral transform, written once and run on every backend through a
/// runner (methods/instances.hpp: cpu_runner; cuda/cuda_runner.cuh):
///
///     SPECTRAL_TRANSFORM_SUITE(spectral_test::cpu_runner, "cpu", "[cpu]")
///
/// Every method of the library's registry, on both axes and with one and two groups, is
/// checked against the independent double-precision reference (common/reference.hpp): the
/// output, W of every group and the gradient, in float and double; the gradient against
/// central finite differences; the properties each method has (scale and shift behaviour,
/// permutations, the axis mapping, the gradient identities of scale-invariant transforms, a
/// whitened covariance of I); forward-only output equal to forward's bit for bit; and the
/// bad-input rules, each a typed exception. A runner whose backend is absent skips every case
/// (reported as skipped, never as passed). Each backend's own choices and deeper per-method
/// checks stay in its own files (tests/methods/, tests/cuda/).

#include <spectral/spectral.hpp>

#include <common/generators.hpp>
#include <common/reference.hpp>
#include <common/tolerances.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdint>
#include <limits>
#include <vector>

#include <methods/instances.hpp>

namespace spectral_test::transform_suite {

/// Every registered method (p = 0.75, T = 4 on the Newton route), plus IterNorm on its eigen
/// route and ZCA with eps: the instances every case runs over.
[[nodiscard]] inline std::vector<config> instances() {
  std::vector<config> out = registered_instances();
  config eigen_route{.kind = method::iter_norm, .iterations = 4, .eigen_route = true};
  out.push_back(eigen_route);
  out.push_back(config{.kind = method::zca, .eps = 0.05});
  return out;
}

/// Y(cX + shift) = c^exponent Y(X): 0 for the scale-invariant transforms, 1 − 2p for Σ^-p.
[[nodiscard]] inline double scale_exponent(const config& c) {
  return c.kind == method::power ? 1.0 - 2.0 * c.power : 0.0;
}

/// Whether Y is unchanged by scaling X (so ⟨G_X, X_c⟩ = 0): every method but Σ^-p with p ≠ 1/2,
/// and none with eps (it breaks scale invariance).
[[nodiscard]] inline bool scale_invariant(const config& c) {
  return c.eps == 0.0 && scale_exponent(c) == 0.0;
}

/// How permuting the K rows of the layout moves Y: ΠY for spectral functions, Y for PCA (its
/// output lives in Σ's eigenbasis), nothing simple for Cholesky.
[[nodiscard]] inline row_permutation rows_of(const config& c) {
  switch (c.kind) {
    case method::pca:
      return row_permutation::invariant;
    case method::cholesky:
      return row_permutation::unchecked;
    default:
      return row_permutation::equivariant;
  }
}

/// Whether Σ_Y = I (the whitening methods, without eps).
[[nodiscard]] inline bool whitens(const config& c) {
  return c.eps == 0.0 &&
         (c.kind == method::zca || c.kind == method::pca || c.kind == method::cholesky);
}

/// A seed per case, so that no two cases share data.
[[nodiscard]] inline std::uint64_t seed_of(const config& c, std::uint64_t salt) {
  return 7001 + 97 * static_cast<std::uint64_t>(c.kind) + 31 * static_cast<std::uint64_t>(c.ax) +
         7 * static_cast<std::uint64_t>(c.groups) + (c.eigen_route ? 3 : 0) +
         (c.eps > 0.0 ? 5 : 0) + 1009 * salt;
}

/// Runs fn(c) for every instance on both axes with each of `groups`.
template <class Fn>
void for_each_case(const std::vector<int>& groups, Fn&& fn) {
  for (config c : instances()) {
    for (const axis ax : {axis::features, axis::samples}) {
      for (const int g : groups) {
        c.ax = ax;
        c.groups = g;
        fn(c);
      }
    }
  }
}

/// Σ_Y = I per group of the output, on input with cond(Σ) = 1e2.
template <class T, class Runner>
void check_whitened_covariance(const config& c, std::uint64_t seed) {
  const problem_size p = small_problem(c.ax);
  const layout_shape s = shape_of(p.n, p.d, c.ax, c.groups);
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<T>(
      make_embedding_with_spectrum(p.n, p.d, c.ax, c.groups, log_spaced(s.size, 2.0, 100.0), seed));
  require_non_degenerate(z, c, 120.0);
  const Eigen::MatrixXd y = Runner::template forward<T>(c, z.cast<T>()).template cast<double>();
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(s.size, s.size);
  for (int g = 0; g < c.groups; ++g) {
    CAPTURE(g);
    CHECK(rel_error(output_covariance(y, c, g), identity) <= tolerance<T>::identity);
  }
}

/// apply() gives forward's output bit for bit.
template <class T, class Runner>
void check_apply_equals_forward(const config& c, std::uint64_t seed) {
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed);
  const row_matrix<T> z = make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed).cast<T>();
  const row_matrix<T> y = Runner::template forward<T>(c, z);
  REQUIRE(y.norm() > T(0));
  CHECK(Runner::template apply<T>(c, z) == y);
}

/// Every bad-input rule of the transform, as the typed exception the caller's problem deserves.
template <class T, class Runner>
void check_bad_input(const config& c, std::uint64_t seed) {
  using Catch::Matchers::ContainsSubstring;
  using Catch::Matchers::MessageMatches;
  using spectral::invalid_input;
  using spectral::numerical_error;
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed);
  const row_matrix<T> z = make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed).cast<T>();
  const row_matrix<T> g = randn(p.n, p.d, seed + 1).cast<T>();

  row_matrix<T> with_nan = z;
  with_nan(1, 2) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_MATCHES(Runner::template forward<T>(c, with_nan), invalid_input,
                       MessageMatches(ContainsSubstring("z:")));
  row_matrix<T> with_inf = z;
  with_inf(0, 0) = std::numeric_limits<T>::infinity();
  CHECK_THROWS_AS(Runner::template apply<T>(c, with_inf), invalid_input);
  row_matrix<T> bad_gradient = g;
  bad_gradient(2, 1) = std::numeric_limits<T>::quiet_NaN();
  CHECK_THROWS_MATCHES(Runner::template backward<T>(c, z, bad_gradient), invalid_input,
                       MessageMatches(ContainsSubstring("grad_out")));

  CHECK_THROWS_MATCHES(Runner::template forward_into<T>(c, z, p.n, p.d - 1), invalid_input,
                       MessageMatches(ContainsSubstring("out")));
  config indivisible = c;
  indivisible.groups = 5;  // D is 12 or 72
  CHECK_THROWS_MATCHES(Runner::template forward<T>(indivisible, z), invalid_input,
                       MessageMatches(ContainsSubstring("divisible")));

  // Every observation identical: nothing to transform, whatever the method.
  const row_matrix<T> constant = row_matrix<T>::Constant(p.n, p.d, T(3.25));
  CHECK_THROWS_AS(Runner::template forward<T>(c, constant), numerical_error);

  // Fewer observations than the covariance size: Σ is singular, which only the methods that
  // invert it (and have no eps) refuse.
  config singular = c;
  singular.groups = 1;
  const problem_size wide = c.ax == axis::features ? problem_size{6, 12} : problem_size{12, 6};
  const row_matrix<T> z_wide = make_embedding(wide.n, wide.d, c.ax, 1, 10.0, seed + 2).cast<T>();
  if (c.eps == 0.0 && c.kind != method::iter_norm) {
    CHECK_THROWS_AS(Runner::template forward<T>(singular, z_wide), numerical_error);
  } else {
    CHECK(Runner::template forward<T>(singular, z_wide).allFinite());
  }
}

}  // namespace spectral_test::transform_suite

/// Instantiates the suite for one runner; `name` and `tags` are string literals.
#define SPECTRAL_TRANSFORM_SUITE(Runner, name, tags)                                           \
  TEMPLATE_TEST_CASE(name ": every registered instance matches the double reference",          \
                     "[suite][reference]" tags, float, double) {                               \
    Runner::skip_unless_available();                                                           \
    namespace suite = ::spectral_test::transform_suite;                                        \
    suite::for_each_case({1, 2}, [](const ::spectral_test::config& c) {                        \
      ::spectral_test::check_reference_parity<TestType, Runner>(c, suite::seed_of(c, 1));      \
    });                                                                                        \
  }                                                                                            \
  TEST_CASE(name ": the gradient equals central finite differences (double)",                  \
            "[suite][gradient]" tags) {                                                        \
    Runner::skip_unless_available();                                                           \
    namespace suite = ::spectral_test::transform_suite;                                        \
    suite::for_each_case({2}, [](const ::spectral_test::config& c) {                           \
      ::spectral_test::check_finite_differences<Runner>(c, suite::seed_of(c, 2));              \
    });                                                                                        \
  }                                                                                            \
  TEST_CASE(name ": float gradients agree with double gradients", "[suite][gradient]" tags) {  \
    Runner::skip_unless_available();                                                           \
    namespace suite = ::spectral_test::transform_suite;                                        \
    suite::for_each_case({1, 2}, [](const ::spectral_test::config& c) {                        \
      ::spectral_test::check_float_matches_double_gradient<Runner>(c, suite::seed_of(c, 3));   \
    });                                                                                        \
  }                                                                                            \
  TEMPLATE_TEST_CASE(name ": scale, shift, permutations and the axis mapping",                 \
                     "[suite][properties]" tags, float, double) {                              \
    Runner::skip_unless_available();                                                           \
    namespace suite = ::spectral_test::transform_suite;                                        \
    suite::for_each_case({1, 2}, [](const ::spectral_test::config& c) {                        \
      if (c.eps == 0.0) {                                                                      \
        for (const double scale : {1e-3, 3.7, 1e3}) {                                          \
          ::spectral_test::check_scale_and_shift<TestType, Runner>(                            \
              c, suite::seed_of(c, 4), scale, suite::scale_exponent(c),                        \
              ::spectral_test::tolerance<TestType>::invariance);                               \
        }                                                                                      \
      }                                                                                        \
      ::spectral_test::check_permutations<TestType, Runner>(c, suite::seed_of(c, 5),           \
                                                            suite::rows_of(c));                \
      if (c.groups == 1 && c.ax == ::spectral_test::axis::features) {                          \
        ::spectral_test::check_axis_mapping<TestType, Runner>(c, suite::seed_of(c, 6));        \
      }                                                                                        \
      if (suite::scale_invariant(c)) {                                                         \
        ::spectral_test::check_gradient_identities<TestType, Runner>(c, suite::seed_of(c, 7)); \
      }                                                                                        \
      if (suite::whitens(c)) {                                                                 \
        suite::check_whitened_covariance<TestType, Runner>(c, suite::seed_of(c, 8));           \
      }                                                                                        \
    });                                                                                        \
  }                                                                                            \
  TEMPLATE_TEST_CASE(name ": forward-only output is forward's, bit for bit",                   \
                     "[suite][forward_only]" tags, float, double) {                            \
    Runner::skip_unless_available();                                                           \
    namespace suite = ::spectral_test::transform_suite;                                        \
    suite::for_each_case({1, 2}, [](const ::spectral_test::config& c) {                        \
      suite::check_apply_equals_forward<TestType, Runner>(c, suite::seed_of(c, 9));            \
    });                                                                                        \
  }                                                                                            \
  TEMPLATE_TEST_CASE(name ": every bad-input rule throws its typed exception",                 \
                     "[suite][errors]" tags, float, double) {                                  \
    Runner::skip_unless_available();                                                           \
    namespace suite = ::spectral_test::transform_suite;                                        \
    suite::for_each_case({1, 2}, [](const ::spectral_test::config& c) {                        \
      suite::check_bad_input<TestType, Runner>(c, suite::seed_of(c, 10));                      \
    });                                                                                        \
  }
