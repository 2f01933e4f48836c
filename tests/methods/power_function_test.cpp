// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Power-function ST W = Σ^{-p}: parity with the double reference (docs/math.md#check-16),
// finite-difference gradients (docs/math.md#check-19), the scaling law, eps shrinkage.

#include "instances.hpp"

#include <Eigen/Eigenvalues>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cmath>

using namespace spectral_test;

namespace {

config power(double p, axis ax = axis::features, int groups = 1, double eps = 0.0) {
  return config{.kind = method::power, .power = p, .ax = ax, .groups = groups, .eps = eps};
}

std::uint64_t seed_of(double p, axis ax, int groups) {
  return 2000 + static_cast<std::uint64_t>(100.0 * p) * 7 +
         10 * static_cast<std::uint64_t>(groups) + (ax == axis::features ? 1 : 2);
}

/// A^q for a symmetric positive-definite A, in double.
Eigen::MatrixXd matrix_power(const Eigen::MatrixXd& a, double q) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> e(a);
  const Eigen::VectorXd mapped =
      e.eigenvalues().unaryExpr([q](double l) { return std::pow(l, q); });
  return e.eigenvectors() * mapped.asDiagonal() * e.eigenvectors().transpose();
}

}  // namespace

TEMPLATE_TEST_CASE("power function matches the double reference",
                   "[power][cpu][reference]",
                   float,
                   double) {
  const double p = GENERATE(0.0, 0.25, 0.5, 0.75, 1.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2, 3);
  check_reference_parity<TestType>(power(p, ax, groups), seed_of(p, ax, groups));
}

TEMPLATE_TEST_CASE("power function output covariance is sigma^(1-2p) (check 16)",
                   "[power][cpu][properties]",
                   float,
                   double) {
  const double p = GENERATE(0.0, 0.25, 0.5, 0.75, 1.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const config c = power(p, ax, groups);
  const problem_size sz = small_problem(ax);
  const std::uint64_t seed = seed_of(p, ax, groups) + 3;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z =
      rounded_to<TestType>(make_embedding(sz.n, sz.d, ax, groups, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  const Eigen::MatrixXd y = lib_forward<TestType>(c, z.cast<TestType>()).template cast<double>();
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const Eigen::MatrixXd sigma = reference::covariance(z, ax, groups, g);
    const Eigen::MatrixXd sigma_y = output_covariance(y, c, g);
    CHECK(rel_error(sigma_y, matrix_power(sigma, 1.0 - 2.0 * p)) <= tolerance<TestType>::forward);
    // cond(Σ_Y) = cond(Σ)^{|1−2p|}
    const double expected_cond = std::pow(condition_number(sigma), std::abs(1.0 - 2.0 * p));
    CHECK(std::abs(condition_number(sigma_y) - expected_cond) <=
          tolerance<TestType>::forward * 10.0 * expected_cond);
  }
}

TEMPLATE_TEST_CASE("power function with p = 0 is centring only",
                   "[power][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  // p = 0 needs no inverse: rank-deficient input (K > M − 1 on the features axis) is fine.
  const Eigen::Index n = 6;
  const Eigen::Index d = 24;
  const config c = power(0.0, ax, groups);
  const std::uint64_t seed = 2101;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(n, d, ax, groups, 10.0, seed));
  require_non_degenerate(z, c, std::numeric_limits<double>::infinity());
  const Eigen::MatrixXd centred = map_layouts(
      z, ax, groups, [](const Eigen::MatrixXd& x, int) { return reference::center_rows(x); });
  REQUIRE(centred.norm() > 1.0);
  const double tol = std::is_same_v<TestType, double> ? 1e-14 : 1e-6;
  CHECK(rel_error(lib_forward<TestType>(c, z.cast<TestType>()), centred) <= tol);
}

TEMPLATE_TEST_CASE("power function with p = 1/2 equals zca",
                   "[power][zca][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const config c = power(0.5, ax, groups);
  config zca = c;
  zca.kind = method::zca;
  const problem_size sz = small_problem(ax);
  const std::uint64_t seed = 2201;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z =
      rounded_to<TestType>(make_embedding(sz.n, sz.d, ax, groups, 10.0, seed));
  const Eigen::MatrixXd g = rounded_to<TestType>(randn(sz.n, sz.d, seed + 1));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<TestType> zt = z.cast<TestType>();
  const row_matrix<TestType> gt = g.cast<TestType>();
  const double tol = std::is_same_v<TestType, double> ? 1e-12 : 1e-5;
  CHECK(rel_error(lib_forward<TestType>(c, zt), lib_forward<TestType>(zca, zt)) <= tol);
  CHECK(rel_error(lib_backward<TestType>(c, zt, gt), lib_backward<TestType>(zca, zt, gt)) <= tol);
}

TEMPLATE_TEST_CASE("power function scales as c^(1-2p) and ignores shifts",
                   "[power][cpu][properties]",
                   float,
                   double) {
  const double p = GENERATE(0.25, 0.75, 1.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const double scale = GENERATE(1e-3, 3.7, 1e3);
  check_scale_and_shift<TestType>(power(p, ax, 2), seed_of(p, ax, 2) + 5, scale, 1.0 - 2.0 * p,
                                  tolerance<TestType>::invariance);
}

TEMPLATE_TEST_CASE("power function is permutation equivariant (check 9)",
                   "[power][cpu][properties]",
                   float,
                   double) {
  const double p = GENERATE(0.25, 1.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  check_permutations<TestType>(power(p, ax, groups), seed_of(p, ax, groups) + 7,
                               row_permutation::equivariant);
}

TEMPLATE_TEST_CASE("power function: features axis on Z equals samples axis on Z transposed",
                   "[power][cpu][properties]",
                   float,
                   double) {
  const double p = GENERATE(0.0, 0.25, 0.75);
  check_axis_mapping<TestType>(power(p), 2301);
}

TEST_CASE("power function backward matches finite differences (check 19)",
          "[power][cpu][gradient]") {
  const double p = GENERATE(0.25, 0.5, 0.75, 1.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  check_finite_differences(power(p, ax, groups), seed_of(p, ax, groups) + 9);
}

TEST_CASE("power function float gradients agree with double gradients", "[power][cpu][gradient]") {
  const double p = GENERATE(0.25, 0.75, 1.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  check_float_matches_double_gradient(power(p, ax, groups), seed_of(p, ax, groups) + 11);
}

TEMPLATE_TEST_CASE("power function: eps makes rank-deficient input work and matches the reference",
                   "[power][cpu][eps]",
                   float,
                   double) {
  const double p = GENERATE(0.25, 0.75);
  const axis ax = GENERATE(axis::features, axis::samples);
  const Eigen::Index n = ax == axis::features ? 6 : 10;
  const Eigen::Index d = ax == axis::features ? 10 : 6;
  const std::uint64_t seed = 2401;
  const config shrunk = power(p, ax, 1, 0.1);
  CAPTURE(describe(shrunk), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(n, d, ax, 1, 10.0, seed));
  require_non_degenerate(z, shrunk, 1e3);
  const Eigen::VectorXd ev = symmetric_eigenvalues(reference::covariance(z, ax));
  CHECK(ev(4) <= 1e-12 * ev(ev.size() - 1));  // rank 5 of 10 without eps
  const row_matrix<TestType> zt = z.cast<TestType>();
  CHECK_THROWS_AS(lib_forward<TestType>(power(p, ax), zt), spectral::numerical_error);
  const Eigen::MatrixXd g = rounded_to<TestType>(randn(n, d, seed + 1));
  const row_matrix<TestType> gt = g.cast<TestType>();
  CHECK(rel_error(lib_forward<TestType>(shrunk, zt), reference::forward(z, shrunk)) <=
        tolerance<TestType>::forward);
  CHECK(rel_error(lib_backward<TestType>(shrunk, zt, gt), reference::backward(z, g, shrunk)) <=
        tolerance<TestType>::backward);
}
