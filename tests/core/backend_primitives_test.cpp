// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The CPU backend's batched primitives: the shared suite (tests/backends/primitives_suite.hpp),
// then what the CPU backend decides where the concept leaves a choice (NaN in eigh and potrf,
// which example a status word keeps, for_each_entry's order) and its refusals of bad batches.

#include <spectral/cpu/backend.hpp>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <backends/primitives_suite.hpp>

static_assert(spectral::batched_backend<spectral::cpu::backend>);

namespace {

using spectral::batch;
using spectral::index_t;
using spectral::status_word;
using spectral::cpu::backend;
using spectral_test::rel_error;
using namespace spectral_test::backend_suite;  // NOLINT(google-build-using-namespace)

struct cpu_fixture {
  static backend make() { return {}; }
  static void skip_unless_available() {}
};

/// Records the order of the calls (host only).
struct record_order {
  std::vector<index_t>* calls;
  void operator()(index_t b, index_t i, index_t j) const {
    calls->push_back(b * 10000 + j * 100 + i);
  }
};

}  // namespace

SPECTRAL_BACKEND_PRIMITIVES_SUITE(cpu_fixture, "cpu", "[cpu]")

TEMPLATE_TEST_CASE("cpu backend: eigh flags a NaN or Inf in the lower triangle and returns NaN",
                   "[backend][cpu]",
                   float,
                   double) {
  using T = TestType;
  backend be;
  // k = 40: LAPACK's divide and conquer answers info = 0 and some finite eigenvalues on NaN.
  for (const index_t k : {index_t{6}, index_t{40}, index_t{100}}) {
    for (const double bad :
         {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::infinity()}) {
      CAPTURE(k, bad);
      std::vector<Eigen::MatrixXd> mats;
      spectral_test::rng_t rng(static_cast<std::uint64_t>(k));
      for (index_t g = 0; g < 3; ++g) {
        mats.push_back(with_spectrum<T>(spread_spectrum(k, g), rng));
      }
      mats[1](k - 1, 1) = bad;  // lower triangle only: what the solver reads
      mats[2](0, k - 1) = bad;  // strict upper only: never read
      auto a = to_device<T>(be, mats, layout::padded);
      auto values = to_device<T>(be, gaussians<T>(k, 1, 3, 5), layout::packed);
      auto status = be.zeros<status_word>(1);
      be.eigh(a.view(), values.view(), status.data());
      const status_word s = status.data()[0];
      CHECK(s.flags == static_cast<unsigned>(spectral::status_solver_failed));
      const example e = example_of(s, spectral::status_solver_failed);
      CHECK(e.group == 1);
      CHECK((std::isnan(bad) ? std::isnan(e.value) : e.value == bad));
      const auto image = a.image(be);
      const auto values_image = values.image(be);
      CHECK(values.host.matrix(values_image, 1).array().isNaN().all());
      CHECK(a.host.matrix(image, 1).array().isNaN().all());
      for (const index_t g : {index_t{0}, index_t{2}}) {
        Eigen::MatrixXd sym = a.host.matrix(g);
        sym.triangularView<Eigen::StrictlyUpper>() = sym.transpose();
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> reference(sym);
        CHECK((values.host.matrix(values_image, g).col(0) - reference.eigenvalues())
                  .cwiseAbs()
                  .maxCoeff() <= 64.0 * static_cast<double>(k) * eps<T>());
      }
    }
  }
}

TEMPLATE_TEST_CASE("cpu backend: batched eigh equals a batch of one, bit for bit",
                   "[backend][cpu]",
                   float,
                   double) {
  using T = TestType;
  backend be;
  const index_t k = 30;
  spectral_test::rng_t rng(31);
  std::vector<Eigen::MatrixXd> mats;
  for (index_t g = 0; g < 2; ++g) {
    mats.push_back(with_spectrum<T>(spread_spectrum(k, g), rng));
  }
  auto a = to_device<T>(be, mats, layout::packed);
  auto values = be.allocate<T>(2 * k);
  auto status = be.zeros<status_word>(1);
  be.eigh(a.view(), spectral::dense_batch(values.data(), k, 1, 2), status.data());
  REQUIRE(status.data()->flags == 0U);
  for (index_t g = 0; g < 2; ++g) {
    // The same matrix alone, as a batch of one: batching changes no bit.
    spectral::matrix<T> single = mats[static_cast<std::size_t>(g)].cast<T>();
    spectral::vector<T> single_values(k);
    be.eigh(spectral::dense_batch(single.data(), k, k, 1),
            spectral::dense_batch(single_values.data(), k, 1, 1), status.data());
    REQUIRE(status.data()->flags == 0U);
    const Eigen::Map<const spectral::matrix<T>> u(a.view().matrix(g), k, k);
    const Eigen::Map<const spectral::vector<T>> lambda(values.data() + g * k, k);
    CHECK(u == single);
    CHECK(lambda == single_values);
  }
}

TEMPLATE_TEST_CASE("cpu backend: potrf reports the failing pivot, NaN, and the first group",
                   "[backend][cpu]",
                   float,
                   double) {
  using T = TestType;
  backend be;
  SECTION("a failing pivot past the first blocks: its value, like LAPACK's potrf") {
    const index_t k = 150;
    const index_t failing = 130;
    Eigen::VectorXd d = Eigen::VectorXd::LinSpaced(k, 1.0, 2.0);
    d(failing) = -0.75;
    spectral_test::rng_t rng(150);
    std::vector<Eigen::MatrixXd> mats{
        with_spectrum<T>(Eigen::VectorXd::LinSpaced(k, 1.0, 4.0), rng), with_pivots<T>(d, rng)};
    auto a = to_device<T>(be, mats, layout::padded);
    auto status = be.zeros<status_word>(1);
    be.potrf(a.view(), status.data());
    const status_word s = status.data()[0];
    REQUIRE(s.flags == static_cast<unsigned>(spectral::status_not_positive_definite));
    const example e = example_of(s, spectral::status_not_positive_definite);
    CHECK(e.group == 1);
    CHECK(e.bound == 0.0);
    const double pivot = pivot_of(mats[1], failing);
    CHECK(std::abs(e.value - pivot) <= 64.0 * static_cast<double>(k) * eps<T>() * std::abs(pivot));
    const auto image = a.image(be);
    CHECK(a.host.outside_unchanged(image));
    const Eigen::MatrixXd l = a.host.matrix(image, 0);
    CHECK(rel_error(Eigen::MatrixXd(l * l.transpose()), mats[0]) <= 8.0 * 150.0 * eps<T>());
  }
  SECTION("a NaN (which LAPACK's potrf lets through) and two failing groups: the first kept") {
    const index_t k = 8;
    spectral_test::rng_t rng(8);
    std::vector<Eigen::MatrixXd> mats;
    for (index_t g = 0; g < 4; ++g) {
      mats.push_back(with_spectrum<T>(Eigen::VectorXd::LinSpaced(k, 1.0, 4.0), rng));
    }
    mats[1](5, 3) = std::numeric_limits<double>::quiet_NaN();
    mats[1](3, 5) = std::numeric_limits<double>::quiet_NaN();
    mats[3](2, 2) = -1.0;
    auto a = to_device<T>(be, mats, layout::packed);
    auto status = be.zeros<status_word>(1);
    be.potrf(a.view(), status.data());
    const status_word s = status.data()[0];
    REQUIRE(s.flags == static_cast<unsigned>(spectral::status_not_positive_definite));
    const example e = example_of(s, spectral::status_not_positive_definite);
    CHECK(e.group == 1);
    CHECK(std::isnan(e.value));
    // Every group's strict upper triangle is zeroed, failed or not.
    const auto image = a.image(be);
    for (index_t g = 0; g < 4; ++g) {
      const Eigen::MatrixXd l = a.host.matrix(image, g);
      CHECK((l.triangularView<Eigen::StrictlyUpper>().toDenseMatrix().array() == 0.0).all());
    }
  }
}

TEMPLATE_TEST_CASE("cpu backend: check_finite keeps the first bad entry in column-major order",
                   "[backend][cpu]",
                   float,
                   double) {
  using T = TestType;
  backend be;
  auto mats = gaussians<T>(4, 5, 3, 12);
  mats[1](3, 0) = std::numeric_limits<double>::quiet_NaN();
  mats[1](0, 3) = std::numeric_limits<double>::infinity();
  mats[2](1, 1) = -std::numeric_limits<double>::infinity();
  auto a = to_device<T>(be, mats, layout::padded);
  auto status = be.zeros<status_word>(1);
  status.data()->flags = spectral::status_nonfinite_input;  // an earlier report stays
  status.data()->value[0] = 7.0;
  be.check_finite(a.view(), status.data(), spectral::status_nonfinite_output);
  const status_word s = status.data()[0];
  CHECK(s.flags == (spectral::status_nonfinite_input | spectral::status_nonfinite_output));
  CHECK(s.value[0] == 7.0);
  const example e = example_of(s, spectral::status_nonfinite_output);
  CHECK(e.group == 1);
  CHECK(std::isnan(e.value));
}

TEST_CASE("cpu backend: for_each_entry visits b, then columns, then rows", "[backend][cpu]") {
  const backend be;
  std::vector<index_t> calls;
  be.for_each_entry(spectral::extent{2, 3, 2}, record_order{&calls});
  const std::vector<index_t> expected{0,     1,     2,     100,   101,   102,
                                      10000, 10001, 10002, 10100, 10101, 10102};
  CHECK(calls == expected);
}

TEST_CASE("cpu backend: batches of the wrong shape or overlapping outputs are refused",
          "[backend][cpu]") {
  using Catch::Matchers::ContainsSubstring;
  using Catch::Matchers::MessageMatches;
  backend be;
  std::vector<double> storage(64, 1.0);
  const batch<double> a4x3{storage.data(), 4, 3, 4, 12, 2};
  const batch<double> a3x5{storage.data(), 3, 5, 3, 15, 2};
  std::vector<double> out(64, 0.0);
  const batch<double> c4x5{out.data(), 4, 5, 4, 20, 2};
  CHECK_NOTHROW(be.gemm(spectral::op::none, spectral::op::none, 1.0, a4x3, a3x5, 0.0, c4x5));
  CHECK_THROWS_MATCHES(
      be.gemm(spectral::op::transpose, spectral::op::none, 1.0, a4x3, a3x5, 0.0, c4x5),
      spectral::invalid_input, MessageMatches(ContainsSubstring("gemm: A is 4x3, expected 4x4")));
  const batch<double> overlapping{out.data(), 4, 5, 4, 7, 2};
  CHECK_THROWS_MATCHES(
      be.gemm(spectral::op::none, spectral::op::none, 1.0, a4x3, a3x5, 0.0, overlapping),
      spectral::invalid_input, MessageMatches(ContainsSubstring("overlap")));
  const batch<double> short_ld{out.data(), 4, 4, 3, 16, 1};
  auto status = be.zeros<status_word>(1);
  auto values = be.allocate<double>(4);
  CHECK_THROWS_MATCHES(
      be.eigh(short_ld, spectral::dense_batch(values.data(), 4, 1, 1), status.data()),
      spectral::invalid_input, MessageMatches(ContainsSubstring("leading dimension 3")));
  const batch<double> wide{out.data(), 4, 5, 4, 20, 1};
  CHECK_THROWS_MATCHES(be.potrf(wide, status.data()), spectral::invalid_input,
                       MessageMatches(ContainsSubstring("not square")));
}
