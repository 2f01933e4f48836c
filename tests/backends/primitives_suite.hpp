// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// One test suite for the primitives of the batched_backend concept (core/backend.hpp), written
/// once and instantiated per backend:
///
///     struct my_fixture {
///       static spectral::cpu::backend make() { return {}; }  // a prvalue: may be non-movable
///       static void skip_unless_available() {}                // e.g. SKIP() without a GPU
///     };
///     SPECTRAL_BACKEND_PRIMITIVES_SUITE(my_fixture, "cpu", "[cpu]")
///
/// Every check runs for float and double against an independent double-precision Eigen
/// computation on the very values the backend received (its inputs rounded to T), on seeded,
/// non-degenerate data. Batches hold count > 1 matrices in three layouts: packed, a block of a
/// larger matrix with gaps between matrices (ld > rows, stride > ld·cols, an offset), and
/// stride 0 (one matrix repeated) for inputs. Everything outside the matrices is NaN, so a
/// primitive that reads there spreads NaN into its result, and every check on an output also
/// checks that nothing outside its matrices changed. Data moves only with upload and download,
/// so the same code runs on device memory; functors given to for_each_entry are named structs
/// with SPECTRAL_HOST_DEVICE call operators. Tolerances are relative, in units of T's epsilon.
///
/// Where the concept leaves a backend a choice, the suite accepts each choice: an eigensolver
/// may flag a NaN matrix or return non-finite eigenvalues for it; a failed potrf's example value
/// may be the failing pivot or 0. The CPU backend's own choices are tested in
/// tests/core/backend_primitives_test.cpp.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/status.hpp>

#include <common/generators.hpp>
#include <common/tolerances.hpp>

#include <Eigen/Dense>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace spectral_test::backend_suite {

using spectral::batch;
using spectral::index_t;
using spectral::op;
using spectral::status_word;

template <class T>
[[nodiscard]] double eps() {
  return static_cast<double>(std::numeric_limits<T>::epsilon());
}

// --- batches on the host and on the backend -----------------------------------------------------

/// Where a test batch's matrices lie in their buffer.
enum class layout {
  packed,     ///< ld = rows, stride = rows·cols, no offset
  padded,     ///< a block at (2, 1) of a larger matrix (ld = rows + 3), gaps between matrices
  broadcast,  ///< stride 0: one matrix (a block, ld = rows + 2) repeated `count` times
};

inline const char* name_of(layout l) {
  switch (l) {
    case layout::packed:
      return "packed";
    case layout::padded:
      return "padded";
    case layout::broadcast:
      return "broadcast";
  }
  return "?";
}

/// The host image of a batch's whole buffer: its matrices, and NaN (or the original values) in
/// every gap and margin around them.
template <class T>
struct host_batch {
  index_t rows = 0;
  index_t cols = 0;
  index_t count = 0;
  index_t ld = 0;
  index_t stride = 0;
  index_t offset = 0;
  std::vector<T> storage;

  [[nodiscard]] index_t size() const { return static_cast<index_t>(storage.size()); }
  [[nodiscard]] index_t position(index_t b, index_t i, index_t j) const {
    return offset + b * stride + j * ld + i;
  }
  /// Matrix b of an image of this buffer (what download returned), in double.
  [[nodiscard]] Eigen::MatrixXd matrix(const std::vector<T>& image, index_t b) const {
    Eigen::MatrixXd m(rows, cols);
    for (index_t j = 0; j < cols; ++j) {
      for (index_t i = 0; i < rows; ++i) {
        m(i, j) = static_cast<double>(image[static_cast<std::size_t>(position(b, i, j))]);
      }
    }
    return m;
  }
  /// Matrix b as the backend received it.
  [[nodiscard]] Eigen::MatrixXd matrix(index_t b) const { return matrix(storage, b); }
  /// Whether every entry of `image` outside the matrices is bitwise the one uploaded.
  [[nodiscard]] bool outside_unchanged(const std::vector<T>& image) const {
    if (image.size() != storage.size()) {
      return false;
    }
    std::vector<bool> inside(storage.size(), false);
    for (index_t b = 0; b < count; ++b) {
      for (index_t j = 0; j < cols; ++j) {
        for (index_t i = 0; i < rows; ++i) {
          inside[static_cast<std::size_t>(position(b, i, j))] = true;
        }
      }
    }
    for (std::size_t p = 0; p < storage.size(); ++p) {
      if (!inside[p] && std::memcmp(&storage[p], &image[p], sizeof(T)) != 0) {
        return false;
      }
    }
    return true;
  }
};

/**
 * @brief A batch of `count` matrices laid out as `where` says, NaN outside them.
 * @param mats the matrices (one for layout::broadcast, else `count`), rounded to T
 */
template <class T>
[[nodiscard]] host_batch<T> make_batch(const std::vector<Eigen::MatrixXd>& mats,
                                       layout where,
                                       index_t count) {
  host_batch<T> h;
  h.rows = mats.front().rows();
  h.cols = mats.front().cols();
  h.count = count;
  index_t stored = count;
  switch (where) {
    case layout::packed:
      h.ld = h.rows;
      h.stride = h.rows * h.cols;
      h.offset = 0;
      break;
    case layout::padded:
      h.ld = h.rows + 3;
      h.stride = h.ld * (h.cols + 2) + 5;
      h.offset = h.ld + 2;
      break;
    case layout::broadcast:
      h.ld = h.rows + 2;
      h.stride = 0;
      h.offset = 1;
      stored = 1;
      break;
  }
  REQUIRE(static_cast<index_t>(mats.size()) == stored);
  const index_t end = h.offset + (stored - 1) * h.stride + h.ld * (h.cols - 1) + h.rows;
  h.storage.assign(static_cast<std::size_t>(end + 4), std::numeric_limits<T>::quiet_NaN());
  for (index_t b = 0; b < stored; ++b) {
    for (index_t j = 0; j < h.cols; ++j) {
      for (index_t i = 0; i < h.rows; ++i) {
        h.storage[static_cast<std::size_t>(h.position(b, i, j))] =
            static_cast<T>(mats[static_cast<std::size_t>(b)](i, j));
      }
    }
  }
  return h;
}

template <class T>
[[nodiscard]] host_batch<T> make_batch(const std::vector<Eigen::MatrixXd>& mats, layout where) {
  return make_batch<T>(mats, where, static_cast<index_t>(mats.size()));
}

/// A host batch uploaded to the backend.
template <class Backend, class T>
struct device_batch {
  host_batch<T> host;
  typename Backend::template buffer<T> memory;

  [[nodiscard]] batch<T> view() {
    return {memory.data() + host.offset, host.rows, host.cols, host.ld, host.stride, host.count};
  }
  [[nodiscard]] batch<const T> cview() { return view(); }
  /// The whole buffer, downloaded.
  [[nodiscard]] std::vector<T> image(Backend& be) const {
    return be.template download<T>(memory.data(), host.size());
  }
};

template <class T, class Backend>
[[nodiscard]] device_batch<Backend, T> to_device(Backend& be, host_batch<T> host) {
  auto memory = be.template upload<T>(host.storage.data(), host.size());
  return {std::move(host), std::move(memory)};
}

template <class T, class Backend>
[[nodiscard]] device_batch<Backend, T> to_device(Backend& be,
                                                 const std::vector<Eigen::MatrixXd>& mats,
                                                 layout where) {
  return to_device<T>(be, make_batch<T>(mats, where));
}

/// The broadcast layout needs the count it repeats its one matrix for.
template <class T, class Backend>
[[nodiscard]] device_batch<Backend, T> to_device(Backend& be,
                                                 const std::vector<Eigen::MatrixXd>& one,
                                                 layout where,
                                                 index_t count) {
  return to_device<T>(
      be, make_batch<T>(one, where,
                        where == layout::broadcast ? count : static_cast<index_t>(one.size())));
}

template <class Backend>
[[nodiscard]] status_word read_status(Backend& be,
                                      const typename Backend::template buffer<status_word>& s) {
  return be.template download<status_word>(s.data(), 1).front();
}

template <class T, class Backend>
[[nodiscard]] std::vector<double> read_values(Backend& be,
                                              const typename Backend::template buffer<T>& s,
                                              index_t n) {
  const std::vector<T> got = be.template download<T>(s.data(), n);
  return {got.begin(), got.end()};
}

// --- data ---------------------------------------------------------------------------------------

/// `count` Gaussian rows×cols matrices (plus `shift`), rounded to T.
template <class T>
[[nodiscard]] std::vector<Eigen::MatrixXd> gaussians(
    index_t rows, index_t cols, index_t count, std::uint64_t seed, double shift = 0.0) {
  rng_t rng(seed);
  std::vector<Eigen::MatrixXd> out;
  for (index_t b = 0; b < count; ++b) {
    const Eigen::MatrixXd m = (randn(rows, cols, rng).array() + shift).matrix();
    out.emplace_back(m.cast<T>().template cast<double>());
  }
  return out;
}

/// Q diag(λ) Qᵀ for a random orthogonal Q, exactly symmetric, rounded to T.
template <class T>
[[nodiscard]] Eigen::MatrixXd with_spectrum(const Eigen::VectorXd& lambda, rng_t& rng) {
  const Eigen::MatrixXd q = random_orthogonal(lambda.size(), rng);
  const Eigen::MatrixXd s = q * lambda.asDiagonal() * q.transpose();
  const Eigen::MatrixXd sym = 0.5 * (s + s.transpose());
  return sym.cast<T>().template cast<double>();
}

/// Distinct eigenvalues from −3 to 5 (K ≥ 2), scaled per matrix by 1 + b/4.
[[nodiscard]] inline Eigen::VectorXd spread_spectrum(index_t k, index_t b) {
  return Eigen::VectorXd::LinSpaced(k, -3.0, 5.0) * (1.0 + 0.25 * static_cast<double>(b));
}

/// Whether a matrix is exactly (bitwise) symmetric.
[[nodiscard]] inline bool exactly_symmetric(const Eigen::MatrixXd& m) {
  return m.rows() == m.cols() && (m.array() == m.transpose().array()).all();
}

/// The status word's example for `flag`.
struct example {
  int group;
  double value;
  double bound;
};
[[nodiscard]] inline example example_of(const status_word& s, unsigned flag) {
  const int slot = spectral::detail::slot_of(flag);
  return {s.group[slot], s.value[slot], s.bound[slot]};
}

// --- functors for for_each_entry
// ------------------------------------------------------------------

/// c(b, i, j) += α·a(b, i, j) + (i + 2j + 3b): each triple must be visited exactly once.
template <class T>
struct accumulate_entry {
  batch<const T> a;
  batch<T> c;
  T alpha;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    c(b, i, j) += alpha * a(b, i, j) + static_cast<T>(i + 2 * j + 3 * b);
  }
};

/// Writes through a batch that may be null: for an empty extent it must never be called.
template <class T>
struct write_zero {
  batch<T> c;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const { c(b, i, j) = T(0); }
};

// --- the checks
// -----------------------------------------------------------------------------------

/// Matrices per batch in every check.
constexpr index_t batch_count = 3;

template <class Fixture, class T>
void check_buffers() {
  auto be = Fixture::make();
  using Backend = decltype(be);
  const auto empty = be.template allocate<T>(0);
  CHECK(empty.size() == 0U);
  const auto zero = be.template zeros<T>(37);
  REQUIRE(zero.size() == 37U);
  const std::vector<T> zeros_read = be.template download<T>(zero.data(), 37);
  CHECK(std::all_of(zeros_read.begin(), zeros_read.end(), [](T v) { return v == T(0); }));

  std::vector<T> values(53);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<T>(0.5 + static_cast<double>(i) * 1.25);
  }
  values[7] = std::numeric_limits<T>::quiet_NaN();
  values[9] = -std::numeric_limits<T>::infinity();
  auto up = be.template upload<T>(values.data(), 53);
  typename Backend::template buffer<T> moved = std::move(up);
  REQUIRE(moved.size() == 53U);
  const std::vector<T> back = be.template download<T>(moved.data(), 53);
  REQUIRE(back.size() == values.size());
  CHECK(std::memcmp(back.data(), values.data(), values.size() * sizeof(T)) == 0);

  auto fresh = be.template allocate<T>(11);
  CHECK(fresh.size() == 11U);
  auto status = be.template zeros<status_word>(2);
  const std::vector<status_word> s = be.template download<status_word>(status.data(), 2);
  CHECK(s[0].flags == 0U);
  CHECK(s[1].flags == 0U);
}

template <class Fixture, class T>
void check_gemm() {
  auto be = Fixture::make();
  struct shape {
    index_t m, k, n;
  };
  const T alpha = T(0.75);
  std::uint64_t seed = 100;
  for (const shape sh : {shape{5, 7, 4}, shape{24, 31, 18}}) {
    for (const op oa : {op::none, op::transpose}) {
      for (const op ob : {op::none, op::transpose}) {
        for (const layout la : {layout::packed, layout::padded, layout::broadcast}) {
          for (const layout lb : {layout::packed, layout::padded, layout::broadcast}) {
            for (const layout lc : {layout::packed, layout::padded}) {
              for (const double beta : {0.0, 1.0, -0.5}) {
                ++seed;
                CAPTURE(sh.m, sh.k, sh.n, oa == op::transpose, ob == op::transpose, name_of(la),
                        name_of(lb), name_of(lc), beta);
                const index_t stored_a = la == layout::broadcast ? 1 : batch_count;
                const index_t stored_b = lb == layout::broadcast ? 1 : batch_count;
                auto a = to_device<T>(be,
                                      oa == op::none ? gaussians<T>(sh.m, sh.k, stored_a, seed)
                                                     : gaussians<T>(sh.k, sh.m, stored_a, seed),
                                      la, batch_count);
                auto b = to_device<T>(be,
                                      ob == op::none ? gaussians<T>(sh.k, sh.n, stored_b, seed + 7)
                                                     : gaussians<T>(sh.n, sh.k, stored_b, seed + 7),
                                      lb, batch_count);
                auto old = gaussians<T>(sh.m, sh.n, batch_count, seed + 13);
                if (beta == 0.0) {  // BLAS semantics: β = 0 never reads C
                  for (auto& m : old) {
                    m.setConstant(std::numeric_limits<double>::quiet_NaN());
                  }
                }
                auto c = to_device<T>(be, old, lc);
                be.gemm(oa, ob, alpha, a.cview(), b.cview(), static_cast<T>(beta), c.view());
                const std::vector<T> image = c.image(be);
                CHECK(c.host.outside_unchanged(image));
                for (index_t g = 0; g < batch_count; ++g) {
                  const Eigen::MatrixXd am = a.host.matrix(g);
                  const Eigen::MatrixXd bm = b.host.matrix(g);
                  const Eigen::MatrixXd opa = oa == op::none ? am : Eigen::MatrixXd(am.transpose());
                  const Eigen::MatrixXd opb = ob == op::none ? bm : Eigen::MatrixXd(bm.transpose());
                  Eigen::MatrixXd expected = static_cast<double>(alpha) * opa * opb;
                  if (beta != 0.0) {
                    expected += beta * c.host.matrix(g);
                  }
                  const double err = rel_error(c.host.matrix(image, g), expected);
                  CHECK(err <= 8.0 * static_cast<double>(sh.k) * eps<T>());
                }
              }
            }
          }
        }
      }
    }
  }
}

template <class Fixture, class T>
void check_syrk() {
  auto be = Fixture::make();
  const T alpha = T(1.5);
  std::uint64_t seed = 200;
  for (const index_t k : {index_t{6}, index_t{33}}) {
    const index_t inner = k + 5;
    for (const op oa : {op::none, op::transpose}) {
      for (const layout la : {layout::packed, layout::padded, layout::broadcast}) {
        for (const layout lc : {layout::packed, layout::padded}) {
          for (const double beta : {0.0, 0.5}) {
            ++seed;
            CAPTURE(k, oa == op::transpose, name_of(la), name_of(lc), beta);
            const index_t stored = la == layout::broadcast ? 1 : batch_count;
            auto a = to_device<T>(be,
                                  oa == op::none ? gaussians<T>(k, inner, stored, seed)
                                                 : gaussians<T>(inner, k, stored, seed),
                                  la, batch_count);
            std::vector<Eigen::MatrixXd> old;
            rng_t rng(seed + 3);
            for (index_t g = 0; g < batch_count; ++g) {
              old.push_back(beta == 0.0 ? Eigen::MatrixXd(Eigen::MatrixXd::Constant(
                                              k, k, std::numeric_limits<double>::quiet_NaN()))
                                        : with_spectrum<T>(spread_spectrum(k, g), rng));
            }
            auto c = to_device<T>(be, old, lc);
            be.syrk(oa, alpha, a.cview(), static_cast<T>(beta), c.view());
            const std::vector<T> image = c.image(be);
            CHECK(c.host.outside_unchanged(image));
            for (index_t g = 0; g < batch_count; ++g) {
              const Eigen::MatrixXd am = a.host.matrix(g);
              const Eigen::MatrixXd opa = oa == op::none ? am : Eigen::MatrixXd(am.transpose());
              Eigen::MatrixXd expected = static_cast<double>(alpha) * opa * opa.transpose();
              if (beta != 0.0) {
                expected += beta * c.host.matrix(g);
              }
              const Eigen::MatrixXd got = c.host.matrix(image, g);
              CHECK(exactly_symmetric(got));
              CHECK(rel_error(got, expected) <= 8.0 * static_cast<double>(inner) * eps<T>());
            }
          }
        }
      }
    }
  }
}

template <class Fixture, class T>
void check_symmetric_product() {
  auto be = Fixture::make();
  const T alpha = T(-1.25);
  std::uint64_t seed = 300;
  for (const index_t k : {index_t{6}, index_t{33}}) {
    for (const bool same : {false, true}) {
      for (const layout la : {layout::packed, layout::padded}) {
        for (const layout lb : {layout::packed, layout::padded}) {
          for (const layout lc : {layout::packed, layout::padded}) {
            for (const double beta : {0.0, 0.5}) {
              if (same && lb != la) {
                continue;
              }
              ++seed;
              CAPTURE(k, same, name_of(la), name_of(lb), name_of(lc), beta);
              // A = Q diag(a) Qᵀ and B = Q diag(b) Qᵀ commute: AB is symmetric.
              std::vector<Eigen::MatrixXd> as;
              std::vector<Eigen::MatrixXd> bs;
              std::vector<Eigen::MatrixXd> old;
              rng_t rng(seed);
              for (index_t g = 0; g < batch_count; ++g) {
                const Eigen::MatrixXd q = random_orthogonal(k, rng);
                const auto build = [&](const Eigen::VectorXd& lambda) {
                  const Eigen::MatrixXd s = q * lambda.asDiagonal() * q.transpose();
                  return Eigen::MatrixXd(
                      (0.5 * (s + s.transpose())).cast<T>().template cast<double>());
                };
                as.push_back(build(spread_spectrum(k, g)));
                bs.push_back(build(Eigen::VectorXd::LinSpaced(k, 1.0, 2.0)));
                old.push_back(beta == 0.0 ? Eigen::MatrixXd(Eigen::MatrixXd::Constant(
                                                k, k, std::numeric_limits<double>::quiet_NaN()))
                                          : with_spectrum<T>(spread_spectrum(k, g + 1), rng));
              }
              auto a = to_device<T>(be, as, la);
              auto b = to_device<T>(be, bs, lb);
              auto c = to_device<T>(be, old, lc);
              be.symmetric_product(alpha, a.cview(), same ? a.cview() : b.cview(),
                                   static_cast<T>(beta), c.view());
              const std::vector<T> image = c.image(be);
              CHECK(c.host.outside_unchanged(image));
              for (index_t g = 0; g < batch_count; ++g) {
                const Eigen::MatrixXd am = a.host.matrix(g);
                const Eigen::MatrixXd bm = same ? am : b.host.matrix(g);
                Eigen::MatrixXd expected = static_cast<double>(alpha) * am * bm;
                if (beta != 0.0) {
                  expected += beta * c.host.matrix(g);
                }
                const Eigen::MatrixXd got = c.host.matrix(image, g);
                CHECK(exactly_symmetric(got));
                CHECK(rel_error(got, expected) <= 16.0 * static_cast<double>(k) * eps<T>());
              }
            }
          }
        }
      }
    }
  }
}

/// Flips each column so that its largest-|entry| (the first on a tie) is positive.
[[nodiscard]] inline Eigen::MatrixXd with_sign_convention(Eigen::MatrixXd u) {
  for (index_t j = 0; j < u.cols(); ++j) {
    index_t arg = 0;
    for (index_t i = 1; i < u.rows(); ++i) {
      if (std::abs(u(i, j)) > std::abs(u(arg, j))) {
        arg = i;
      }
    }
    if (u(arg, j) < 0.0) {
      u.col(j) *= -1.0;
    }
  }
  return u;
}

template <class Fixture, class T>
void check_eigh() {
  auto be = Fixture::make();
  std::uint64_t seed = 400;
  for (const index_t k : {index_t{6}, index_t{40}, index_t{100}}) {
    for (const layout la : {layout::packed, layout::padded}) {
      for (const layout lv : {layout::packed, layout::padded}) {
        ++seed;
        CAPTURE(k, name_of(la), name_of(lv));
        std::vector<Eigen::MatrixXd> mats;
        rng_t rng(seed);
        for (index_t g = 0; g < batch_count; ++g) {
          mats.push_back(with_spectrum<T>(spread_spectrum(k, g), rng));
        }
        auto a = to_device<T>(be, mats, la);
        auto values = to_device<T>(be, gaussians<T>(k, 1, batch_count, seed + 1), lv);
        auto status = be.template zeros<status_word>(1);
        be.eigh(a.view(), values.view(), status.data());
        CHECK(read_status(be, status).flags == 0U);
        const std::vector<T> vectors_image = a.image(be);
        const std::vector<T> values_image = values.image(be);
        CHECK(a.host.outside_unchanged(vectors_image));
        CHECK(values.host.outside_unchanged(values_image));
        for (index_t g = 0; g < batch_count; ++g) {
          CAPTURE(g);
          const Eigen::MatrixXd am = a.host.matrix(g);
          const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> reference(am);
          const Eigen::VectorXd lambda = values.host.matrix(values_image, g).col(0);
          const Eigen::MatrixXd u = a.host.matrix(vectors_image, g);
          const double norm = reference.eigenvalues().cwiseAbs().maxCoeff();
          const double gap =
              (reference.eigenvalues().tail(k - 1) - reference.eigenvalues().head(k - 1))
                  .minCoeff();
          const double kd = static_cast<double>(k);
          // Ascending, and each within rounding of the double eigenvalue.
          CHECK(std::is_sorted(lambda.data(), lambda.data() + k));
          CHECK((lambda - reference.eigenvalues()).cwiseAbs().maxCoeff() <=
                8.0 * kd * eps<T>() * norm);
          // The sign convention, on the result itself.
          const bool convention = with_sign_convention(u) == u;
          CHECK(convention);
          // Eigenvectors: A U = U Λ, Uᵀ U = I, and the double solver's (same convention).
          CHECK((am * u - u * lambda.asDiagonal()).norm() <=
                8.0 * kd * eps<T>() * norm * std::sqrt(kd));
          CHECK((u.transpose() * u - Eigen::MatrixXd::Identity(k, k)).norm() <=
                8.0 * kd * eps<T>() * std::sqrt(kd));
          CHECK(rel_error(u, with_sign_convention(reference.eigenvectors())) <=
                8.0 * kd * eps<T>() * norm / gap);
        }
      }
    }
  }
}

template <class Fixture, class T>
void check_eigh_failure() {
  auto be = Fixture::make();
  for (const index_t k : {index_t{6}, index_t{40}}) {
    for (const double bad :
         {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
      CAPTURE(k, bad);
      std::vector<Eigen::MatrixXd> mats;
      rng_t rng(static_cast<std::uint64_t>(500 + k));
      for (index_t g = 0; g < batch_count; ++g) {
        mats.push_back(with_spectrum<T>(spread_spectrum(k, g), rng));
      }
      mats[1](2, 0) = bad;  // symmetric: both triangles
      mats[1](0, 2) = bad;
      auto a = to_device<T>(be, mats, layout::padded);
      auto values = to_device<T>(be, gaussians<T>(k, 1, batch_count, 7), layout::packed);
      auto status = be.template zeros<status_word>(1);
      be.eigh(a.view(), values.view(), status.data());
      const status_word s = read_status(be, status);
      const std::vector<T> values_image = values.image(be);
      const std::vector<T> vectors_image = a.image(be);
      // Flagged for group 1, or non-finite eigenvalues there; nothing else flagged.
      const bool flagged = (s.flags & spectral::status_solver_failed) != 0U;
      CHECK((s.flags & ~static_cast<unsigned>(spectral::status_solver_failed)) == 0U);
      if (flagged) {
        CHECK(example_of(s, spectral::status_solver_failed).group == 1);
      }
      CHECK((flagged || !values.host.matrix(values_image, 1).allFinite()));
      // The other groups are solved as usual.
      for (const index_t g : {index_t{0}, index_t{2}}) {
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> reference(a.host.matrix(g));
        const double norm = reference.eigenvalues().cwiseAbs().maxCoeff();
        const Eigen::VectorXd lambda = values.host.matrix(values_image, g).col(0);
        CHECK((lambda - reference.eigenvalues()).cwiseAbs().maxCoeff() <=
              8.0 * static_cast<double>(k) * eps<T>() * norm);
        const Eigen::MatrixXd u = a.host.matrix(vectors_image, g);
        CHECK((a.host.matrix(g) * u - u * lambda.asDiagonal()).norm() <=
              8.0 * static_cast<double>(k) * eps<T>() * norm * std::sqrt(static_cast<double>(k)));
      }
    }
  }
}

/// L D Lᵀ for a random unit lower L: its Cholesky pivots are D, rounded to T.
template <class T>
[[nodiscard]] Eigen::MatrixXd with_pivots(const Eigen::VectorXd& d, rng_t& rng) {
  const index_t k = d.size();
  Eigen::MatrixXd l = Eigen::MatrixXd::Identity(k, k);
  const Eigen::MatrixXd g = randn(k, k, rng);
  l.triangularView<Eigen::StrictlyLower>() = 0.5 / std::sqrt(static_cast<double>(k)) * g;
  const Eigen::MatrixXd s = l * d.asDiagonal() * l.transpose();
  const Eigen::MatrixXd sym = 0.5 * (s + s.transpose());
  return sym.cast<T>().template cast<double>();
}

/// The k-th Cholesky pivot of A in double: A(k,k) − A(k,:k) A(:k,:k)⁻¹ A(:k,k).
[[nodiscard]] inline double pivot_of(const Eigen::MatrixXd& a, index_t k) {
  if (k == 0) {
    return a(0, 0);
  }
  const Eigen::LLT<Eigen::MatrixXd> leading(a.topLeftCorner(k, k));
  const Eigen::VectorXd column = a.col(k).head(k);
  return a(k, k) - column.dot(leading.solve(column));
}

template <class Fixture, class T>
void check_potrf() {
  auto be = Fixture::make();
  std::uint64_t seed = 600;
  for (const index_t k : {index_t{6}, index_t{40}, index_t{100}}) {
    for (const layout la : {layout::packed, layout::padded}) {
      ++seed;
      CAPTURE(k, name_of(la));
      const double kd = static_cast<double>(k);
      // Groups 0 and 2 positive definite (condition 10); group 1 indefinite, its first
      // non-positive pivot at `failing`.
      const index_t failing = k < 10 ? 2 : (k * 5) / 6;
      Eigen::VectorXd d = Eigen::VectorXd::LinSpaced(k, 1.0, 3.0);
      d(failing) = -0.5;
      rng_t rng(seed);
      std::vector<Eigen::MatrixXd> mats;
      mats.push_back(with_spectrum<T>(Eigen::VectorXd::LinSpaced(k, 1.0, 10.0), rng));
      mats.push_back(with_pivots<T>(d, rng));
      mats.push_back(with_spectrum<T>(Eigen::VectorXd::LinSpaced(k, 0.5, 5.0), rng));
      auto a = to_device<T>(be, mats, la);
      auto status = be.template zeros<status_word>(1);
      be.potrf(a.view(), status.data());
      const status_word s = read_status(be, status);
      const std::vector<T> image = a.image(be);
      CHECK(a.host.outside_unchanged(image));
      CHECK(s.flags == static_cast<unsigned>(spectral::status_not_positive_definite));
      const example e = example_of(s, spectral::status_not_positive_definite);
      CHECK(e.group == 1);
      // The failing pivot (or 0), never a positive number.
      const double pivot = pivot_of(mats[1], failing);
      CHECK(pivot < -0.25);
      CHECK((e.value == 0.0 || std::abs(e.value - pivot) <= 16.0 * kd * eps<T>() * mats[1].norm()));
      for (const index_t g : {index_t{0}, index_t{2}}) {
        CAPTURE(g);
        const Eigen::MatrixXd am = a.host.matrix(g);
        const Eigen::MatrixXd l = a.host.matrix(image, g);
        CHECK((l.triangularView<Eigen::StrictlyUpper>().toDenseMatrix().array() == 0.0).all());
        CHECK((l.diagonal().array() > 0.0).all());
        CHECK(rel_error(Eigen::MatrixXd(l * l.transpose()), am) <= 8.0 * kd * eps<T>());
        const Eigen::MatrixXd expected = Eigen::LLT<Eigen::MatrixXd>(am).matrixL();
        CHECK(rel_error(l, expected) <= 8.0 * kd * eps<T>() * 10.0);
      }
    }
  }
}

template <class Fixture, class T>
void check_solve_lower() {
  auto be = Fixture::make();
  std::uint64_t seed = 700;
  for (const index_t k : {index_t{6}, index_t{40}}) {
    const index_t m = 9;
    for (const layout ll : {layout::packed, layout::padded, layout::broadcast}) {
      for (const layout lc : {layout::packed, layout::padded}) {
        ++seed;
        CAPTURE(k, name_of(ll), name_of(lc));
        rng_t rng(seed);
        std::vector<Eigen::MatrixXd> ls;
        for (index_t g = 0; g < (ll == layout::broadcast ? 1 : batch_count); ++g) {
          Eigen::MatrixXd l = Eigen::MatrixXd::Zero(k, k);
          l.triangularView<Eigen::StrictlyLower>() =
              0.5 / std::sqrt(static_cast<double>(k)) * randn(k, k, rng);
          l.diagonal() = Eigen::VectorXd::LinSpaced(k, 1.0, 2.0);
          ls.emplace_back(l.cast<T>().template cast<double>());
        }
        auto l = to_device<T>(be, ls, ll, batch_count);
        auto c = to_device<T>(be, gaussians<T>(k, m, batch_count, seed + 1), lc);
        be.solve_lower(l.cview(), c.view());
        const std::vector<T> image = c.image(be);
        CHECK(c.host.outside_unchanged(image));
        for (index_t g = 0; g < batch_count; ++g) {
          const Eigen::MatrixXd lm = l.host.matrix(g);
          const Eigen::MatrixXd expected =
              lm.triangularView<Eigen::Lower>().solve(c.host.matrix(g));
          const Eigen::JacobiSVD<Eigen::MatrixXd> svd(lm);
          const double condition = svd.singularValues()(0) / svd.singularValues()(k - 1);
          CHECK(rel_error(c.host.matrix(image, g), expected) <=
                8.0 * static_cast<double>(k) * eps<T>() * condition);
        }
      }
    }
  }
}

template <class Fixture, class T>
void check_for_each_entry() {
  auto be = Fixture::make();
  for (const layout la : {layout::packed, layout::padded, layout::broadcast}) {
    for (const layout lc : {layout::packed, layout::padded}) {
      CAPTURE(name_of(la), name_of(lc));
      auto a = to_device<T>(be, gaussians<T>(5, 7, la == layout::broadcast ? 1 : batch_count, 800),
                            la, batch_count);
      auto c = to_device<T>(be, gaussians<T>(5, 7, batch_count, 801), lc);
      const T alpha = T(-2);
      be.for_each_entry(spectral::extent::of(c.view()),
                        accumulate_entry<T>{a.cview(), c.view(), alpha});
      const std::vector<T> image = c.image(be);
      CHECK(c.host.outside_unchanged(image));
      for (index_t g = 0; g < batch_count; ++g) {
        Eigen::MatrixXd expected = c.host.matrix(g) - 2.0 * a.host.matrix(g);
        for (index_t j = 0; j < 7; ++j) {
          for (index_t i = 0; i < 5; ++i) {
            expected(i, j) += static_cast<double>(i + 2 * j + 3 * g);
          }
        }
        CHECK(rel_error(c.host.matrix(image, g), expected) <= 4.0 * eps<T>());
      }
    }
  }
  // An empty extent calls nothing (the functor would write through null).
  be.for_each_entry(spectral::extent{0, 3, 3}, write_zero<T>{batch<T>{nullptr, 3, 3, 3, 9, 0}});
  be.for_each_entry(spectral::extent{2, 0, 3}, write_zero<T>{batch<T>{nullptr, 0, 3, 1, 0, 2}});
  auto probe = be.template download<T>(nullptr, 0);
  CHECK(probe.empty());
}

template <class Fixture, class T>
void check_reductions() {
  auto be = Fixture::make();
  std::uint64_t seed = 900;
  for (const index_t k : {index_t{6}, index_t{40}}) {
    for (const layout la : {layout::packed, layout::padded, layout::broadcast}) {
      for (const layout lb : {layout::packed, layout::padded}) {
        ++seed;
        CAPTURE(k, name_of(la), name_of(lb));
        const index_t stored = la == layout::broadcast ? 1 : batch_count;
        const index_t cols = k + 3;
        std::vector<Eigen::MatrixXd> squares = gaussians<T>(k, k, stored, seed);
        for (auto& m : squares) {
          m.diagonal().array() += 2.0;  // a trace clearly away from 0
        }
        std::vector<Eigen::MatrixXd> left = gaussians<T>(k, cols, stored, seed + 1, 0.5);
        left[0](1, 2) = -50.0;  // max |entry| negative, exactly representable
        auto sq = to_device<T>(be, squares, la, batch_count);
        auto a = to_device<T>(be, left, la, batch_count);
        auto b = to_device<T>(be, gaussians<T>(k, cols, batch_count, seed + 2, 0.5), lb);
        auto traces = be.template allocate<T>(batch_count);
        auto dots = be.template allocate<T>(batch_count);
        auto largest = be.template allocate<T>(batch_count);
        be.trace(sq.cview(), traces.data());
        be.dot(a.cview(), b.cview(), dots.data());
        be.max_abs(a.cview(), largest.data());
        const std::vector<double> tr = read_values<T>(be, traces, batch_count);
        const std::vector<double> dt = read_values<T>(be, dots, batch_count);
        const std::vector<double> mx = read_values<T>(be, largest, batch_count);
        for (index_t g = 0; g < batch_count; ++g) {
          CAPTURE(g);
          const auto gi = static_cast<std::size_t>(g);
          const Eigen::MatrixXd s = sq.host.matrix(g);
          const Eigen::MatrixXd am = a.host.matrix(g);
          const Eigen::MatrixXd bm = b.host.matrix(g);
          const double kd = static_cast<double>(k);
          CHECK(std::abs(tr[gi] - s.trace()) <=
                4.0 * kd * eps<T>() * s.diagonal().cwiseAbs().sum());
          CHECK(std::abs(tr[gi] - s.trace()) < 0.5 * std::abs(s.trace()));
          const double products = am.cwiseProduct(bm).cwiseAbs().sum();
          CHECK(std::abs(dt[gi] - am.cwiseProduct(bm).sum()) <=
                4.0 * static_cast<double>(am.size()) * eps<T>() * products);
          CHECK(std::abs(am.cwiseProduct(bm).sum()) > 0.0);
          CHECK(mx[gi] == am.cwiseAbs().maxCoeff());  // exact: a max of representable values
          if (g == 0 || la == layout::broadcast) {
            CHECK(mx[gi] == 50.0);
          }
        }
      }
    }
  }
}

template <class Fixture, class T>
void check_check_finite() {
  auto be = Fixture::make();
  for (const layout la : {layout::packed, layout::padded}) {
    CAPTURE(name_of(la));
    const unsigned flag = spectral::status_nonfinite_gradient;
    // All finite: nothing recorded (the NaN around the padded matrices is not theirs).
    {
      auto a = to_device<T>(be, gaussians<T>(5, 7, batch_count, 1000), la);
      auto status = be.template zeros<status_word>(1);
      be.check_finite(a.cview(), status.data(), flag);
      CHECK(read_status(be, status).flags == 0U);
    }
    // One +Inf in group 2, one NaN in group 0 (separate runs): the flag, the group, the value.
    for (const index_t bad_group : {index_t{2}, index_t{0}}) {
      CAPTURE(bad_group);
      auto mats = gaussians<T>(5, 7, batch_count, 1001);
      const double bad = bad_group == 2 ? std::numeric_limits<double>::infinity()
                                        : std::numeric_limits<double>::quiet_NaN();
      mats[static_cast<std::size_t>(bad_group)](3, 4) = bad;
      auto a = to_device<T>(be, mats, la);
      auto status = be.template zeros<status_word>(1);
      be.check_finite(a.cview(), status.data(), flag);
      const status_word s = read_status(be, status);
      CHECK(s.flags == flag);
      const example e = example_of(s, flag);
      CHECK(e.group == static_cast<int>(bad_group));
      if (bad_group == 2) {
        CHECK(e.value == std::numeric_limits<double>::infinity());
      } else {
        CHECK(std::isnan(e.value));
      }
    }
  }
}

template <class Fixture, class T>
void check_center() {
  auto be = Fixture::make();
  std::uint64_t seed = 1100;
  for (const spectral::mean_over over : {spectral::mean_over::columns, spectral::mean_over::rows}) {
    const bool per_row = over == spectral::mean_over::columns;
    for (const index_t rows : {index_t{5}, index_t{24}}) {
      const index_t cols = rows + 7;
      for (const layout la : {layout::packed, layout::padded, layout::broadcast}) {
        for (const layout lc : {layout::packed, layout::padded}) {
          for (const bool in_place : {false, true}) {
            for (const bool with_means : {true, false}) {
              if (in_place && (la == layout::broadcast || lc != la)) {
                continue;
              }
              ++seed;
              CAPTURE(per_row, rows, name_of(la), name_of(lc), in_place, with_means);
              const index_t stored = la == layout::broadcast ? 1 : batch_count;
              auto a =
                  to_device<T>(be, gaussians<T>(rows, cols, stored, seed, 3.0), la, batch_count);
              auto c = to_device<T>(be, gaussians<T>(rows, cols, batch_count, seed + 1), lc);
              const index_t length = per_row ? rows : cols;
              auto means = be.template allocate<T>(batch_count * length);
              batch<T> out = in_place ? a.view() : c.view();
              be.center(a.cview(), out, over, with_means ? means.data() : nullptr);
              const auto& result = in_place ? a : c;
              const std::vector<T> image = result.image(be);
              CHECK(result.host.outside_unchanged(image));
              const std::vector<double> got_means =
                  with_means ? read_values<T>(be, means, batch_count * length)
                             : std::vector<double>();
              for (index_t g = 0; g < batch_count; ++g) {
                CAPTURE(g);
                const Eigen::MatrixXd am = a.host.matrix(g);
                Eigen::VectorXd mean;
                Eigen::MatrixXd expected;
                if (per_row) {
                  mean = am.rowwise().mean();
                  expected = am.colwise() - mean;
                } else {
                  mean = am.colwise().mean().transpose();
                  expected = am.rowwise() - mean.transpose();
                }
                const double n = static_cast<double>(per_row ? cols : rows);
                CHECK(rel_error(result.host.matrix(image, g), expected) <=
                      8.0 * n * eps<T>() * 4.0);
                if (with_means) {
                  const Eigen::VectorXd got =
                      Eigen::Map<const Eigen::VectorXd>(got_means.data() + g * length, length);
                  CHECK(rel_error(got, mean) <= 4.0 * n * eps<T>());
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace spectral_test::backend_suite

/// The suite's test cases for one backend: `Fixture` as in this file's header, `name` a string
/// literal naming the backend in the test names, `tags` extra tags ("[cpu]").
#define SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, what, check)                      \
  TEMPLATE_TEST_CASE("backend primitives (" name "): " what, "[backend]" tags, float, double) { \
    Fixture::skip_unless_available();                                                           \
    ::spectral_test::backend_suite::check<Fixture, TestType>();                                 \
  }

#define SPECTRAL_BACKEND_PRIMITIVES_SUITE(Fixture, name, tags)                                   \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags,                                          \
                                   "buffers: allocate, zeros, upload, download", check_buffers)  \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "gemm", check_gemm)                      \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "syrk", check_syrk)                      \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "symmetric_product",                     \
                                   check_symmetric_product)                                      \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "eigh", check_eigh)                      \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "eigh of a non-finite matrix",           \
                                   check_eigh_failure)                                           \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "potrf", check_potrf)                    \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "solve_lower", check_solve_lower)        \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "for_each_entry", check_for_each_entry)  \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "trace, dot, max_abs", check_reductions) \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "check_finite", check_check_finite)      \
  SPECTRAL_BACKEND_PRIMITIVES_CASE(Fixture, name, tags, "center", check_center)
