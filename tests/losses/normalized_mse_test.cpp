// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Normalised MSE (docs/math.md#normalized-mse; checks docs/math.md#check-23 and
// docs/math.md#check-30): value, range, invariances and gradients.

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
#include <random>
#include <type_traits>
#include <utility>

namespace {

namespace ref = spectral_test::reference;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
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

template <class A, class B>
double rel_error(const A& a, const B& b) {
  return (a.template cast<double>() - b.template cast<double>()).norm() /
         b.template cast<double>().norm();
}

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

template <class T>
T nmse(const rmat<T>& a, const rmat<T>& b) {
  return spectral::normalized_mse<T>(a, b);
}

}  // namespace

TEMPLATE_TEST_CASE("normalized_mse: identical rows give 0, negated rows give 4",
                   "[normalized_mse][losses]",
                   float,
                   double) {
  const std::uint64_t seed = GENERATE(1u, 2u, 3u);
  CAPTURE(seed);
  const rmat<TestType> a = gaussian(7, 5, seed).cast<TestType>();
  REQUIRE(a.rowwise().norm().minCoeff() > TestType(0.1));
  const double tol = std::is_same_v<TestType, float> ? 1e-6 : 1e-14;
  CHECK_THAT(static_cast<double>(nmse<TestType>(a, a)), WithinAbs(0.0, tol));
  CHECK_THAT(static_cast<double>(nmse<TestType>(a, -a)), WithinAbs(4.0, 4 * tol));
  // Equal directions, different lengths: still 0.
  const rmat<TestType> longer = TestType(3) * a;
  CHECK_THAT(static_cast<double>(nmse<TestType>(a, longer)), WithinAbs(0.0, tol));
}

TEMPLATE_TEST_CASE("normalized_mse: invariant to positive per-row scaling, in [0, 4]",
                   "[normalized_mse][losses]",
                   float,
                   double) {
  const double tol = std::is_same_v<TestType, float> ? 1e-5 : 1e-13;
  for (std::uint64_t seed = 10; seed < 30; ++seed) {
    CAPTURE(seed);
    const rmat<double> a = gaussian(6, 4, seed);
    const rmat<double> b = gaussian(6, 4, seed + 1000);
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> log_scale(-3.0, 3.0);
    Eigen::VectorXd sa(6);
    Eigen::VectorXd sb(6);
    for (Eigen::Index i = 0; i < 6; ++i) {
      sa(i) = std::exp(log_scale(gen));
      sb(i) = std::exp(log_scale(gen));
    }
    const double value =
        static_cast<double>(nmse<TestType>(a.cast<TestType>(), b.cast<TestType>()));
    REQUIRE(value > 0.05);  // random directions: clearly non-zero
    CHECK(value >= 0.0);
    CHECK(value <= 4.0);
    CHECK_THAT(value, WithinRel(ref::normalized_mse(a, b), tol));
    const rmat<double> a_scaled = sa.asDiagonal() * a;
    const rmat<double> b_scaled = sb.asDiagonal() * b;
    CHECK_THAT(
        static_cast<double>(nmse<TestType>(a_scaled.cast<TestType>(), b_scaled.cast<TestType>())),
        WithinRel(value, tol));
    // Definition: the mean over rows of ‖u_n − v_n‖².
    const rmat<double> u = a.rowwise().normalized();
    const rmat<double> v = b.rowwise().normalized();
    CHECK_THAT(value, WithinRel((u - v).squaredNorm() / 6.0, tol));
  }
}

TEMPLATE_TEST_CASE("normalized_mse: gradients equal the reference",
                   "[normalized_mse][losses]",
                   float,
                   double) {
  const auto [rows, cols] = GENERATE(std::pair<Eigen::Index, Eigen::Index>{7, 5},
                                     std::pair<Eigen::Index, Eigen::Index>{1, 3},
                                     std::pair<Eigen::Index, Eigen::Index>{12, 1});
  const std::uint64_t seed = 40 + static_cast<std::uint64_t>(rows);
  CAPTURE(rows, cols, seed);
  const rmat<double> a = gaussian(rows, cols, seed);
  const rmat<double> b = 2.0 * gaussian(rows, cols, seed + 1);
  rmat<TestType> ga(rows, cols);
  rmat<TestType> gb(rows, cols);
  spectral::embedding_ref<TestType> ga_ref(ga);
  spectral::embedding_ref<TestType> gb_ref(gb);
  const double value = static_cast<double>(
      spectral::normalized_mse<TestType>(a.cast<TestType>(), b.cast<TestType>(), &ga_ref, &gb_ref));
  const double tol = std::is_same_v<TestType, float> ? 1e-5 : 1e-12;
  CHECK_THAT(value, WithinRel(ref::normalized_mse(a, b), tol));
  const auto [ea, eb] = ref::normalized_mse_grad(a, b);
  if (cols > 1) {  // with D = 1 every row is ±1 after normalising: the gradient is exactly 0
    REQUIRE(ea.norm() > 0.01);
    REQUIRE(eb.norm() > 0.01);
    CHECK(rel_error(ga, ea) <= tol);
    CHECK(rel_error(gb, eb) <= tol);
  } else {
    CHECK(ga.norm() <= tol);
    CHECK(gb.norm() <= tol);
  }
}

TEST_CASE("normalized_mse: gradients equal central finite differences",
          "[normalized_mse][losses]") {
  const std::uint64_t seed = GENERATE(5u, 6u);
  CAPTURE(seed);
  const rmat<double> a = gaussian(6, 5, seed);
  const rmat<double> b = 0.5 * gaussian(6, 5, seed + 1);
  rmat<double> ga(6, 5);
  rmat<double> gb(6, 5);
  spectral::embedding_ref<double> ga_ref(ga);
  spectral::embedding_ref<double> gb_ref(gb);
  (void)spectral::normalized_mse<double>(a, b, &ga_ref, &gb_ref);
  const rmat<double> fd_a = numeric_gradient([&](const rmat<double>& x) { return nmse(x, b); }, a);
  const rmat<double> fd_b = numeric_gradient([&](const rmat<double>& x) { return nmse(a, x); }, b);
  REQUIRE(fd_a.norm() > 0.01);
  REQUIRE(fd_b.norm() > 0.01);
  CHECK(rel_error(ga, fd_a) <= 1e-6);
  CHECK(rel_error(gb, fd_b) <= 1e-6);
}

TEST_CASE("normalized_mse: a zero row is clamped as in F.normalize", "[normalized_mse][losses]") {
  rmat<double> a = gaussian(4, 3, 9);
  const rmat<double> b = gaussian(4, 3, 10);
  a.row(1).setZero();
  rmat<double> ga(4, 3);
  spectral::embedding_ref<double> ga_ref(ga);
  const double value = spectral::normalized_mse<double>(a, b, &ga_ref, nullptr);
  REQUIRE(std::isfinite(value));
  CHECK_THAT(value, WithinRel(ref::normalized_mse(a, b), 1e-12));
  const auto [ea, eb] = ref::normalized_mse_grad(a, b);
  REQUIRE(ea.row(1).norm() > 1e10);  // −(2/N) v/ε on the clamped row
  CHECK(ga.allFinite());
  CHECK(rel_error(ga, ea) <= 1e-12);
}

// Below the clamp (0 < ‖a_n‖ < 1e-12) F.normalize divides by the constant 1e-12, so
// ∂nMSE/∂a_n = −(2/N) v_n/1e-12, with no projection term.
TEST_CASE("normalized_mse: gradient of a row below the clamp", "[normalized_mse][losses]") {
  rmat<double> a = gaussian(4, 3, 9);
  const rmat<double> b = gaussian(4, 3, 10);
  a.row(1) *= 0.5e-12 / a.row(1).norm();
  rmat<double> ga(4, 3);
  spectral::embedding_ref<double> ga_ref(ga);
  (void)spectral::normalized_mse<double>(a, b, &ga_ref, nullptr);
  const auto [ea, eb] = ref::normalized_mse_grad(a, b);
  REQUIRE(ea.row(1).norm() > 1e10);
  CHECK((ga.row(1) - ea.row(1)).norm() <= 1e-12 * ea.row(1).norm());
}
