// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Running statistics: EMA of the batch mean and of each group's W, and inference with them.

#include <spectral/spectral.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>

namespace {

using Catch::Matchers::ContainsSubstring;
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

/// A batch with a non-zero mean and an anisotropic covariance.
template <class T>
rmat<T> batch(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  const Eigen::VectorXd scale = Eigen::VectorXd::LinSpaced(cols, 0.5, 3.0);
  rmat<double> z = gaussian(rows, cols, seed) *
                   (Eigen::MatrixXd::Identity(cols, cols) + 0.4 * gaussian(cols, cols, seed + 1)) *
                   scale.asDiagonal();
  z.rowwise() += Eigen::RowVectorXd::LinSpaced(cols, -1.0, 2.0);
  return z.cast<T>();
}

template <class A, class B>
double rel_error(const A& a, const B& b) {
  return (a.template cast<double>() - b.template cast<double>()).norm() /
         b.template cast<double>().norm();
}

template <class T>
double tolerance() {
  return std::is_same_v<T, float> ? 1e-6 : 1e-15;
}

}  // namespace

TEMPLATE_TEST_CASE("running_statistics: first update copies, later updates follow the EMA",
                   "[running_statistics][core]",
                   float,
                   double) {
  const spectral::index_t groups = GENERATE(1, 2);
  const double momentum = 0.3;
  CAPTURE(groups, momentum);
  const spectral::zca_transform<TestType> st{{}, {.groups = groups}};
  const auto first = st.forward(batch<TestType>(20, 6, 1));
  const auto second = st.forward(batch<TestType>(20, 6, 2));
  REQUIRE(first.context.feature_mean().norm() > TestType(0.5));
  REQUIRE(rel_error(second.context.solved_transform(0), first.context.solved_transform(0)) > 1e-2);

  spectral::running_statistics<TestType> stats{momentum};
  CHECK(stats.empty());
  stats.update(first.context);
  CHECK_FALSE(stats.empty());
  REQUIRE(stats.groups() == groups);
  CHECK(stats.mean() == first.context.feature_mean());
  for (spectral::index_t g = 0; g < stats.groups(); ++g) {
    CHECK(stats.transform(g) == first.context.solved_transform(g));
  }

  stats.update(second.context);
  const auto keep = static_cast<TestType>(1 - momentum);
  const auto take = static_cast<TestType>(momentum);
  const spectral::vector<TestType> mean =
      keep * first.context.feature_mean() + take * second.context.feature_mean();
  CHECK(rel_error(stats.mean(), mean) <= tolerance<TestType>());
  for (spectral::index_t g = 0; g < stats.groups(); ++g) {
    CAPTURE(g);
    const spectral::matrix<TestType> w =
        keep * first.context.solved_transform(g) + take * second.context.solved_transform(g);
    CHECK(rel_error(stats.transform(g), w) <= tolerance<TestType>());
  }
}

TEMPLATE_TEST_CASE("running_statistics: apply equals forward after an update with momentum 1",
                   "[running_statistics][core]",
                   float,
                   double) {
  const spectral::index_t groups = GENERATE(1, 3);
  CAPTURE(groups);
  const rmat<TestType> z1 = batch<TestType>(24, 6, 10);
  const rmat<TestType> z2 = batch<TestType>(24, 6, 11);
  const double tol = std::is_same_v<TestType, float> ? 1e-5 : 1e-13;

  const auto check = [&](const auto& st) {
    spectral::running_statistics<TestType> stats{1.0};
    const auto r1 = st.forward(z1);
    stats.update(r1.context);
    rmat<TestType> out(z1.rows(), z1.cols());
    stats.apply(z1, out);
    REQUIRE(r1.output.norm() > TestType(1));
    CHECK(rel_error(out, r1.output) <= tol);
    // Momentum 1 replaces the statistics with the newest batch.
    const auto r2 = st.forward(z2);
    stats.update(r2.context);
    stats.apply(z2, out);
    CHECK(rel_error(out, r2.output) <= tol);
    REQUIRE(rel_error(r2.output, r1.output) > 0.1);
  };
  SECTION("zca") { check(spectral::zca_transform<TestType>{{}, {.groups = groups}}); }
  SECTION("iter_norm") {
    check(spectral::iter_norm_transform<TestType>{spectral::iter_norm{5}, {.groups = groups}});
  }
  SECTION("cholesky") { check(spectral::cholesky_transform<TestType>{{}, {.groups = groups}}); }
}

TEST_CASE("running_statistics: misuse is rejected", "[running_statistics][core][errors]") {
  const spectral::zca_transform<double> features{};
  spectral::running_statistics<double> stats{0.1};
  rmat<double> out(20, 6);

  SECTION("apply before update") {
    CHECK_THROWS_AS(stats.apply(batch<double>(20, 6, 1), out), spectral::invalid_input);
    CHECK_THROWS_WITH(stats.apply(batch<double>(20, 6, 1), out),
                      ContainsSubstring("apply() before any update()"));
  }
  SECTION("samples axis") {
    const spectral::zca_transform<double> samples{{}, {.axis = axis::samples}};
    const auto r = samples.forward(batch<double>(5, 12, 2));
    CHECK_THROWS_AS(stats.update(r.context), spectral::invalid_input);
    CHECK_THROWS_WITH(stats.update(r.context),
                      ContainsSubstring("features axis") && ContainsSubstring("samples axis"));
    CHECK(stats.empty());
  }
  SECTION("an empty context") {
    CHECK_THROWS_WITH(stats.update(spectral::transform_context<double, spectral::zca_whitening>{}),
                      ContainsSubstring("ctx") && ContainsSubstring("empty"));
  }
  SECTION("shape changes after the first update") {
    stats.update(features.forward(batch<double>(20, 6, 3)).context);
    const auto wider = features.forward(batch<double>(20, 8, 4));
    CHECK_THROWS_AS(stats.update(wider.context), spectral::invalid_input);
    CHECK_THROWS_WITH(stats.update(wider.context),
                      ContainsSubstring("D=8") && ContainsSubstring("D=6"));
    const spectral::zca_transform<double> grouped{{}, {.groups = 2}};
    CHECK_THROWS_WITH(stats.update(grouped.forward(batch<double>(20, 6, 5)).context),
                      ContainsSubstring("2 groups"));
    rmat<double> wide_out(20, 8);
    CHECK_THROWS_WITH(stats.apply(batch<double>(20, 8, 6), wide_out),
                      ContainsSubstring("D=8") && ContainsSubstring("D=6"));
    rmat<double> short_out(19, 6);
    CHECK_THROWS_WITH(
        stats.apply(batch<double>(20, 6, 6), short_out),
        ContainsSubstring("out") && ContainsSubstring("20x6") && ContainsSubstring("19x6"));
    rmat<double> bad = batch<double>(20, 6, 7);
    bad(4, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(stats.apply(bad, out), ContainsSubstring("z: entry (4, 2)"));
  }
}
