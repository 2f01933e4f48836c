// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Trace loss (docs/math.md#trace-loss; checks docs/math.md#check-26 to check-29): value and
// gradient, the P3 floor, β.

#include <spectral/spectral.hpp>

#include <common/generators.hpp>
#include <common/reference.hpp>
#include <common/tolerances.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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

using spectral_test::rel_error;
using spectral_test::row_anisotropic;
using spectral_test::row_gaussian;

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}

ref::axis to_ref(axis a) { return a == axis::samples ? ref::axis::samples : ref::axis::features; }

/// Central differences of f at z, h = 1e-6·max(1, |z_ij|).
rmat<double> numeric_gradient(const std::function<double(const rmat<double>&)>& f, rmat<double> z) {
  rmat<double> grad(z.rows(), z.cols());
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    const double keep = z.data()[i];
    const double h = 1e-6 * std::max(1.0, std::abs(keep));
    z.data()[i] = keep + h;
    const double up = f(z);
    z.data()[i] = keep - h;
    const double down = f(z);
    z.data()[i] = keep;
    grad.data()[i] = (up - down) / (2 * h);
  }
  return grad;
}

/// The K×M whitening layout of an N×D matrix: Zᵀ on the features axis, Z on the samples axis.
rmat<double> layout(const rmat<double>& z, axis a) {
  return a == axis::features ? rmat<double>(z.transpose()) : z;
}

/// K rows of length M, zero mean, mutually orthogonal, each with squared norm M − 1 (Σ = I).
rmat<double> isotropic_layout(Eigen::Index k, Eigen::Index m, std::uint64_t seed) {
  Eigen::MatrixXd a = row_gaussian(m, k, seed);
  a.rowwise() -= a.colwise().mean();  // remove the all-ones direction from every column
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, k);
  return std::sqrt(static_cast<double>(m - 1)) * q.transpose();
}

/// IterNorm (T = 4) output of the K×M layout x on axis a, and its trace loss, in T.
template <class T>
double iter_norm_trace_loss(const rmat<double>& x, axis a) {
  const rmat<T> z = layout(x, a).template cast<T>();  // layout is its own inverse
  const spectral::iter_norm_transform<T> st{spectral::iter_norm{4}, {.axis = a}};
  const auto r = st.forward(z);
  return static_cast<double>(spectral::trace_loss_value<T>(r.output, a));
}

}  // namespace

TEMPLATE_TEST_CASE("trace_loss: value and gradient equal the reference",
                   "[trace_loss][losses]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const auto [rows, cols] = GENERATE(
      std::pair<Eigen::Index, Eigen::Index>{9, 5}, std::pair<Eigen::Index, Eigen::Index>{5, 9},
      std::pair<Eigen::Index, Eigen::Index>{2, 2}, std::pair<Eigen::Index, Eigen::Index>{16, 3});
  const std::uint64_t seed = 100 + static_cast<std::uint64_t>(rows * 31 + cols);
  CAPTURE(to_string(a), rows, cols, seed);
  const rmat<double> y = 1.7 * row_anisotropic(rows, cols, seed);
  const rmat<TestType> y_t = y.cast<TestType>();

  rmat<TestType> grad(rows, cols);
  spectral::embedding_ref<TestType> grad_ref(grad);
  const double value = static_cast<double>(spectral::trace_loss<TestType>(y_t, a, &grad_ref));
  const double expected = ref::trace_loss(y, to_ref(a));
  REQUIRE(expected > 1.0);  // non-degenerate: rows far from unit variance
  CHECK_THAT(value, WithinRel(expected, tolerance<TestType>()));
  const rmat<double> expected_grad = ref::trace_loss_grad(y, to_ref(a));
  REQUIRE(expected_grad.norm() > 1.0);
  CHECK(rel_error(grad, expected_grad) <= tolerance<TestType>());
  CHECK_THAT(static_cast<double>(spectral::trace_loss_value<TestType>(y_t, a)),
             WithinRel(value, 1e-15));
}

TEST_CASE("trace_loss: gradient equals central finite differences", "[trace_loss][losses]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const std::uint64_t seed = GENERATE(7u, 8u);
  CAPTURE(to_string(a), seed);
  const rmat<double> y = row_anisotropic(7, 11, seed);
  rmat<double> grad(7, 11);
  spectral::embedding_ref<double> grad_ref(grad);
  (void)spectral::trace_loss<double>(y, a, &grad_ref);
  const rmat<double> fd = numeric_gradient(
      [a](const rmat<double>& v) { return spectral::trace_loss_value<double>(v, a); }, y);
  REQUIRE(fd.norm() > 1.0);
  CHECK(rel_error(grad, fd) <= 1e-6);
}

TEMPLATE_TEST_CASE("trace_loss: zero for unit-variance rows, δ² for one perturbed row",
                   "[trace_loss][losses]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const Eigen::Index k = 6;
  const Eigen::Index m = 10;
  CAPTURE(to_string(a), k, m);
  // Random rows, centred and scaled to variance exactly 1 (divisor M − 1), with nonzero means
  // added back (the loss re-centres).
  rmat<double> x = row_gaussian(k, m, 21);
  x.colwise() -= x.rowwise().mean().eval();
  for (Eigen::Index r = 0; r < k; ++r) {
    x.row(r) *= std::sqrt(static_cast<double>(m - 1)) / x.row(r).norm();
  }
  x.colwise() += Eigen::VectorXd::LinSpaced(k, -2.0, 3.0);
  REQUIRE(x.norm() > 1.0);
  const double zero_tol = std::is_same_v<TestType, float> ? 1e-10 : 1e-12;
  CHECK_THAT(
      static_cast<double>(spectral::trace_loss_value<TestType>(layout(x, a).cast<TestType>(), a)),
      WithinAbs(0.0, zero_tol));

  const double delta = 0.1;
  const Eigen::Index row = 2;
  const double mean = x.row(row).mean();
  x.row(row) = ((x.row(row).array() - mean) * std::sqrt(1.0 + delta) + mean).matrix();
  CHECK_THAT(
      static_cast<double>(spectral::trace_loss_value<TestType>(layout(x, a).cast<TestType>(), a)),
      WithinRel(delta * delta, std::is_same_v<TestType, float> ? 1e-4 : 1e-10));
}

TEST_CASE("trace_loss: Cauchy-Schwarz bound TL >= (K - tr Σ_Y)²/K", "[trace_loss][losses]") {
  const axis a = GENERATE(axis::samples, axis::features);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(to_string(a), seed);
    const rmat<double> y = (0.2 + 0.1 * static_cast<double>(seed)) * row_anisotropic(8, 12, seed);
    const rmat<double> x = layout(y, a);
    const Eigen::Index k = x.rows();
    const rmat<double> xc = x.colwise() - x.rowwise().mean();
    const double trace = xc.squaredNorm() / static_cast<double>(x.cols() - 1);
    const double bound = std::pow(static_cast<double>(k) - trace, 2) / static_cast<double>(k);
    const double tl = spectral::trace_loss_value<double>(y, a);
    REQUIRE(trace > 0.1);
    CHECK(tl >= bound * (1 - 1e-12));
    CHECK(tl > bound * (1 + 1e-6));  // unequal variances: strict
  }
  SECTION("equality when every row has the same variance") {
    rmat<double> x = row_gaussian(6, 9, 3);
    x.colwise() -= x.rowwise().mean().eval();
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      x.row(r) *= std::sqrt(2.5 * 8.0) / x.row(r).norm();  // variance 2.5
    }
    const double tl = spectral::trace_loss_value<double>(layout(x, a), a);
    CHECK_THAT(tl, WithinRel(6 * 1.5 * 1.5, 1e-12));
    CHECK_THAT(tl, WithinRel(std::pow(6.0 - 6 * 2.5, 2) / 6.0, 1e-12));
  }
}

TEMPLATE_TEST_CASE("trace_loss: P3 floor K(1 - f_4(1/K))² on isotropic IterNorm output",
                   "[trace_loss][losses][iter_norm]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const auto [k, expected] = GENERATE(std::pair<Eigen::Index, double>{64, 28.840839},
                                      std::pair<Eigen::Index, double>{128, 85.846210});
  const Eigen::Index m = 4 * k;
  CAPTURE(to_string(a), k, m);
  const double f = ref::iter_norm_output_eigenvalue(1.0 / static_cast<double>(k), 4);
  const double floor = static_cast<double>(k) * (1 - f) * (1 - f);
  REQUIRE_THAT(floor, WithinAbs(expected, 1e-6));

  const rmat<double> x = 2.5 * isotropic_layout(k, m, 5);
  const rmat<double> xc = x.colwise() - x.rowwise().mean();
  const rmat<double> sigma = xc * xc.transpose() / static_cast<double>(m - 1);
  REQUIRE((sigma - 6.25 * Eigen::MatrixXd::Identity(k, k)).norm() < 1e-10);
  const double tl = iter_norm_trace_loss<TestType>(x, a);
  if constexpr (std::is_same_v<TestType, double>) {
    CHECK_THAT(tl, WithinAbs(expected, 1e-6));
    CHECK_THAT(tl, WithinRel(floor, 1e-10));
  } else {
    CHECK_THAT(tl, WithinRel(expected, 2e-5));
  }

  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    CAPTURE(seed);
    const double above = iter_norm_trace_loss<TestType>(row_anisotropic(k, m, seed), a);
    CHECK(above > floor * (1 + 1e-3));
  }
}

TEST_CASE("trade_off_beta: β = 0.01 (log2 K - 3)", "[trace_loss][losses]") {
  const auto [k, beta] = GENERATE(
      std::pair<Eigen::Index, double>{128, 0.04}, std::pair<Eigen::Index, double>{256, 0.05},
      std::pair<Eigen::Index, double>{512, 0.06}, std::pair<Eigen::Index, double>{1024, 0.07},
      std::pair<Eigen::Index, double>{8192, 0.10});
  CAPTURE(k);
  CHECK_THAT(spectral::trade_off_beta(k), WithinAbs(beta, 1e-15));
  CHECK_THAT(spectral::trade_off_beta(k), WithinAbs(ref::trade_off_beta(k), 1e-15));
}
