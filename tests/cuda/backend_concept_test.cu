// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The CUDA backend's batched primitives where the shared suite (backend_primitives_test.cu,
// three small matrices per batch) does not reach: the single-matrix library calls (syrk, syevd,
// Xpotrf, trsm), reductions over many blocks (two passes) and their run-to-run determinism,
// centring at the shapes of a real embedding (2048×256 and 256×2048, both directions), a
// check_finite of a matrix full of NaN, and the scratch cache's reuse. Compared with Eigen in
// double on the host.

#include "device_data.cuh"

#include <spectral/cuda/backend.cuh>

#include <common/generators.hpp>
#include <common/tolerances.hpp>

#include <Eigen/Dense>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace {

using spectral::batch;
using spectral::index_t;
using spectral::op;
using spectral::status_word;
using spectral::cuda::backend;

template <class T>
double eps() {
  return static_cast<double>(std::numeric_limits<T>::epsilon());
}

/// A column-major matrix rounded to T, and its values back in double.
template <class T>
struct host_matrix {
  std::vector<T> data;
  Eigen::MatrixXd exact;  ///< what the device received
};

/// `count` rows×cols matrices stored at leading dimension `ld`, back to back (stride ld·cols),
/// NaN in the padding rows.
template <class T>
host_matrix<T> make(const std::vector<Eigen::MatrixXd>& mats, index_t ld) {
  const index_t rows = mats.front().rows();
  const index_t cols = mats.front().cols();
  host_matrix<T> h;
  h.data.assign(static_cast<std::size_t>(ld * cols) * mats.size(),
                std::numeric_limits<T>::quiet_NaN());
  h.exact.resize(rows, cols * static_cast<index_t>(mats.size()));
  for (std::size_t b = 0; b < mats.size(); ++b) {
    for (index_t j = 0; j < cols; ++j) {
      for (index_t i = 0; i < rows; ++i) {
        const T v = static_cast<T>(mats[b](i, j));
        h.data[b * static_cast<std::size_t>(ld * cols) + static_cast<std::size_t>(j * ld + i)] = v;
        h.exact(i, static_cast<index_t>(b) * cols + j) = static_cast<double>(v);
      }
    }
  }
  return h;
}

/// Matrix b of a downloaded image stored like make() stores.
template <class T>
Eigen::MatrixXd matrix_of(
    const std::vector<T>& image, index_t rows, index_t cols, index_t ld, index_t b) {
  Eigen::MatrixXd m(rows, cols);
  for (index_t j = 0; j < cols; ++j) {
    for (index_t i = 0; i < rows; ++i) {
      m(i, j) = static_cast<double>(image[static_cast<std::size_t>(b * ld * cols + j * ld + i)]);
    }
  }
  return m;
}

Eigen::MatrixXd spd(index_t k, std::uint64_t seed, double lo, double hi) {
  spectral_test::rng_t rng(seed);
  const Eigen::MatrixXd q = spectral_test::random_orthogonal(k, rng);
  const Eigen::MatrixXd s = q * Eigen::VectorXd::LinSpaced(k, lo, hi).asDiagonal() * q.transpose();
  return 0.5 * (s + s.transpose());
}

/// c(b, i, j) = b·1e4 + j·100 + i: every triple written once, at its own place.
template <class T>
struct label_entry {
  batch<T> c;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    c(b, i, j) = static_cast<T>(b * 10000 + j * 100 + i);
  }
};

template <class T>
void check_single_matrix_paths(backend& be) {
  const double e = eps<T>();
  // syrk, one matrix (cublas?syrk + mirror), both operand orientations.
  for (const op oa : {op::none, op::transpose}) {
    const index_t n = 70;
    const index_t k = 45;
    const auto a =
        make<T>({spectral_test::randn(oa == op::none ? n : k, oa == op::none ? k : n, 11)},
                (oa == op::none ? n : k) + 3);
    const auto c0 = make<T>({spd(n, 12, -1.0, 2.0)}, n + 1);
    auto da = be.upload<T>(a.data.data(), static_cast<index_t>(a.data.size()));
    auto dc = be.upload<T>(c0.data.data(), static_cast<index_t>(c0.data.size()));
    const index_t lda = (oa == op::none ? n : k) + 3;
    const batch<const T> av{da.data(), oa == op::none ? n : k, oa == op::none ? k : n, lda, 0, 1};
    be.syrk(oa, T(0.5), av, T(2), batch<T>{dc.data(), n, n, n + 1, 0, 1});
    const auto image = be.download<T>(dc.data(), static_cast<index_t>(dc.size()));
    const Eigen::MatrixXd got = matrix_of(image, n, n, n + 1, 0);
    const Eigen::MatrixXd opa = oa == op::none ? a.exact : Eigen::MatrixXd(a.exact.transpose());
    const Eigen::MatrixXd expected = 0.5 * opa * opa.transpose() + 2.0 * c0.exact;
    CHECK((got.array() == got.transpose().array()).all());
    CHECK(spectral_test::rel_error(got, expected) <= 8.0 * static_cast<double>(k) * e);
    CHECK(std::isnan(static_cast<double>(image[static_cast<std::size_t>(n)])));  // padding
  }
  // eigh, one matrix at ld > K (syevd).
  {
    const index_t k = 50;
    const auto a = make<T>({spd(k, 13, -2.0, 6.0)}, k + 2);
    auto da = be.upload<T>(a.data.data(), static_cast<index_t>(a.data.size()));
    auto values = be.allocate<T>(k);
    auto status = be.zeros<status_word>(1);
    be.eigh(batch<T>{da.data(), k, k, k + 2, 0, 1},
            spectral::dense_batch(values.data(), k, index_t{1}, index_t{1}), status.data());
    CHECK(be.download<status_word>(status.data(), 1).front().flags == 0U);
    const auto image = be.download<T>(da.data(), static_cast<index_t>(da.size()));
    const auto lambda_t = be.download<T>(values.data(), k);
    const Eigen::MatrixXd u = matrix_of(image, k, k, k + 2, 0);
    Eigen::VectorXd lambda(k);
    for (index_t i = 0; i < k; ++i) {
      lambda(i) = static_cast<double>(lambda_t[static_cast<std::size_t>(i)]);
    }
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> reference(a.exact);
    CHECK((lambda - reference.eigenvalues()).cwiseAbs().maxCoeff() <= 8.0 * 50.0 * e * 6.0);
    CHECK((a.exact * u - u * lambda.asDiagonal()).norm() <= 8.0 * 50.0 * e * 6.0 * std::sqrt(50.0));
    for (index_t j = 0; j < k; ++j) {
      index_t arg = 0;
      u.col(j).cwiseAbs().maxCoeff(&arg);
      CHECK(u(arg, j) > 0.0);
    }
  }
  // potrf, one matrix (Xpotrf): a factor, then a failure.
  {
    const index_t k = 64;
    const auto a = make<T>({spd(k, 14, 0.5, 4.0)}, k + 1);
    auto da = be.upload<T>(a.data.data(), static_cast<index_t>(a.data.size()));
    auto status = be.zeros<status_word>(1);
    const batch<T> av{da.data(), k, k, k + 1, 0, 1};
    be.potrf(av, status.data());
    CHECK(be.download<status_word>(status.data(), 1).front().flags == 0U);
    const Eigen::MatrixXd l =
        matrix_of(be.download<T>(da.data(), static_cast<index_t>(da.size())), k, k, k + 1, 0);
    CHECK((l.triangularView<Eigen::StrictlyUpper>().toDenseMatrix().array() == 0.0).all());
    CHECK(spectral_test::rel_error(Eigen::MatrixXd(l * l.transpose()), a.exact) <= 8.0 * 64.0 * e);

    // solve_lower, one matrix (trsm), with the factor just computed.
    const index_t m = 9;
    const auto c = make<T>({spectral_test::randn(k, m, 15)}, k);
    auto dc = be.upload<T>(c.data.data(), static_cast<index_t>(c.data.size()));
    be.solve_lower(av, spectral::dense_batch(dc.data(), k, m, index_t{1}));
    const Eigen::MatrixXd x = matrix_of(be.download<T>(dc.data(), k * m), k, m, k, 0);
    CHECK(spectral_test::rel_error(Eigen::MatrixXd(l.triangularView<Eigen::Lower>() * x),
                                   c.exact) <= 64.0 * 64.0 * e);

    const auto bad = make<T>({spd(k, 16, -1.0, 4.0)}, k);
    auto dbad = be.upload<T>(bad.data.data(), k * k);
    auto status2 = be.zeros<status_word>(1);
    be.potrf(spectral::dense_batch(dbad.data(), k, k, index_t{1}), status2.data());
    const status_word s = be.download<status_word>(status2.data(), 1).front();
    CHECK(s.flags == static_cast<unsigned>(spectral::status_not_positive_definite));
  }
}

template <class T>
void check_reductions_and_centring(backend& be) {
  const double e = eps<T>();
  // trace, dot, max_abs over many chunks (one 300×200 matrix: 30 blocks), twice, bitwise equal.
  {
    const index_t r = 300;
    const index_t c = 200;
    const auto a = make<T>({spectral_test::randn(r, c, 21), spectral_test::randn(r, c, 22)}, r);
    const auto b = make<T>({spectral_test::randn(r, c, 23), spectral_test::randn(r, c, 24)}, r);
    auto da = be.upload<T>(a.data.data(), static_cast<index_t>(a.data.size()));
    auto db = be.upload<T>(b.data.data(), static_cast<index_t>(b.data.size()));
    const batch<const T> av = spectral::dense_batch<const T>(da.data(), r, c, 2);
    const batch<const T> bv = spectral::dense_batch<const T>(db.data(), r, c, 2);
    auto out = be.allocate<T>(6);
    be.trace(av, out.data());
    be.dot(av, bv, out.data() + 2);
    be.max_abs(av, out.data() + 4);
    const auto first = be.download<T>(out.data(), 6);
    be.trace(av, out.data());
    be.dot(av, bv, out.data() + 2);
    be.max_abs(av, out.data() + 4);
    const auto second = be.download<T>(out.data(), 6);
    CHECK(std::memcmp(first.data(), second.data(), 6 * sizeof(T)) == 0);
    for (index_t g = 0; g < 2; ++g) {
      const Eigen::MatrixXd am = a.exact.middleCols(g * c, c);
      const Eigen::MatrixXd bm = b.exact.middleCols(g * c, c);
      const auto gi = static_cast<std::size_t>(g);
      CHECK(std::abs(static_cast<double>(first[gi]) - am.trace()) <=
            4.0 * e * am.diagonal().cwiseAbs().sum());
      CHECK(std::abs(static_cast<double>(first[2 + gi]) - am.cwiseProduct(bm).sum()) <=
            4.0 * e * am.cwiseProduct(bm).cwiseAbs().sum());
      CHECK(static_cast<double>(first[4 + gi]) == am.cwiseAbs().maxCoeff());
    }
  }
  // check_finite: a matrix full of NaN (every warp finds one), then one Inf at the very end.
  {
    const index_t n = 1 << 16;
    std::vector<T> nan(static_cast<std::size_t>(n), std::numeric_limits<T>::quiet_NaN());
    auto d = be.upload<T>(nan.data(), n);
    auto status = be.zeros<status_word>(1);
    be.check_finite(spectral::dense_batch<const T>(d.data(), 256, 128, 2), status.data(),
                    spectral::status_nonfinite_input);
    status_word s = be.download<status_word>(status.data(), 1).front();
    CHECK(s.flags == static_cast<unsigned>(spectral::status_nonfinite_input));
    std::vector<T> fine(static_cast<std::size_t>(n), T(1));
    fine.back() = std::numeric_limits<T>::infinity();
    auto f = be.upload<T>(fine.data(), n);
    auto status2 = be.zeros<status_word>(1);
    be.check_finite(spectral::dense_batch<const T>(f.data(), 256, 128, 2), status2.data(),
                    spectral::status_nonfinite_output);
    s = be.download<status_word>(status2.data(), 1).front();
    CHECK(s.flags == static_cast<unsigned>(spectral::status_nonfinite_output));
    CHECK(s.group[spectral::detail::slot_of(spectral::status_nonfinite_output)] == 1);
  }
  // center at embedding shapes, both directions, into C and in place, with means.
  for (const auto& [rows, cols] :
       {std::pair<index_t, index_t>{2048, 256}, std::pair<index_t, index_t>{256, 2048}}) {
    for (const spectral::mean_over over :
         {spectral::mean_over::columns, spectral::mean_over::rows}) {
      const bool per_row = over == spectral::mean_over::columns;
      CAPTURE(rows, cols, per_row);
      const auto a = make<T>({(spectral_test::randn(rows, cols, 31).array() + 2.0).matrix()}, rows);
      auto da = be.upload<T>(a.data.data(), rows * cols);
      auto dc = be.allocate<T>(rows * cols);
      auto means = be.allocate<T>(per_row ? rows : cols);
      be.center(spectral::dense_batch<const T>(da.data(), rows, cols, 1),
                spectral::dense_batch(dc.data(), rows, cols, index_t{1}), over, means.data());
      const Eigen::MatrixXd got =
          matrix_of(be.download<T>(dc.data(), rows * cols), rows, cols, rows, 0);
      Eigen::VectorXd mean;
      Eigen::MatrixXd expected;
      if (per_row) {
        mean = a.exact.rowwise().mean();
        expected = a.exact.colwise() - mean;
      } else {
        mean = a.exact.colwise().mean().transpose();
        expected = a.exact.rowwise() - mean.transpose();
      }
      CHECK(spectral_test::rel_error(got, expected) <= 8.0 * e);
      const auto m = be.download<T>(means.data(), mean.size());
      for (index_t i = 0; i < mean.size(); ++i) {
        CHECK(std::abs(static_cast<double>(m[static_cast<std::size_t>(i)]) - mean(i)) <=
              4.0 * e * (std::abs(mean(i)) + 1.0));
      }
      be.center(spectral::dense_batch<const T>(da.data(), rows, cols, 1),
                spectral::dense_batch(da.data(), rows, cols, index_t{1}), over, nullptr);
      const Eigen::MatrixXd in_place =
          matrix_of(be.download<T>(da.data(), rows * cols), rows, cols, rows, 0);
      CHECK((in_place.array() == got.array()).all());
    }
  }
  // for_each_entry over more entries than one launch's threads cover at once.
  {
    const index_t rows = 300;
    const index_t cols = 500;
    auto d = be.allocate<T>(2 * rows * cols);
    be.for_each_entry(spectral::extent{2, rows, cols},
                      label_entry<T>{spectral::dense_batch(d.data(), rows, cols, index_t{2})});
    const auto image = be.download<T>(d.data(), 2 * rows * cols);
    bool all = true;
    for (index_t b = 0; b < 2; ++b) {
      for (index_t j = 0; j < cols; ++j) {
        for (index_t i = 0; i < rows; ++i) {
          all = all && image[static_cast<std::size_t>(b * rows * cols + j * rows + i)] ==
                           static_cast<T>(b * 10000 + j * 100 + i);
        }
      }
    }
    CHECK(all);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("cuda backend: single-matrix paths, multi-block reductions, centring shapes",
                   "[gpu][backend]",
                   float,
                   double) {
  SPECTRAL_REQUIRE_GPU();
  using T = TestType;
  backend be;
  be.bind(nullptr);
  check_single_matrix_paths<T>(be);
  check_reductions_and_centring<T>(be);
  // Steady state: the same calls again take no more scratch memory.
  const std::size_t held = be.scratch_bytes();
  CHECK(held > 0U);
  check_reductions_and_centring<T>(be);
  CHECK(be.scratch_bytes() == held);
}
