// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Spectrum diagnostics, the output spectrum maps ψ, and the theory checks of
// docs/math.md#checks-theory (34: f_T properties, 37: first-order spectral change P5, 38:
// conditioning P7).

#include <spectral/spectral.hpp>

#include <common/reference.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <type_traits>
#include <utility>

namespace {

namespace ref = spectral_test::reference;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using spectral::axis;
template <class T>
using rmat = spectral::row_matrix<T>;

rmat<double> gaussian(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  rmat<double> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = normal(gen);
  }
  return m;
}

rmat<double> anisotropic(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  const Eigen::VectorXd scale = Eigen::VectorXd::LinSpaced(rows, 1.0, 3.0);
  const Eigen::MatrixXd left = scale.asDiagonal() * (Eigen::MatrixXd::Identity(rows, rows) +
                                                     0.3 / std::sqrt(static_cast<double>(rows)) *
                                                         gaussian(rows, rows, seed + 1));
  const Eigen::VectorXd col_scale = Eigen::VectorXd::LinSpaced(cols, 0.5, 2.0);
  const Eigen::MatrixXd right =
      (Eigen::MatrixXd::Identity(cols, cols) +
       0.3 / std::sqrt(static_cast<double>(cols)) * gaussian(cols, cols, seed + 2)) *
      col_scale.asDiagonal();
  return left * gaussian(rows, cols, seed) * right;
}

ref::axis to_ref(axis a) { return a == axis::samples ? ref::axis::samples : ref::axis::features; }

Eigen::VectorXd descending(Eigen::VectorXd v) {
  std::sort(v.begin(), v.end(), std::greater<>());
  return v;
}

Eigen::VectorXd reference_eigenvalues(const Eigen::MatrixXd& sigma) {
  return descending(Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(sigma).eigenvalues());
}

}  // namespace

TEMPLATE_TEST_CASE("spectrum: descending eigenvalues of the reference covariance",
                   "[spectrum][diagnostics]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const int groups = GENERATE(1, 2);
  const Eigen::Index rows = a == axis::features ? 20 : 6;
  const Eigen::Index cols = a == axis::features ? 6 * groups : 16 * groups;
  CAPTURE(to_string(a), groups, rows, cols);
  const rmat<TestType> z = (anisotropic(rows, cols, 3) * 2.0).cast<TestType>();
  const rmat<double> z_used = z.template cast<double>();  // what spectrum sees
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const auto report = spectral::spectrum<TestType>(z, {.axis = a, .groups = groups}, g);
    const Eigen::VectorXd expected =
        reference_eigenvalues(ref::covariance(z_used, to_ref(a), groups, g));
    REQUIRE(expected.minCoeff() > 1e-3);  // full rank, anisotropic
    REQUIRE(expected.maxCoeff() > 2 * expected.minCoeff());
    REQUIRE(report.eigenvalues.size() == expected.size());
    for (Eigen::Index i = 1; i < report.eigenvalues.size(); ++i) {
      CHECK(report.eigenvalues(i - 1) >= report.eigenvalues(i));
    }
    CHECK((report.eigenvalues - expected).norm() <= 1e-12 * expected.norm());
    CHECK_THAT(report.trace, WithinRel(expected.sum(), 1e-12));
    CHECK((report.normalized - expected / expected.sum()).norm() <= 1e-12);
    CHECK_THAT(report.normalized.sum(), WithinAbs(1.0, 1e-14));
    const Eigen::VectorXd x = expected / expected.sum();
    const double entropy = -(x.array() * x.array().log()).sum();
    CHECK_THAT(report.effective_rank, WithinRel(std::exp(entropy), 1e-12));
    CHECK(report.effective_rank > 1.0);
    CHECK(report.effective_rank < static_cast<double>(expected.size()));
    CHECK_THAT(report.condition_number,
               WithinRel(expected(0) / expected(expected.size() - 1), 1e-10));
  }
  SECTION("eps shifts every eigenvalue") {
    const auto plain = spectral::spectrum<TestType>(z, {.axis = a, .groups = groups});
    const auto shifted = spectral::spectrum<TestType>(z, {.axis = a, .groups = groups, .eps = 0.5});
    CHECK((shifted.eigenvalues - plain.eigenvalues -
           Eigen::VectorXd::Constant(plain.eigenvalues.size(), 0.5))
              .norm() <= 1e-12 * plain.eigenvalues.norm());
  }
}

TEST_CASE("spectrum: rank-deficient input", "[spectrum][diagnostics]") {
  // Features axis with N = 4 < D = 7: rank ≤ 3.
  const rmat<double> z = anisotropic(4, 7, 8);
  const auto report = spectral::spectrum<double>(z);
  REQUIRE(report.eigenvalues(2) > 1e-2);
  CHECK(std::abs(report.eigenvalues(3)) <= 1e-12 * report.eigenvalues(0));
  CHECK(report.effective_rank <= 3.0 + 1e-9);
  CHECK(report.condition_number > 1e10);
}

TEST_CASE("effective_rank and condition_number of known spectra", "[spectrum][diagnostics]") {
  const Eigen::Index k = GENERATE(1, 2, 7, 64);
  CAPTURE(k);
  const Eigen::VectorXd flat = Eigen::VectorXd::Constant(k, 0.37);
  CHECK_THAT(spectral::effective_rank(flat), WithinRel(static_cast<double>(k), 1e-12));
  CHECK_THAT(spectral::condition_number(flat), WithinRel(1.0, 1e-15));
  Eigen::VectorXd rank_one = Eigen::VectorXd::Zero(k);
  rank_one(k / 2) = 5.0;
  CHECK_THAT(spectral::effective_rank(rank_one), WithinRel(1.0, 1e-15));
  if (k > 1) {
    CHECK(spectral::condition_number(rank_one) == std::numeric_limits<double>::infinity());
    // Rounding can leave a tiny negative eigenvalue: clamped for the rank, inf for cond.
    rank_one(0) = -1e-17;
    CHECK_THAT(spectral::effective_rank(rank_one), WithinRel(1.0, 1e-15));
    CHECK(spectral::condition_number(rank_one) == std::numeric_limits<double>::infinity());
  }
  const Eigen::Vector3d three{4.0, 1.0, 2.0};
  CHECK_THAT(spectral::condition_number(three), WithinRel(4.0, 1e-15));
  const Eigen::Vector4d two_equal{0.0, 3.0, 0.0, 3.0};
  CHECK_THAT(spectral::effective_rank(two_equal), WithinRel(2.0, 1e-15));
  CHECK_THROWS_AS(spectral::effective_rank(Eigen::VectorXd::Zero(k)), spectral::invalid_input);
}

TEST_CASE("output_spectrum: ψ equals the eigenvalues of the output covariance",
          "[spectrum][diagnostics]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const Eigen::Index rows = a == axis::features ? 30 : 6;
  const Eigen::Index cols = a == axis::features ? 6 : 30;
  CAPTURE(to_string(a), rows, cols);
  const spectral::options opts{.axis = a};
  const rmat<double> z = anisotropic(rows, cols, 12);
  const Eigen::VectorXd lambda = spectral::spectrum<double>(z, opts).eigenvalues;
  REQUIRE(lambda.minCoeff() > 1e-2);
  REQUIRE(lambda(0) > 5 * lambda(lambda.size() - 1));

  const auto check = [&](const auto& method, const Eigen::VectorXd& formula) {
    const spectral::spectral_transform<double, std::decay_t<decltype(method)>> st{method, opts};
    const auto r = st.forward(z);
    const Eigen::VectorXd actual = spectral::spectrum<double>(r.output, opts).eigenvalues;
    const Eigen::VectorXd psi = spectral::output_spectrum(method, lambda);
    CHECK((psi - formula).norm() <= 1e-12 * formula.norm());
    CHECK((descending(psi) - actual).norm() <= 1e-9 * actual.norm());
  };
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(lambda.size());
  SECTION("power p = 0.25 and 0.75: λ^(1-2p)") {
    for (const double p : {0.0, 0.25, 0.75, 1.0}) {
      CAPTURE(p);
      check(spectral::power_function{p}, lambda.array().pow(1 - 2 * p).matrix());
    }
  }
  SECTION("whitening: 1") {
    check(spectral::zca_whitening{}, ones);
    check(spectral::pca_whitening{}, ones);
    check(spectral::cholesky_whitening{}, ones);
  }
  SECTION("iter_norm: f_T(λ/τ)") {
    for (const int t : {1, 4, 7}) {
      CAPTURE(t);
      const double tau = lambda.sum();
      const Eigen::VectorXd f =
          lambda.unaryExpr([&](double l) { return ref::iter_norm_output_eigenvalue(l / tau, t); });
      check(spectral::iter_norm{t}, f);
    }
  }
}

TEST_CASE("iter_norm f_T: monotone, concave, f_T(x) >= x, f_T'(0) = (9/4)^T (check 34)",
          "[spectrum][diagnostics][iter_norm]") {
  // Scalar values of docs/math.md#check-3.
  CHECK_THAT(spectral::iter_norm{1}.output_eigenvalue(0.5, 1.0), WithinAbs(0.78125, 1e-15));
  CHECK_THAT(spectral::iter_norm{2}.output_eigenvalue(0.5, 1.0), WithinAbs(0.961494445801, 1e-12));
  CHECK_THAT(spectral::iter_norm{4}.output_eigenvalue(0.1, 1.0), WithinAbs(0.918597981263, 1e-12));
  CHECK_THAT(spectral::iter_norm{4}.output_eigenvalue(1.0 / 256, 1.0),
             WithinAbs(0.095152603948, 1e-12));
  CHECK_THAT(spectral::iter_norm{4}.output_eigenvalue(2.0, 8.0),  // depends on λ/τ only
             WithinAbs(spectral::iter_norm{4}.output_eigenvalue(0.25, 1.0), 1e-15));

  constexpr int points = 2001;
  for (int t = 1; t <= 12; ++t) {
    CAPTURE(t);
    const spectral::iter_norm method{t};
    const spectral::iter_norm next{t + 1};
    const auto f = [&](double x) { return method.output_eigenvalue(x, 1.0); };
    CHECK(f(0.0) == 0.0);
    CHECK_THAT(f(1.0), WithinAbs(1.0, 1e-15));
    int violations = 0;
    for (int i = 0; i < points; ++i) {
      const double x = static_cast<double>(i) / (points - 1);
      // A few ulps of slack where f_T has saturated at 1.
      const bool monotone_x =
          i == 0 || f(x) >= f(static_cast<double>(i - 1) / (points - 1)) - 1e-15;
      const bool above_identity = f(x) >= x - 1e-15;
      const bool monotone_t = next.output_eigenvalue(x, 1.0) >= f(x) - 1e-15;
      const bool concave = i == 0 || i == points - 1 ||
                           f(static_cast<double>(i - 1) / (points - 1)) - 2 * f(x) +
                                   f(static_cast<double>(i + 1) / (points - 1)) <=
                               1e-12;
      violations += monotone_x && above_identity && monotone_t && concave ? 0 : 1;
    }
    CHECK(violations == 0);
    // f_T(0) = 0 exactly, so the one-sided difference has no cancellation.
    const double slope = f(1e-12) / 1e-12;
    CHECK_THAT(slope, WithinRel(std::pow(2.25, t), 1e-6));
    CHECK(f(2e-4) > f(1e-4));  // strictly increasing where it has not saturated
  }
}

TEST_CASE("P7: IterNorm never worsens conditioning (check 38)",
          "[spectrum][diagnostics][iter_norm]") {
  std::mt19937_64 gen(2024);
  std::uniform_int_distribution<Eigen::Index> size(6, 15);
  double worst_ratio = 0;
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Eigen::Index k = size(gen);
    const Eigen::Index m = 2 * k + 5;
    const auto seed = static_cast<std::uint64_t>(trial) * 7919 + 1;
    CAPTURE(trial, k, m, seed);
    const rmat<double> z = gaussian(m, k, seed) * gaussian(k, k, seed + 1);  // features axis
    const double cond = spectral::spectrum<double>(z).condition_number;
    REQUIRE(cond > 2.0);
    REQUIRE(std::isfinite(cond));
    for (int t = 1; t <= 8; ++t) {
      CAPTURE(t);
      const spectral::iter_norm_transform<double> st{spectral::iter_norm{t}};
      const double cond_y = spectral::spectrum<double>(st.forward(z).output).condition_number;
      CHECK(cond_y <= cond * (1 + 1e-9));
      worst_ratio = std::max(worst_ratio, cond_y / cond);
      ++checked;
    }
  }
  CHECK(checked == 1600);
  CHECK(worst_ratio < 1.0);
}

TEST_CASE("P5: first-order spectral change of a gradient step (check 37)",
          "[spectrum][diagnostics][power]") {
  // Features axis: X = Z_cᵀ is K×M; loss ⟨G_Y, Y⟩; one step Z → Z ∓ η ∂L/∂Z.
  const double p = GENERATE(0.25, 0.5, 0.75);
  const Eigen::Index k = 6;
  const Eigen::Index m = 30;
  CAPTURE(p, k, m);
  const rmat<double> z = anisotropic(m, k, 17);
  const rmat<double> gy = gaussian(m, k, 18);
  const spectral::power_transform<double> st{spectral::power_function{p}};
  const auto r = st.forward(z);
  const rmat<double> gz = st.backward(r.context, gy);
  REQUIRE(gz.norm() > 1e-2);

  const rmat<double> zc = z.rowwise() - z.colwise().mean();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(zc.transpose() * zc /
                                                           static_cast<double>(m - 1));
  const Eigen::VectorXd lambda = eig.eigenvalues();
  const Eigen::MatrixXd u = eig.eigenvectors();
  REQUIRE(lambda.minCoeff() > 1e-2);
  const Eigen::MatrixXd a_mat =
      u.transpose() * (gy.transpose() * zc) * u;  // a_ii = u_iᵀ G_Y X_cᵀ u_i
  const double eta = 1e-5;
  Eigen::VectorXd predicted(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    const double g = std::pow(lambda(i), -p);
    const double g_prime = -p * std::pow(lambda(i), -p - 1);
    predicted(i) =
        -(2 * eta / static_cast<double>(m - 1)) * a_mat(i, i) * (g + 2 * lambda(i) * g_prime);
  }
  const auto eigenvalues = [](const rmat<double>& x) {
    const rmat<double> c = x.rowwise() - x.colwise().mean();
    return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(
               c.transpose() * c / static_cast<double>(c.rows() - 1), Eigen::EigenvaluesOnly)
        .eigenvalues()
        .eval();
  };
  const Eigen::VectorXd central = (eigenvalues(z - eta * gz) - eigenvalues(z + eta * gz)) / 2.0;
  // Scale of the first-order change without the (g + 2λg') factor, for the p = 0.5 case.
  const double scale = 2 * eta / static_cast<double>(m - 1) * a_mat.diagonal().norm() *
                       lambda.array().pow(-p).matrix().norm();
  REQUIRE(scale > 1e-8);
  if (p == 0.5) {
    CHECK(predicted.norm() <= 1e-14 * scale);
    CHECK(central.norm() <= 1e-6 * scale);  // whitening: eigenvalues move only at O(η²)
  } else {
    REQUIRE(predicted.norm() > 1e-3 * scale);
    CHECK((central - predicted).norm() <= 1e-6 * predicted.norm());
  }
}
