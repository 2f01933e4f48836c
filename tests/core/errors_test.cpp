// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// One test per bad-input rule: a typed exception whose message names the argument and the value
// received; and never a silent NaN.

#include <spectral/spectral.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::MessageMatches;
using spectral::axis;
using spectral::invalid_input;
using spectral::numerical_error;
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

/// Calls fn with one transform of every instance (same options).
template <class T, class Fn>
void for_each_instance(const spectral::options& opts, Fn&& fn) {
  fn(spectral::zca_transform<T>{{}, opts});
  fn(spectral::pca_transform<T>{{}, opts});
  fn(spectral::cholesky_transform<T>{{}, opts});
  fn(spectral::power_transform<T>{spectral::power_function{0.25}, opts});
  fn(spectral::power_transform<T>{spectral::power_function{0.75}, opts});
  fn(spectral::iter_norm_transform<T>{spectral::iter_norm{4}, opts});
}

constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_inf = std::numeric_limits<double>::infinity();

}  // namespace

TEMPLATE_TEST_CASE("bad input: non-finite z", "[errors][core]", float, double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const auto bad = GENERATE(std::pair<double, const char*>{k_nan, "nan"},
                            std::pair<double, const char*>{k_inf, "inf"},
                            std::pair<double, const char*>{-k_inf, "-inf"});
  CAPTURE(to_string(a), bad.second);
  rmat<TestType> z = gaussian(12, 12, 1).cast<TestType>();
  z(3, 5) = static_cast<TestType>(bad.first);
  for_each_instance<TestType>({.axis = a}, [&](const auto& st) {
    CAPTURE(st.method().name());
    CHECK_THROWS_MATCHES(
        st.forward(z), invalid_input,
        MessageMatches(ContainsSubstring(std::string("z: entry (3, 5) is ").append(bad.second))));
  });
  CHECK_THROWS_MATCHES(spectral::spectrum<TestType>(z, {.axis = a}), invalid_input,
                       MessageMatches(ContainsSubstring("z: entry (3, 5)")));
  CHECK_THROWS_MATCHES(spectral::trace_loss_value<TestType>(z, a), invalid_input,
                       MessageMatches(ContainsSubstring("y: entry (3, 5)")));
  const rmat<TestType> finite = gaussian(12, 12, 2).cast<TestType>();
  CHECK_THROWS_MATCHES(spectral::normalized_mse<TestType>(finite, z), invalid_input,
                       MessageMatches(ContainsSubstring("b: entry (3, 5)")));
  CHECK_THROWS_MATCHES(spectral::normalized_mse<TestType>(z, finite), invalid_input,
                       MessageMatches(ContainsSubstring("a: entry (3, 5)")));
}

TEMPLATE_TEST_CASE("bad input: non-finite grad_out", "[errors][core]", float, double) {
  const axis a = GENERATE(axis::samples, axis::features);
  CAPTURE(to_string(a));
  const Eigen::Index rows = a == axis::features ? 10 : 4;  // M > K
  const rmat<TestType> z = gaussian(rows, 14 - rows, 3).cast<TestType>();
  rmat<TestType> gy = gaussian(rows, 14 - rows, 4).cast<TestType>();
  gy(3, 1) = static_cast<TestType>(k_nan);
  for_each_instance<TestType>({.axis = a}, [&](const auto& st) {
    CAPTURE(st.method().name());
    const auto r = st.forward(z);
    CHECK_THROWS_MATCHES(st.backward(r.context, gy), invalid_input,
                         MessageMatches(ContainsSubstring("grad_out: entry (3, 1) is nan")));
  });
}

TEST_CASE("bad input: fewer than 2 observations", "[errors][core]") {
  SECTION("features axis with N = 1") {
    const rmat<double> z = gaussian(1, 4, 5);
    for_each_instance<double>({}, [&](const auto& st) {
      CAPTURE(st.method().name());
      CHECK_THROWS_MATCHES(st.forward(z), invalid_input,
                           MessageMatches(ContainsSubstring("features axis") &&
                                          ContainsSubstring("at least 2 observations") &&
                                          ContainsSubstring("got 1 (z is 1x4")));
    });
    CHECK_THROWS_AS(spectral::spectrum<double>(z), invalid_input);
    CHECK_THROWS_MATCHES(spectral::trace_loss_value<double>(z, axis::features), invalid_input,
                         MessageMatches(ContainsSubstring("at least 2 observations, got 1")));
  }
  SECTION("samples axis with D/G = 1") {
    const rmat<double> z = gaussian(4, 2, 6);
    for_each_instance<double>({.axis = axis::samples, .groups = 2}, [&](const auto& st) {
      CAPTURE(st.method().name());
      CHECK_THROWS_MATCHES(
          st.forward(z), invalid_input,
          MessageMatches(ContainsSubstring("samples axis") && ContainsSubstring("got 1") &&
                         ContainsSubstring("groups=2")));
    });
    const rmat<double> column = gaussian(4, 1, 7);
    CHECK_THROWS_MATCHES(spectral::trace_loss_value<double>(column, axis::samples), invalid_input,
                         MessageMatches(ContainsSubstring("got 1")));
  }
}

TEST_CASE("bad input: empty z", "[errors][core]") {
  const rmat<double> z(0, 4);
  for_each_instance<double>({}, [&](const auto& st) {
    CHECK_THROWS_MATCHES(st.forward(z), invalid_input,
                         MessageMatches(ContainsSubstring("z: must be non-empty, got 0x4")));
  });
  CHECK_THROWS_MATCHES(spectral::normalized_mse<double>(z, z), invalid_input,
                       MessageMatches(ContainsSubstring("a: must be non-empty")));
}

TEMPLATE_TEST_CASE("bad input: mismatched out, grad_out and grad_in shapes",
                   "[errors][core]",
                   float,
                   double) {
  const rmat<TestType> z = gaussian(8, 4, 8).cast<TestType>();
  for_each_instance<TestType>({}, [&](const auto& st) {
    CAPTURE(st.method().name());
    rmat<TestType> out(8, 3);
    CHECK_THROWS_MATCHES(st.forward(z, out), invalid_input,
                         MessageMatches(ContainsSubstring("out: expected 8x4, got 8x3")));
    const auto r = st.forward(z);
    const rmat<TestType> gy = rmat<TestType>::Ones(4, 8);
    CHECK_THROWS_MATCHES(st.backward(r.context, gy), invalid_input,
                         MessageMatches(ContainsSubstring("grad_out: expected 8x4, got 4x8")));
    rmat<TestType> gx(9, 4);
    CHECK_THROWS_MATCHES(st.backward(r.context, rmat<TestType>::Ones(8, 4), gx), invalid_input,
                         MessageMatches(ContainsSubstring("grad_in: expected 8x4, got 9x4")));
  });
}

TEST_CASE("bad input: D not divisible by groups", "[errors][core]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const rmat<double> z = gaussian(20, 10, 9);
  for_each_instance<double>({.axis = a, .groups = 3}, [&](const auto& st) {
    CAPTURE(st.method().name());
    CHECK_THROWS_MATCHES(
        st.forward(z), invalid_input,
        MessageMatches(ContainsSubstring("groups: D=10 is not divisible by groups=3")));
  });
  CHECK_THROWS_MATCHES(spectral::spectrum<double>(z, {.axis = a, .groups = 3}), invalid_input,
                       MessageMatches(ContainsSubstring("not divisible")));
  CHECK_THROWS_MATCHES(spectral::covariance<double>(z, {.axis = a, .groups = 2}, 2), invalid_input,
                       MessageMatches(ContainsSubstring("group: must be in [0, 2), got 2")));
}

TEST_CASE("bad input: method and option parameters", "[errors][core]") {
  SECTION("p < 0 and p not finite") {
    CHECK_THROWS_MATCHES(spectral::power_function{-0.5}, invalid_input,
                         MessageMatches(ContainsSubstring("power") && ContainsSubstring("-0.5")));
    CHECK_THROWS_MATCHES(spectral::power_function{k_nan}, invalid_input,
                         MessageMatches(ContainsSubstring("power") && ContainsSubstring("nan")));
    CHECK_THROWS_MATCHES(spectral::power_function{k_inf}, invalid_input,
                         MessageMatches(ContainsSubstring("power") && ContainsSubstring("inf")));
    CHECK_NOTHROW(spectral::power_function{0.0});
  }
  SECTION("T < 1") {
    CHECK_THROWS_MATCHES(spectral::iter_norm{0}, invalid_input,
                         MessageMatches(ContainsSubstring("iters") && ContainsSubstring("got 0")));
    CHECK_THROWS_MATCHES(spectral::iter_norm{-1}, invalid_input,
                         MessageMatches(ContainsSubstring("iters") && ContainsSubstring("got -1")));
    CHECK_NOTHROW(spectral::iter_norm{1});
  }
  SECTION("T above iter_norm::max_iterations") {
    CHECK_THROWS_MATCHES(spectral::iter_norm{1001}, invalid_input,
                         MessageMatches(ContainsSubstring("iters") && ContainsSubstring("1000") &&
                                        ContainsSubstring("got 1001")));
    CHECK_NOTHROW(spectral::iter_norm{spectral::iter_norm::max_iterations});
  }
  SECTION("eps < 0 and eps not finite") {
    for (const double eps : {-1e-3, k_nan, k_inf}) {
      CAPTURE(eps);
      const spectral::options opts{.eps = eps};
      CHECK_THROWS_MATCHES(opts.validate(), invalid_input,
                           MessageMatches(ContainsSubstring("eps: must be finite and >= 0")));
      CHECK_THROWS_AS(spectral::zca_transform<double>({}, opts), invalid_input);
      CHECK_THROWS_AS(spectral::iter_norm_transform<float>(spectral::iter_norm{4}, opts),
                      invalid_input);
      CHECK_THROWS_AS(spectral::spectrum<double>(gaussian(6, 3, 1), opts), invalid_input);
    }
    CHECK_THROWS_MATCHES(spectral::zca_transform<double>({}, {.eps = -1e-3}), invalid_input,
                         MessageMatches(ContainsSubstring("got -0.001")));
  }
  SECTION("groups < 1") {
    for (const spectral::index_t groups : {0, -2}) {
      CAPTURE(groups);
      CHECK_THROWS_MATCHES(
          spectral::cholesky_transform<double>({}, {.groups = groups}), invalid_input,
          MessageMatches(ContainsSubstring(
              std::string("groups: must be >= 1, got ").append(std::to_string(groups)))));
    }
  }
  SECTION("running_statistics momentum outside (0, 1]") {
    for (const double momentum : {0.0, -0.1, 1.5, k_nan}) {
      CAPTURE(momentum);
      CHECK_THROWS_MATCHES(spectral::running_statistics<double>{momentum}, invalid_input,
                           MessageMatches(ContainsSubstring("momentum: must be in (0, 1]")));
    }
    CHECK_THROWS_MATCHES(spectral::running_statistics<float>{1.5}, invalid_input,
                         MessageMatches(ContainsSubstring("got 1.5")));
    CHECK_NOTHROW(spectral::running_statistics<double>{1.0});
  }
  SECTION("intl_objective beta < 0") {
    CHECK_THROWS_MATCHES(
        (spectral::intl_objective<double>{spectral::iter_norm_transform<double>{}, -0.1}),
        invalid_input, MessageMatches(ContainsSubstring("beta") && ContainsSubstring("-0.1")));
  }
  SECTION("trade_off_beta with K < 2") {
    CHECK_THROWS_MATCHES(
        spectral::trade_off_beta(1), invalid_input,
        MessageMatches(ContainsSubstring("covariance_size") && ContainsSubstring("got 1")));
  }
}

TEMPLATE_TEST_CASE("bad input: singular covariance without eps is a numerical_error",
                   "[errors][core]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  CAPTURE(to_string(a));
  // M ≤ K: features axis N = 5 < D = 8, samples axis D = 5 < N = 8 (rank ≤ 4).
  const rmat<double> wide = gaussian(5, 8, 10);
  const rmat<TestType> z =
      (a == axis::features ? wide : rmat<double>(wide.transpose())).template cast<TestType>();
  // M > K but two exactly collinear directions.
  rmat<double> collinear = gaussian(30, 6, 11);
  collinear.col(4) = 2.0 * collinear.col(1);
  const rmat<TestType> z2 = (a == axis::features ? collinear : rmat<double>(collinear.transpose()))
                                .template cast<TestType>();
  const auto check = [&](const auto& st, const char* name) {
    CAPTURE(name);
    for (const auto* input : {&z, &z2}) {
      CHECK_THROWS_MATCHES(
          st.forward(*input), numerical_error,
          MessageMatches(ContainsSubstring(name) && ContainsSubstring("singular") &&
                         ContainsSubstring("eps=0")));
    }
  };
  check(spectral::zca_transform<TestType>{{}, {.axis = a}}, "zca");
  check(spectral::pca_transform<TestType>{{}, {.axis = a}}, "pca");
  check(spectral::cholesky_transform<TestType>{{}, {.axis = a}}, "cholesky");
  check(spectral::power_transform<TestType>{spectral::power_function{0.25}, {.axis = a}}, "power");
  // The same inputs are fine with eps, and for IterNorm and p = 0 without it.
  for_each_instance<TestType>({.axis = a, .eps = 0.1}, [&](const auto& st) {
    CAPTURE(st.method().name());
    CHECK(st.forward(z).output.allFinite());
  });
  CHECK(spectral::iter_norm_transform<TestType>{spectral::iter_norm{4}, {.axis = a}}
            .forward(z)
            .output.allFinite());
  CHECK(spectral::power_transform<TestType>{spectral::power_function{0.0}, {.axis = a}}
            .forward(z)
            .output.allFinite());
}

TEMPLATE_TEST_CASE("bad input: constant input is a numerical_error",
                   "[errors][core]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  // Every observation identical: equal rows (features) or equal columns (samples). Dyadic values
  // and 4 copies centre to exact zeros; Gaussian values and 5 copies leave rounding noise
  // (τ ~ 1e-33), which must not be whitened into an O(1) output.
  const bool exact = GENERATE(true, false);
  CAPTURE(to_string(a), exact);
  const rmat<double> gauss = gaussian(1, 6, 12);
  const rmat<TestType> row =
      (exact ? rmat<double>((8.0 * gauss).array().round() / 8.0) : gauss).template cast<TestType>();
  const Eigen::Index copies = exact ? 4 : 5;
  const rmat<TestType> z = a == axis::features
                               ? rmat<TestType>(row.replicate(copies, 1))
                               : rmat<TestType>(row.transpose().replicate(1, copies));
  REQUIRE(z.norm() > TestType(1));
  const spectral::iter_norm_transform<TestType> st{spectral::iter_norm{4}, {.axis = a}};
  CHECK_THROWS_MATCHES(st.forward(z), numerical_error,
                       MessageMatches(ContainsSubstring("iternorm") &&
                                      ContainsSubstring("every observation is identical")));
  for_each_instance<TestType>({.axis = a}, [&](const auto& other) {
    CAPTURE(other.method().name());
    CHECK_THROWS_AS(other.forward(z), numerical_error);
  });
  if (exact) {
    CHECK_THROWS_MATCHES(spectral::spectrum<TestType>(z, {.axis = a}), invalid_input,
                         MessageMatches(ContainsSubstring("covariance is zero")));
  }
}

TEST_CASE("bad input: backward with a context from another transform", "[errors][core]") {
  const rmat<double> z = gaussian(12, 4, 13);
  const rmat<double> gy = gaussian(12, 4, 14);
  const spectral::zca_transform<double> features{{}, {.axis = axis::features}};
  const spectral::zca_transform<double> samples{{}, {.axis = axis::samples}};
  const spectral::zca_transform<double> grouped{{}, {.axis = axis::features, .groups = 2}};
  const auto r = features.forward(z);
  CHECK_THROWS_MATCHES(
      samples.backward(r.context, gy), invalid_input,
      MessageMatches(ContainsSubstring("ctx: made by a transform with other options") &&
                     ContainsSubstring("axis features")));
  CHECK_THROWS_MATCHES(grouped.backward(r.context, gy), invalid_input,
                       MessageMatches(ContainsSubstring("ctx") && ContainsSubstring("groups 1")));
  CHECK_THROWS_MATCHES(
      features.backward(spectral::transform_context<double, spectral::zca_whitening>{}, gy),
      invalid_input, MessageMatches(ContainsSubstring("ctx: the context is empty")));
  CHECK(features.backward(r.context, gy).allFinite());
}

TEST_CASE("bad input: loss shapes", "[errors][core]") {
  const rmat<double> a = gaussian(4, 3, 15);
  const rmat<double> b = gaussian(4, 2, 16);
  CHECK_THROWS_MATCHES(spectral::normalized_mse<double>(a, b), invalid_input,
                       MessageMatches(ContainsSubstring("b: expected 4x3, got 4x2")));
  rmat<double> grad(3, 4);
  spectral::embedding_ref<double> grad_ref(grad);
  CHECK_THROWS_MATCHES(spectral::normalized_mse<double>(a, a, &grad_ref), invalid_input,
                       MessageMatches(ContainsSubstring("grad_a: expected 4x3, got 3x4")));
  CHECK_THROWS_MATCHES(spectral::normalized_mse<double>(a, a, nullptr, &grad_ref), invalid_input,
                       MessageMatches(ContainsSubstring("grad_b: expected 4x3, got 3x4")));
  CHECK_THROWS_MATCHES(spectral::trace_loss<double>(a, axis::features, &grad_ref), invalid_input,
                       MessageMatches(ContainsSubstring("grad: expected 4x3, got 3x4")));
}

TEST_CASE("bad input: intl_objective views", "[errors][core]") {
  const spectral::intl_objective<double> loss{spectral::iter_norm_transform<double>{}, 0.05};
  const rmat<double> v0 = gaussian(6, 4, 17);
  CHECK_THROWS_MATCHES(loss.evaluate({v0}), invalid_input,
                       MessageMatches(ContainsSubstring("views") && ContainsSubstring("got 1")));
  CHECK_THROWS_MATCHES(loss.evaluate({}), invalid_input,
                       MessageMatches(ContainsSubstring("got 0")));
  CHECK_THROWS_MATCHES(loss.evaluate({v0, v0, gaussian(5, 4, 18)}), invalid_input,
                       MessageMatches(ContainsSubstring("view 2 is 5x4 but view 0 is 6x4")));
  std::vector<rmat<double>> grads;
  CHECK_THROWS_AS(loss.evaluate({v0, gaussian(6, 3, 19)}, &grads), invalid_input);
  CHECK(grads.empty());  // nothing written on failure
}

TEMPLATE_TEST_CASE("never silent NaN: ill-conditioned input throws or stays finite",
                   "[errors][core]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const double cond = GENERATE(1e12, 1e30);
  CAPTURE(to_string(a), cond);
  // Singular values spread geometrically so that cond(Σ) = cond.
  const Eigen::Index k = 6;
  const Eigen::Index m = 40;
  const Eigen::HouseholderQR<Eigen::MatrixXd> left(gaussian(m, k, 20));
  const Eigen::HouseholderQR<Eigen::MatrixXd> right(gaussian(k, k, 21));
  const Eigen::MatrixXd u = left.householderQ() * Eigen::MatrixXd::Identity(m, k);
  Eigen::VectorXd s(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    s(i) = std::pow(std::sqrt(cond), -static_cast<double>(i) / static_cast<double>(k - 1));
  }
  const rmat<double> z_features =
      u * s.asDiagonal() * right.householderQ() * Eigen::MatrixXd::Identity(k, k);
  const rmat<TestType> z = (a == axis::features ? z_features : rmat<double>(z_features.transpose()))
                               .template cast<TestType>();
  REQUIRE(z.allFinite());
  const rmat<TestType> gy = gaussian(z.rows(), z.cols(), 22).template cast<TestType>();
  int finite = 0;
  int thrown = 0;
  const auto check = [&](const auto& st) {
    CAPTURE(st.method().name());
    try {
      const auto r = st.forward(z);
      REQUIRE(r.output.allFinite());
      const rmat<TestType> gz = st.backward(r.context, gy);
      REQUIRE(gz.allFinite());
      ++finite;
    } catch (const numerical_error&) {
      ++thrown;
    }
  };
  for_each_instance<TestType>({.axis = a}, check);
  check(spectral::iter_norm_transform<TestType>{spectral::iter_norm{12}, {.axis = a}});
  CHECK(finite + thrown == 7);
}
