// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// options: defaults, the per-group K×M shape of each axis, and covariance()
// (docs/math.md#notation).

#include <spectral/spectral.hpp>

#include <common/reference.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <cstdint>
#include <random>

namespace {

using spectral::axis;
using rmat = spectral::row_matrix<double>;

rmat gaussian(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  rmat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = normal(gen);
  }
  return m;
}

}  // namespace

TEST_CASE("options: defaults match the CLI contract", "[options][core]") {
  const spectral::options opts;
  CHECK(opts.axis == axis::features);
  CHECK(opts.groups == 1);
  CHECK(opts.eps == 0.0);
  CHECK_NOTHROW(opts.validate());
  CHECK(spectral::to_string(axis::samples) == "samples");
  CHECK(spectral::to_string(axis::features) == "features");
}

TEST_CASE("options: per-group shape K×M of each axis", "[options][core]") {
  // Features axis: K = D/G, M = N; samples axis: K = N, M = D/G.
  const auto features =
      spectral::checked_group_shape(10, 12, {.axis = axis::features, .groups = 3});
  CHECK(features.size == 4);
  CHECK(features.observations == 10);
  const auto samples = spectral::checked_group_shape(10, 12, {.axis = axis::samples, .groups = 3});
  CHECK(samples.size == 10);
  CHECK(samples.observations == 4);
  const auto minimal = spectral::checked_group_shape(2, 1, {});
  CHECK(minimal.size == 1);
  CHECK(minimal.observations == 2);
}

TEST_CASE("options: covariance() equals the reference on both axes, with groups and eps",
          "[options][core]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const int groups = GENERATE(1, 2);
  const double eps = GENERATE(0.0, 0.25);
  const std::uint64_t seed = 31;
  CAPTURE(to_string(a), groups, eps, seed);
  rmat z = gaussian(7, 8, seed);
  z.rowwise() += Eigen::RowVectorXd::LinSpaced(8, -3.0, 4.0);  // non-zero means on both axes
  z.col(0) *= 5.0;
  const auto ref_axis = a == axis::samples ? spectral_test::reference::axis::samples
                                           : spectral_test::reference::axis::features;
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const spectral::matrix<double> sigma =
        spectral::covariance<double>(z, {.axis = a, .groups = groups, .eps = eps}, g);
    const Eigen::MatrixXd expected =
        spectral_test::reference::covariance(z, ref_axis, groups, g, eps);
    REQUIRE(expected.norm() > 1.0);
    CHECK(sigma.rows() == (a == axis::features ? 8 / groups : 7));
    CHECK((sigma - expected).norm() <= 1e-13 * expected.norm());
    CHECK((sigma - sigma.transpose()).norm() == 0.0);
  }
}
