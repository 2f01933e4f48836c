// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// ZCA, PCA and Cholesky whitening: parity with the double reference (docs/math.md#check-14,
// docs/math.md#check-15), finite-difference gradients (docs/math.md#check-20 to check-22,
// docs/math.md#check-25), near-equal eigenvalues, eps shrinkage.

#include "instances.hpp"

#include <Eigen/Eigenvalues>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <limits>

using namespace spectral_test;

namespace {

constexpr config zca{.kind = method::zca};
constexpr config pca{.kind = method::pca};
constexpr config cholesky{.kind = method::cholesky};

config with(config c, axis ax, int groups, double eps = 0.0) {
  c.ax = ax;
  c.groups = groups;
  c.eps = eps;
  return c;
}

std::uint64_t seed_of(axis ax, int groups) {
  return 1000 + 10 * static_cast<std::uint64_t>(groups) + (ax == axis::features ? 1 : 2);
}

/// docs/math.md#check-14: Σ_Y = I per group, on input with an exact spectrum of condition `cond`.
template <class T>
void check_whitened_covariance(config c, double cond) {
  const problem_size p = small_problem(c.ax);
  const std::uint64_t seed = seed_of(c.ax, c.groups) + 3;
  CAPTURE(describe(c), seed, p.n, p.d, cond);
  const layout_shape s = shape_of(p.n, p.d, c.ax, c.groups);
  const Eigen::MatrixXd z = rounded_to<T>(
      make_embedding_with_spectrum(p.n, p.d, c.ax, c.groups, log_spaced(s.size, 2.0, cond), seed));
  require_non_degenerate(z, c, 1.2 * cond);
  const row_matrix<T> zt = z.cast<T>();
  const Eigen::MatrixXd y = lib_forward<T>(c, zt).template cast<double>();
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(s.size, s.size);
  for (int g = 0; g < c.groups; ++g) {
    CAPTURE(g);
    CHECK(rel_error(output_covariance(y, c, g), identity) <= tolerance<T>::identity);
  }
}

}  // namespace

// --- (a) parity with the double reference --------------------------------------------------------

TEMPLATE_TEST_CASE("zca matches the double reference", "[zca][cpu][reference]", float, double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2, 3);
  check_reference_parity<TestType>(with(zca, ax, groups), seed_of(ax, groups));
}

TEMPLATE_TEST_CASE("pca matches the double reference", "[pca][cpu][reference]", float, double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2, 3);
  check_reference_parity<TestType>(with(pca, ax, groups), seed_of(ax, groups));
}

TEMPLATE_TEST_CASE("cholesky matches the double reference",
                   "[cholesky][cpu][reference]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2, 3);
  check_reference_parity<TestType>(with(cholesky, ax, groups), seed_of(ax, groups));
}

// --- (b) docs/math.md#checks-whitening
// ----------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("whitened covariance is the identity (check 14)",
                   "[zca][pca][cholesky][cpu][properties]",
                   float,
                   double) {
  const config kind = GENERATE(zca, pca, cholesky);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  // f64: cond ≤ 1e4 at 1e-10; f32: cond ≤ 1e2 at 1e-4.
  check_whitened_covariance<TestType>(with(kind, ax, groups),
                                      std::is_same_v<TestType, double> ? 1e4 : 1e2);
}

TEMPLATE_TEST_CASE("zca W is symmetric and equals the inverse square root of sigma (check 15)",
                   "[zca][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const config c = with(zca, ax, groups);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = seed_of(ax, groups) + 5;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(p.n, p.d, ax, groups, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  const spectral::zca_transform<TestType> t{{}, options_of(c)};
  const auto r = t.forward(row_matrix<TestType>(z.cast<TestType>()));
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const Eigen::MatrixXd w = r.context.solved_transform(g).template cast<double>();
    const Eigen::MatrixXd sigma = reference::covariance(z, ax, groups, g);
    const Eigen::MatrixXd inv_sqrt =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(sigma).operatorInverseSqrt();
    CHECK(rel_error(w, Eigen::MatrixXd(w.transpose())) <= tolerance<TestType>::identity);
    CHECK(rel_error(w, inv_sqrt) <= tolerance<TestType>::forward);
  }
}

TEMPLATE_TEST_CASE("pca output is U transposed times the zca output (check 15)",
                   "[pca][zca][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = seed_of(ax, groups) + 7;
  CAPTURE(ax == axis::features, groups, seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(p.n, p.d, ax, groups, 10.0, seed));
  require_non_degenerate(z, with(pca, ax, groups), 1e2);
  const row_matrix<TestType> zt = z.cast<TestType>();
  const spectral::pca_transform<TestType> t_pca{{}, options_of(with(pca, ax, groups))};
  const auto r_pca = t_pca.forward(zt);
  const Eigen::MatrixXd y_pca = r_pca.output.template cast<double>();
  const Eigen::MatrixXd y_zca =
      lib_forward<TestType>(with(zca, ax, groups), zt).template cast<double>();
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    // Descending eigenvalues, largest-|entry| of each eigenvector positive (the documented
    // convention, also the reference's).
    const reference::eigen_decomposition e =
        reference::pca_eigen(reference::covariance(z, ax, groups, g));
    const auto& state = r_pca.context.state;
    CHECK(rel_error(spectral::host_map(state.values(), g), e.values) <=
          tolerance<TestType>::forward);
    CHECK(rel_error(spectral::host_map(state.vectors(), g), e.vectors) <=
          tolerance<TestType>::forward);
    CHECK(rel_error(layout_of(y_pca, ax, groups, g),
                    e.vectors.transpose() * layout_of(y_zca, ax, groups, g)) <=
          tolerance<TestType>::forward);
  }
}

TEMPLATE_TEST_CASE("cholesky W is lower triangular and L^-1 sigma^1/2 is orthogonal (check 15)",
                   "[cholesky][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const config c = with(cholesky, ax, groups);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = seed_of(ax, groups) + 9;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(p.n, p.d, ax, groups, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  const spectral::cholesky_transform<TestType> t{{}, options_of(c)};
  const auto r = t.forward(row_matrix<TestType>(z.cast<TestType>()));
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const Eigen::MatrixXd w = r.context.solved_transform(g).template cast<double>();
    const Eigen::MatrixXd strictly_upper = w.template triangularView<Eigen::StrictlyUpper>();
    CHECK(strictly_upper.norm() == 0.0);
    CHECK(w.diagonal().minCoeff() > 0.0);
    const Eigen::MatrixXd sigma = reference::covariance(z, ax, groups, g);
    const Eigen::MatrixXd q =
        w * Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(sigma).operatorSqrt();
    const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(q.rows(), q.cols());
    CHECK((q.transpose() * q - identity).norm() <= tolerance<TestType>::identity);
    // W = L⁻¹ for the recorded factor L.
    CHECK((w * spectral::host_map(r.context.state.lower(), g).template cast<double>() - identity)
              .norm() <= tolerance<TestType>::identity);
  }
}

TEMPLATE_TEST_CASE("whitening is scale and shift invariant (P6)",
                   "[zca][pca][cholesky][cpu][properties]",
                   float,
                   double) {
  const config kind = GENERATE(zca, pca, cholesky);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const double scale = GENERATE(1e-3, 3.7, 1e3);
  check_scale_and_shift<TestType>(with(kind, ax, groups), seed_of(ax, groups) + 11, scale, 0.0,
                                  tolerance<TestType>::invariance);
}

TEMPLATE_TEST_CASE("whitening is permutation equivariant (check 9)",
                   "[zca][pca][cholesky][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const std::uint64_t seed = seed_of(ax, groups) + 13;
  check_permutations<TestType>(with(zca, ax, groups), seed, row_permutation::equivariant);
  check_permutations<TestType>(with(pca, ax, groups), seed, row_permutation::invariant);
  check_permutations<TestType>(with(cholesky, ax, groups), seed, row_permutation::unchecked);
}

TEMPLATE_TEST_CASE("whitening: features axis on Z equals samples axis on Z transposed (check 1)",
                   "[zca][pca][cholesky][cpu][properties]",
                   float,
                   double) {
  const config kind = GENERATE(zca, pca, cholesky);
  check_axis_mapping<TestType>(kind, 1201);
}

// --- (c) finite differences, gradient identities
// ----------------------------------------------------

TEST_CASE("whitening backward matches finite differences (checks 19 21 22)",
          "[zca][pca][cholesky][cpu][gradient]") {
  const config kind = GENERATE(zca, pca, cholesky);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  check_finite_differences(with(kind, ax, groups), seed_of(ax, groups) + 15);
}

TEMPLATE_TEST_CASE("whitening gradients are orthogonal to X_c and have zero row sums (check 25)",
                   "[zca][pca][cholesky][cpu][gradient]",
                   float,
                   double) {
  const config kind = GENERATE(zca, pca, cholesky);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  check_gradient_identities<TestType>(with(kind, ax, groups), seed_of(ax, groups) + 17);
}

TEST_CASE("whitening float gradients agree with double gradients",
          "[zca][pca][cholesky][cpu][gradient]") {
  const config kind = GENERATE(zca, pca, cholesky);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  check_float_matches_double_gradient(with(kind, ax, groups), seed_of(ax, groups) + 19);
}

// --- (d) near-equal eigenvalues
// -----------------------------------------------------------------------

TEST_CASE("zca gradient stays finite and exact at near-equal eigenvalues (check 20)",
          "[zca][cpu][gradient]") {
  const double gap = GENERATE(1e-2, 1e-5, 1e-8, 0.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  check_near_equal_eigenvalues(with(zca, ax, 1), gap, 1301);
}

TEST_CASE("zca gradient on exactly isotropic input is finite and exact", "[zca][cpu][gradient]") {
  const axis ax = GENERATE(axis::features, axis::samples);
  const config c = with(zca, ax, 1);
  const problem_size p = tiny_problem(ax);
  const layout_shape s = shape_of(p.n, p.d, ax);
  const std::uint64_t seed = 1401;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = to_embedding(isotropic_layout(s.size, s.observations, 1.7, seed), ax);
  require_non_degenerate(z, c, 1.0 + 1e-10);  // every eigenvalue equal: 1.7²
  const Eigen::MatrixXd g = randn(p.n, p.d, seed + 1);
  const Eigen::MatrixXd analytic = lib_backward<double>(c, z, g);
  REQUIRE(analytic.allFinite());
  const Eigen::MatrixXd numeric = finite_difference_vjp(
      [&](const Eigen::MatrixXd& probe) -> Eigen::MatrixXd {
        return lib_forward<double>(c, probe);
      },
      z, g);
  CHECK(rel_error(analytic, numeric) <= finite_difference_tolerance);
  const row_matrix<float> grad_float = lib_backward<float>(c, z.cast<float>(), g.cast<float>());
  REQUIRE(grad_float.allFinite());
  CHECK(rel_error(grad_float, analytic) <= 1e-4);
}

// --- (g) eps shrinkage
// --------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("eps makes rank-deficient input work and matches the reference",
                   "[zca][cholesky][cpu][eps]",
                   float,
                   double) {
  const config kind = GENERATE(zca, cholesky);
  const axis ax = GENERATE(axis::features, axis::samples);
  // K = 10 > M − 1 = 5: Σ has rank 5.
  const Eigen::Index n = ax == axis::features ? 6 : 10;
  const Eigen::Index d = ax == axis::features ? 10 : 6;
  const std::uint64_t seed = 1501;
  const config singular = with(kind, ax, 1);
  const config shrunk = with(kind, ax, 1, 0.1);
  CAPTURE(describe(shrunk), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(n, d, ax, 1, 10.0, seed));
  require_non_degenerate(z, shrunk, 1e3);
  const Eigen::VectorXd ev = symmetric_eigenvalues(reference::covariance(z, ax));
  CHECK(ev(4) <= 1e-12 * ev(ev.size() - 1));  // singular without eps
  const row_matrix<TestType> zt = z.cast<TestType>();
  CHECK_THROWS_AS(lib_forward<TestType>(singular, zt), spectral::numerical_error);

  const Eigen::MatrixXd g = rounded_to<TestType>(randn(n, d, seed + 1));
  const row_matrix<TestType> gt = g.cast<TestType>();
  CHECK(rel_error(lib_forward<TestType>(shrunk, zt), reference::forward(z, shrunk)) <=
        tolerance<TestType>::forward);
  CHECK(rel_error(lib_backward<TestType>(shrunk, zt, gt), reference::backward(z, g, shrunk)) <=
        tolerance<TestType>::backward);
}
