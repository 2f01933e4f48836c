// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// The INTL objective for V views (docs/math.md#intl-loss; checks docs/math.md#check-24 and
// docs/math.md#check-31).

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
#include <random>
#include <type_traits>
#include <utility>
#include <vector>

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

/// V correlated views of one batch: a shared anisotropic base plus independent noise.
std::vector<rmat<double>> make_views(std::size_t count,
                                     Eigen::Index rows,
                                     Eigen::Index cols,
                                     std::uint64_t seed) {
  const rmat<double> base = row_anisotropic(rows, cols, seed);
  std::vector<rmat<double>> views;
  for (std::size_t v = 0; v < count; ++v) {
    views.push_back(base + 0.5 * row_gaussian(rows, cols, seed + 100 + v));
  }
  return views;
}

/// (N, D) with M > K on the given axis.
std::pair<Eigen::Index, Eigen::Index> shape_for(axis a) {
  return a == axis::features ? std::pair<Eigen::Index, Eigen::Index>{10, 4}
                             : std::pair<Eigen::Index, Eigen::Index>{5, 12};
}

ref::config ref_config(ref::method kind, axis a, int groups = 1) {
  ref::config c;
  c.kind = kind;
  c.iterations = 4;
  c.power = 0.25;
  c.ax = a == axis::samples ? ref::axis::samples : ref::axis::features;
  c.groups = groups;
  return c;
}

template <class T>
std::vector<rmat<T>> cast_all(const std::vector<rmat<double>>& views) {
  std::vector<rmat<T>> out;
  for (const auto& v : views) {
    out.push_back(v.template cast<T>());
  }
  return out;
}

template <class T, class Method>
spectral::intl_objective<T, Method> objective(Method method,
                                              axis a,
                                              double beta,
                                              spectral::index_t groups = 1) {
  return {spectral::spectral_transform<T, Method>{method, {.axis = a, .groups = groups}}, beta};
}

constexpr double beta = 0.3;  // large enough that the trace terms matter in every check

}  // namespace

TEMPLATE_TEST_CASE("intl_objective: value and gradients equal the reference (IterNorm)",
                   "[intl_objective][losses]",
                   float,
                   double) {
  const axis a = GENERATE(axis::samples, axis::features);
  const std::size_t count = GENERATE(2u, 6u);
  const auto [rows, cols] = shape_for(a);
  const std::uint64_t seed = 11 + count;
  CAPTURE(to_string(a), count, rows, cols, seed);
  const auto views = make_views(count, rows, cols, seed);
  const auto loss = objective<TestType>(spectral::iter_norm{4}, a, beta);

  std::vector<rmat<TestType>> grads;
  const auto terms = loss.evaluate(cast_all<TestType>(views), &grads);
  std::vector<Eigen::MatrixXd> expected_grads;
  const std::vector<Eigen::MatrixXd> ref_views(views.begin(), views.end());
  const double expected =
      ref::intl_objective(ref_views, ref_config(ref::method::iter_norm, a), beta, &expected_grads);
  REQUIRE(expected > 0.05);
  const double tol = std::is_same_v<TestType, float> ? 1e-4 : 1e-10;
  CHECK_THAT(static_cast<double>(terms.total), WithinRel(expected, tol));
  CHECK_THAT(static_cast<double>(terms.total),
             WithinRel(static_cast<double>(terms.alignment + TestType(beta) * terms.trace), tol));
  REQUIRE(grads.size() == count);
  for (std::size_t v = 0; v < count; ++v) {
    CAPTURE(v);
    REQUIRE(expected_grads[v].norm() > 1e-3);
    CHECK(rel_error(grads[v], expected_grads[v]) <= tol);
  }
  // Without grads the value is the same.
  CHECK(loss.evaluate(cast_all<TestType>(views)).total == terms.total);
}

TEST_CASE("intl_objective: other methods and groups equal the reference",
          "[intl_objective][losses]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const int groups = GENERATE(1, 2);
  const auto [rows, base_cols] = shape_for(a);
  const Eigen::Index cols = base_cols * groups;  // keeps M > K per group
  CAPTURE(to_string(a), groups, rows, cols);
  const auto views = make_views(3, rows, cols, 77);
  const std::vector<Eigen::MatrixXd> ref_views(views.begin(), views.end());

  const auto check = [&](const auto& loss, ref::method kind) {
    std::vector<rmat<double>> grads;
    const double value = loss.evaluate(views, &grads).total;
    std::vector<Eigen::MatrixXd> expected_grads;
    const double expected =
        ref::intl_objective(ref_views, ref_config(kind, a, groups), beta, &expected_grads);
    REQUIRE(expected > 0.05);
    CHECK_THAT(value, WithinRel(expected, 1e-10));
    for (std::size_t v = 0; v < views.size(); ++v) {
      CAPTURE(v);
      REQUIRE(expected_grads[v].norm() > 1e-3);
      CHECK(rel_error(grads[v], expected_grads[v]) <= 1e-9);
    }
  };
  SECTION("zca") {
    check(objective<double>(spectral::zca_whitening{}, a, beta, groups), ref::method::zca);
  }
  SECTION("pca") {
    check(objective<double>(spectral::pca_whitening{}, a, beta, groups), ref::method::pca);
  }
  SECTION("cholesky") {
    check(objective<double>(spectral::cholesky_whitening{}, a, beta, groups),
          ref::method::cholesky);
  }
  SECTION("power 0.25") {
    check(objective<double>(spectral::power_function{0.25}, a, beta, groups), ref::method::power);
  }
  SECTION("iter_norm") {
    check(objective<double>(spectral::iter_norm{4}, a, beta, groups), ref::method::iter_norm);
  }
}

TEST_CASE("intl_objective: gradients equal central finite differences",
          "[intl_objective][losses]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const std::size_t count = GENERATE(2u, 3u);
  const auto [rows, cols] = shape_for(a);
  CAPTURE(to_string(a), count, rows, cols);
  auto views = make_views(count, rows, cols, 31 + count);
  const auto loss = objective<double>(spectral::iter_norm{4}, a, beta);
  std::vector<rmat<double>> grads;
  (void)loss.evaluate(views, &grads);
  for (std::size_t v = 0; v < count; ++v) {
    CAPTURE(v);
    rmat<double> fd(rows, cols);
    for (Eigen::Index i = 0; i < fd.size(); ++i) {
      double& entry = views[v].data()[i];
      const double keep = entry;
      const double h = 1e-6 * std::max(1.0, std::abs(keep));
      entry = keep + h;
      const double up = loss.evaluate(views).total;
      entry = keep - h;
      const double down = loss.evaluate(views).total;
      entry = keep;
      fd.data()[i] = (up - down) / (2 * h);
    }
    REQUIRE(fd.norm() > 1e-3);
    CHECK(rel_error(grads[v], fd) <= 1e-6);
  }
}

TEST_CASE("intl_objective: V = 6 weights and anchor pairing", "[intl_objective][losses]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const auto [rows, cols] = shape_for(a);
  CAPTURE(to_string(a), rows, cols);
  constexpr std::size_t count = 6;
  auto views = make_views(count, rows, cols, 55);
  const auto loss = objective<double>(spectral::iter_norm{4}, a, beta);

  // Assemble the objective by hand from the transform and the two losses.
  const auto parts = [&](const std::vector<rmat<double>>& vs) {
    std::vector<rmat<double>> out;
    for (const auto& v : vs) {
      out.push_back(loss.transform().forward(v).output);
    }
    return out;
  };
  const auto y = parts(views);
  double trace = spectral::trace_loss_value<double>(y[0], a);
  double alignment = 0;
  for (std::size_t i = 1; i < count; ++i) {
    trace += spectral::trace_loss_value<double>(y[i], a) / 5.0;
    alignment += spectral::normalized_mse<double>(y[i], y[0]) / 5.0;
  }
  std::vector<rmat<double>> grads;
  const auto terms = loss.evaluate(views, &grads);
  REQUIRE(alignment > 0.1);
  REQUIRE(trace > 0.1);
  CHECK_THAT(terms.trace, WithinRel(trace, 1e-12));
  CHECK_THAT(terms.alignment, WithinRel(alignment, 1e-12));
  CHECK_THAT(terms.total, WithinRel(alignment + beta * trace, 1e-12));

  SECTION("changing view 2 changes only its own pair and trace term") {
    auto changed = views;
    changed[2] = row_anisotropic(rows, cols, 999);
    const auto y2 = parts(changed);
    std::vector<rmat<double>> changed_grads;
    const auto changed_terms = loss.evaluate(changed, &changed_grads);
    const double d_nmse = spectral::normalized_mse<double>(y2[2], y2[0]) -
                          spectral::normalized_mse<double>(y[2], y[0]);
    const double d_trace =
        spectral::trace_loss_value<double>(y2[2], a) - spectral::trace_loss_value<double>(y[2], a);
    REQUIRE(std::abs(d_nmse) > 1e-3);
    CHECK_THAT(changed_terms.alignment - terms.alignment, WithinAbs(d_nmse / 5.0, 1e-12));
    CHECK_THAT(changed_terms.trace - terms.trace, WithinAbs(d_trace / 5.0, 1e-12));
    // View 1 is paired with view 0 only: its gradient does not see view 2.
    CHECK(rel_error(changed_grads[1], grads[1]) <= 1e-14);
    CHECK(rel_error(changed_grads[3], grads[3]) <= 1e-14);
    // The anchor is paired with every view, so its gradient does.
    CHECK(rel_error(changed_grads[0], grads[0]) > 1e-6);
  }
  SECTION("a view equal to the anchor has a zero nMSE term") {
    auto same = views;
    same[1] = views[0];
    const auto ys = parts(same);
    double expected = 0;
    for (std::size_t i = 2; i < count; ++i) {
      expected += spectral::normalized_mse<double>(ys[i], ys[0]) / 5.0;
    }
    CHECK_THAT(loss.evaluate(same).alignment, WithinRel(expected, 1e-12));
  }
  SECTION("V = 2 is nMSE + β (TL_0 + TL_1)") {
    const std::vector<rmat<double>> two{views[0], views[1]};
    const double expected = spectral::normalized_mse<double>(y[1], y[0]) +
                            beta * (spectral::trace_loss_value<double>(y[0], a) +
                                    spectral::trace_loss_value<double>(y[1], a));
    CHECK_THAT(loss.evaluate(two).total, WithinRel(expected, 1e-12));
  }
}
