// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CPU implementation of the batched primitives of core/backend.hpp: each matrix of a
/// strided batch is an Eigen::Map with an outer stride (no copy), and a primitive loops over
/// the batch. `spectral::cpu::backend` (cpu/backend.hpp, the header to include) exposes them as
/// its members; the free functions here take the scalar type explicitly.
///
/// Inputs may repeat one matrix (stride 0). Outputs may not, and may not overlap an input
/// unless the primitive says so (center's C may be A itself).

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/solvers.hpp>
#include <spectral/detail/checks.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace spectral::cpu {

/**
 * @brief An owning, move-only array of T in host memory: the CPU backend's `buffer<T>`.
 * @note Zero length is allowed (data() is then null).
 */
template <class T>
class host_buffer {
 public:
  host_buffer() = default;
  /// `count` entries, value-initialised (zero) when `zero`, else left uninitialised.
  host_buffer(index_t count, bool zero) {
    SPECTRAL_EXPECTS(count >= 0, "allocate: negative length ", count);
    if (count > 0) {
      const auto n = static_cast<std::size_t>(count);
      data_ = zero ? std::unique_ptr<T[]>(new T[n]()) : std::unique_ptr<T[]>(new T[n]);
      size_ = n;
    }
  }
  host_buffer(const host_buffer&) = delete;
  host_buffer& operator=(const host_buffer&) = delete;
  /// Takes over `other`'s array, leaving it empty.
  host_buffer(host_buffer&& other) noexcept
      : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}
  /// Frees the array held, then takes over `other`'s.
  host_buffer& operator=(host_buffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  ~host_buffer() = default;

  /// The first entry (null when empty).
  [[nodiscard]] T* data() noexcept { return data_.get(); }
  /// The first entry (null when empty).
  [[nodiscard]] const T* data() const noexcept { return data_.get(); }
  /// Number of entries.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Whether the buffer holds no entries.
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
};

namespace detail {

/// Matrix b of a batch as an Eigen map (read-only for a batch of const T).
template <class T>
[[nodiscard]] auto view(const batch<T>& a, index_t b) {
  using plain = matrix<std::remove_const_t<T>>;
  using mapped = std::conditional_t<std::is_const_v<T>, const plain, plain>;
  return Eigen::Map<mapped, Eigen::Unaligned, Eigen::OuterStride<>>(a.matrix(b), a.rows, a.cols,
                                                                    Eigen::OuterStride<>(a.ld));
}

/// The `count` entries of a per-matrix vector (eigenvalues, means) as a map.
template <class T>
[[nodiscard]] Eigen::Map<vector<T>> vector_view(T* data, index_t size) {
  return Eigen::Map<vector<T>>(data, size);
}

/// Copies the lower triangle over the strict upper one.
template <class Derived>
void mirror_lower(Eigen::MatrixBase<Derived>& a) {
  a.template triangularView<Eigen::StrictlyUpper>() = a.transpose();
}

template <class T>
void expect_layout(const batch<T>& a, const char* primitive, const char* name) {
  SPECTRAL_EXPECTS(a.rows >= 0 && a.cols >= 0 && a.count >= 0 && a.stride >= 0, primitive, ": ",
                   name, " has a negative extent (", a.rows, "x", a.cols, ", count ", a.count,
                   ", stride ", a.stride, ")");
  SPECTRAL_EXPECTS(a.ld >= std::max<index_t>(a.rows, 1) || a.cols == 0, primitive, ": ", name,
                   ": leading dimension ", a.ld, " is smaller than its ", a.rows, " rows");
  SPECTRAL_EXPECTS(a.data != nullptr || a.empty(), primitive, ": ", name, " is null");
}

/// An output: a valid layout whose matrices share no entry: one after another, or side by side
/// in the rows of one column span (the row blocks of a wider matrix: an embedding's groups).
template <class T>
void expect_output(const batch<T>& c, const char* primitive, const char* name) {
  expect_layout(c, primitive, name);
  const bool separate = c.stride >= c.ld * (c.cols - 1) + c.rows;
  const bool side_by_side = c.stride >= c.rows && (c.count - 1) * c.stride + c.rows <= c.ld;
  SPECTRAL_EXPECTS(c.count <= 1 || c.empty() || separate || side_by_side, primitive,
                   ": the matrices of the output ", name, " overlap (stride ", c.stride, ", each ",
                   c.rows, "x", c.cols, " with ld ", c.ld, ")");
}

template <class T, class U>
void expect_count(const batch<T>& a, const batch<U>& c, const char* primitive, const char* name) {
  SPECTRAL_EXPECTS(a.count == c.count, primitive, ": ", name, " holds ", a.count,
                   " matrices, the output ", c.count);
}

template <class T, class U>
void expect_shape(const batch<T>& a,
                  index_t rows,
                  index_t cols,
                  const batch<U>& c,
                  const char* primitive,
                  const char* name) {
  expect_layout(a, primitive, name);
  expect_count(a, c, primitive, name);
  SPECTRAL_EXPECTS(a.rows == rows && a.cols == cols, primitive, ": ", name, " is ", a.rows, "x",
                   a.cols, ", expected ", rows, "x", cols);
}

/// C = α·L·R + β·C for Eigen operands (BLAS semantics: β = 0 never reads C).
template <class C, class L, class R, class T>
void product_into(C& c, T alpha, const L& lhs, const R& rhs, T beta) {
  if (beta == T(0)) {
    c.noalias() = alpha * lhs * rhs;
  } else {
    if (beta != T(1)) {
      c *= beta;
    }
    c.noalias() += alpha * lhs * rhs;
  }
}

/// C's lower triangle ← β·C's (β = 0: zero, whatever C held).
template <class C, class T>
void scale_lower(C& c, T beta) {
  if (beta == T(0)) {
    c.template triangularView<Eigen::Lower>().setZero();
  } else if (beta != T(1)) {
    c.template triangularView<Eigen::Lower>() *= beta;
  }
}

}  // namespace detail

/// The batched primitives (see core/backend.hpp for their contracts), one scalar type each.
namespace batched {

/// `n` uninitialised entries.
template <class T>
[[nodiscard]] host_buffer<T> allocate(index_t n) {
  return host_buffer<T>(n, false);
}

/// `n` value-initialised (zero) entries.
template <class T>
[[nodiscard]] host_buffer<T> zeros(index_t n) {
  return host_buffer<T>(n, true);
}

/// A buffer holding a copy of in[0, n).
template <class T>
[[nodiscard]] host_buffer<T> upload(const T* in, index_t n) {
  host_buffer<T> out(n, false);
  if (n > 0) {
    std::copy(in, in + n, out.data());
  }
  return out;
}

/// A copy of in[0, n).
template <class T>
[[nodiscard]] std::vector<T> download(const T* in, index_t n) {
  SPECTRAL_EXPECTS(n >= 0, "download: negative length ", n);
  return n > 0 ? std::vector<T>(in, in + n) : std::vector<T>();
}

/// C = α·op(A)·op(B) + β·C.
template <class T>
void gemm(op oa, op ob, T alpha, batch<const T> a, batch<const T> b, T beta, batch<T> c) {
  constexpr const char* name = "gemm";
  detail::expect_output(c, name, "C");
  const index_t inner = read_cols(a, oa);
  detail::expect_shape(a, oa == op::none ? c.rows : inner, oa == op::none ? inner : c.rows, c, name,
                       "A");
  detail::expect_shape(b, ob == op::none ? inner : c.cols, ob == op::none ? c.cols : inner, c, name,
                       "B");
  for (index_t g = 0; g < c.count; ++g) {
    auto cm = detail::view(c, g);
    const auto am = detail::view(a, g);
    const auto bm = detail::view(b, g);
    if (oa == op::none) {
      if (ob == op::none) {
        detail::product_into(cm, alpha, am, bm, beta);
      } else {
        detail::product_into(cm, alpha, am, bm.transpose(), beta);
      }
    } else if (ob == op::none) {
      detail::product_into(cm, alpha, am.transpose(), bm, beta);
    } else {
      detail::product_into(cm, alpha, am.transpose(), bm.transpose(), beta);
    }
  }
}

/// C = α·op(A)·op(A)ᵀ + β·C, from C's lower triangle; both triangles written, exactly equal.
template <class T>
void syrk(op oa, T alpha, batch<const T> a, T beta, batch<T> c) {
  constexpr const char* name = "syrk";
  detail::expect_output(c, name, "C");
  SPECTRAL_EXPECTS(c.rows == c.cols, name, ": C is ", c.rows, "x", c.cols, ", not square");
  const index_t inner = read_cols(a, oa);
  detail::expect_shape(a, oa == op::none ? c.rows : inner, oa == op::none ? inner : c.rows, c, name,
                       "A");
  for (index_t g = 0; g < c.count; ++g) {
    auto cm = detail::view(c, g);
    const auto am = detail::view(a, g);
    detail::scale_lower(cm, beta);
    if (oa == op::none) {
      cm.template selfadjointView<Eigen::Lower>().rankUpdate(am, alpha);
    } else {
      cm.template selfadjointView<Eigen::Lower>().rankUpdate(am.transpose(), alpha);
    }
    detail::mirror_lower(cm);
  }
}

/**
 * @brief C = α·A·B + β·C for a product the caller knows to be symmetric (A, B symmetric and
 *        commuting), from C's lower triangle; the result is made exactly symmetric.
 *
 * A and B the same batch is A² = A·Aᵀ, a rank-k update. Otherwise, as the per-matrix
 * symmetric_product: with BLAS a full gemm (Eigen's half-size triangular product is a
 * single-thread kernel that loses to BLAS), without it the triangular product.
 */
template <class T>
void symmetric_product(T alpha, batch<const T> a, batch<const T> b, T beta, batch<T> c) {
  constexpr const char* name = "symmetric_product";
  detail::expect_output(c, name, "C");
  SPECTRAL_EXPECTS(c.rows == c.cols, name, ": C is ", c.rows, "x", c.cols, ", not square");
  detail::expect_shape(a, c.rows, a.cols, c, name, "A");
  detail::expect_shape(b, a.cols, c.cols, c, name, "B");
  const bool square = a.data == b.data && a.rows == b.rows && a.cols == b.cols && a.ld == b.ld &&
                      a.stride == b.stride;
  for (index_t g = 0; g < c.count; ++g) {
    auto cm = detail::view(c, g);
    const auto am = detail::view(a, g);
    if (square) {
      detail::scale_lower(cm, beta);
      cm.template selfadjointView<Eigen::Lower>().rankUpdate(am, alpha);
    } else {
      const auto bm = detail::view(b, g);
#if defined(EIGEN_USE_BLAS)
      detail::product_into(cm, alpha, am, bm, beta);
#else
      detail::scale_lower(cm, beta);
      cm.template triangularView<Eigen::Lower>() += alpha * am * bm;
#endif
    }
    detail::mirror_lower(cm);
  }
}

/**
 * @brief A ← eigenvectors, Λ ← eigenvalues (ascending) of each symmetric A, from its lower
 *        triangle; each eigenvector's largest-|entry| positive.
 *
 * A matrix with a NaN or Inf in its lower triangle, or whose solver fails or returns a
 * non-finite eigenvalue, records `status_solver_failed` (example: its group and the solver's
 * info, or the non-finite value) and gets NaN eigenvalues and eigenvectors. (LAPACK's syevd
 * does not reliably fail on NaN: from n = 26 it can answer info = 0 with some finite values.)
 */
template <class T>
void eigh(batch<T> a, batch<T> values, status_word* status) {
  constexpr const char* name = "eigh";
  detail::expect_output(a, name, "A");
  SPECTRAL_EXPECTS(a.rows == a.cols, name, ": A is ", a.rows, "x", a.cols, ", not square");
  detail::expect_output(values, name, "the eigenvalues");
  detail::expect_shape(values, a.rows, 1, a, name, "the eigenvalues");
  SPECTRAL_EXPECTS(status != nullptr, name, ": null status word");
  const index_t n = a.rows;
  if (n == 0 || a.count == 0) {
    return;
  }
  constexpr T nan = std::numeric_limits<T>::quiet_NaN();
  const auto fail = [&](index_t g, double value) {
    spectral::detail::report(status, status_solver_failed, static_cast<int>(g), value, 0.0);
    detail::view(a, g).setConstant(nan);
    detail::vector_view(values.matrix(g), n).setConstant(nan);
  };
  // The first non-finite entry of the lower triangle, or 0 (finite) when there is none.
  const auto nonfinite_input = [&](index_t g) -> double {
    const auto m = detail::view(a, g);
    for (index_t j = 0; j < n; ++j) {
      const auto column = m.col(j).tail(n - j);
      if (!spectral::detail::all_finite(column)) {
        for (index_t i = 0; i < column.size(); ++i) {
          if (!spectral::detail::is_finite_value(column(i))) {
            return static_cast<double>(column(i));
          }
        }
      }
    }
    return 0.0;
  };
#if defined(SPECTRAL_USE_LAPACKE)
  // One workspace for the whole batch (the query reads neither matrix nor values).
  const auto [lwork, liwork] = detail::syevd_workspace<T>(n, a.data, values.data);
  std::vector<T> work(static_cast<std::size_t>(lwork));
  std::vector<lapack_int> iwork(static_cast<std::size_t>(liwork));
  SPECTRAL_EXPECTS(a.ld <= std::numeric_limits<lapack_int>::max(), name, ": leading dimension ",
                   a.ld, " exceeds lapack_int");
#else
  Eigen::SelfAdjointEigenSolver<matrix<T>> solver(n);
#endif
  for (index_t g = 0; g < a.count; ++g) {
    if (const double bad = nonfinite_input(g); bad != 0.0) {
      fail(g, bad);
      continue;
    }
    auto vectors = detail::view(a, g);
    auto lambda = detail::vector_view(values.matrix(g), n);
#if defined(SPECTRAL_USE_LAPACKE)
    const lapack_int info =
        detail::syevd<T>(static_cast<lapack_int>(n), a.matrix(g), values.matrix(g), work.data(),
                         lwork, iwork.data(), liwork, static_cast<lapack_int>(a.ld));
    if (info != 0) {
      fail(g, static_cast<double>(info));
      continue;
    }
#else
    solver.compute(vectors, Eigen::ComputeEigenvectors);
    if (solver.info() != Eigen::Success) {
      fail(g, static_cast<double>(solver.info()));
      continue;
    }
    vectors = solver.eigenvectors();
    lambda = solver.eigenvalues();
#endif
    if (!spectral::detail::all_finite(lambda)) {
      const auto* bad = std::find_if(lambda.data(), lambda.data() + n,
                                     [](T v) { return !spectral::detail::is_finite_value(v); });
      fail(g, static_cast<double>(*bad));
      continue;
    }
    detail::fix_eigenvector_signs(vectors);
  }
}

/**
 * @brief A ← the lower Cholesky factor of each A (from its lower triangle), strict upper
 *        triangle zeroed.
 *
 * A matrix that is not numerically positive definite records `status_not_positive_definite`
 * (example: its group and the first pivot that is not positive, bound 0); so does one whose
 * factor has a NaN or Inf on its diagonal (a NaN input, which potrf lets through). Its entries
 * are then those of the partial factorisation.
 */
template <class T>
void potrf(batch<T> a, status_word* status) {
  constexpr const char* name = "potrf";
  detail::expect_output(a, name, "A");
  SPECTRAL_EXPECTS(a.rows == a.cols, name, ": A is ", a.rows, "x", a.cols, ", not square");
  SPECTRAL_EXPECTS(status != nullptr, name, ": null status word");
  const index_t n = a.rows;
#if defined(SPECTRAL_USE_LAPACKE)
  SPECTRAL_EXPECTS(a.ld <= std::numeric_limits<lapack_int>::max() || n == 0, name,
                   ": leading dimension ", a.ld, " exceeds lapack_int");
#endif
  for (index_t g = 0; g < a.count && n > 0; ++g) {
    auto m = detail::view(a, g);
#if defined(SPECTRAL_USE_LAPACKE)
    const index_t failed =
        static_cast<index_t>(
            detail::potrf<T>(static_cast<lapack_int>(n), m.data(), static_cast<lapack_int>(a.ld))) -
        1;
#else
    const index_t failed = detail::cholesky_in_place(m);
#endif
    m.template triangularView<Eigen::StrictlyUpper>().setZero();
    index_t bad = failed;
    if (bad < 0 && !spectral::detail::all_finite(m.diagonal())) {
      for (bad = 0; spectral::detail::is_finite_value(m(bad, bad)); ++bad) {
      }
    }
    if (bad >= 0) {
      spectral::detail::report(status, status_not_positive_definite, static_cast<int>(g),
                               static_cast<double>(m(bad, bad)), 0.0);
    }
  }
}

/// C ← L⁻¹·C for the lower triangle of each L.
template <class T>
void solve_lower(batch<const T> l, batch<T> c) {
  constexpr const char* name = "solve_lower";
  detail::expect_output(c, name, "C");
  detail::expect_shape(l, c.rows, c.rows, c, name, "L");
  for (index_t g = 0; g < c.count && c.rows > 0 && c.cols > 0; ++g) {
    auto cm = detail::view(c, g);
    detail::view(l, g).template triangularView<Eigen::Lower>().solveInPlace(cm);
  }
}

/// Calls f(b, i, j) for every index triple, in column-major order per matrix.
template <class F>
void for_each_entry(const extent& e, const F& f) {
  for (index_t b = 0; b < e.count; ++b) {
    for (index_t j = 0; j < e.cols; ++j) {
      for (index_t i = 0; i < e.rows; ++i) {
        f(b, i, j);
      }
    }
  }
}

/// out[b] = tr A (the sum of the diagonal; of the leading square of a rectangular A).
template <class T>
void trace(batch<const T> a, T* out) {
  detail::expect_layout(a, "trace", "A");
  for (index_t g = 0; g < a.count; ++g) {
    out[g] = detail::view(a, g).trace();
  }
}

/// out[b] = Σ_ij A_ij B_ij.
template <class T>
void dot(batch<const T> a, batch<const T> b, T* out) {
  detail::expect_layout(a, "dot", "A");
  detail::expect_shape(b, a.rows, a.cols, a, "dot", "B");
  for (index_t g = 0; g < a.count; ++g) {
    out[g] = detail::view(a, g).cwiseProduct(detail::view(b, g)).sum();
  }
}

/// out[b] = max |A_ij| (0 for an empty matrix; NaN when A holds a NaN).
template <class T>
void max_abs(batch<const T> a, T* out) {
  detail::expect_layout(a, "max_abs", "A");
  for (index_t g = 0; g < a.count; ++g) {
    out[g] = a.area() == 0 ? T(0)
                           : detail::view(a, g).cwiseAbs().template maxCoeff<Eigen::PropagateNaN>();
  }
}

/// Records `flag` for each matrix holding a NaN or Inf (example: its group and the first such
/// entry in column-major order; the status word keeps the first report).
template <class T>
void check_finite(batch<const T> a, status_word* status, unsigned flag) {
  detail::expect_layout(a, "check_finite", "A");
  SPECTRAL_EXPECTS(status != nullptr, "check_finite: null status word");
  for (index_t g = 0; g < a.count; ++g) {
    const auto m = detail::view(a, g);
    if (spectral::detail::all_finite(m)) {
      continue;
    }
    for (index_t j = 0; j < m.cols(); ++j) {
      const auto column = m.col(j);
      if (spectral::detail::all_finite(column)) {
        continue;
      }
      const auto* bad = std::find_if(column.data(), column.data() + column.size(),
                                     [](T v) { return !spectral::detail::is_finite_value(v); });
      spectral::detail::report(status, flag, static_cast<int>(g), static_cast<double>(*bad), 0.0);
      break;
    }
  }
}

/**
 * @brief C = A minus its mean over columns (one mean per row, `means[b·rows + i]`) or over
 *        rows (one per column, `means[b·cols + j]`). C may be A itself; `means` may be null.
 * @note A mean over zero entries is NaN.
 */
template <class T>
void center(batch<const T> a, batch<T> c, mean_over over, T* means) {
  constexpr const char* name = "center";
  detail::expect_output(c, name, "C");
  detail::expect_shape(a, c.rows, c.cols, c, name, "A");
  const bool per_row = over == mean_over::columns;
  const index_t length = per_row ? a.rows : a.cols;
  std::vector<T> scratch(means == nullptr ? static_cast<std::size_t>(length) : 0U);
  for (index_t g = 0; g < a.count; ++g) {
    auto mean = detail::vector_view(means == nullptr ? scratch.data() : means + g * length, length);
    if (a.area() == 0) {
      mean.setConstant(std::numeric_limits<T>::quiet_NaN());
      continue;
    }
    const auto am = detail::view(a, g);
    auto cm = detail::view(c, g);
    if (per_row) {
      mean = am.rowwise().mean();
      cm = am.colwise() - mean;  // coefficient-wise: C may be A itself
    } else {
      mean = am.colwise().mean().transpose();
      cm = am.rowwise() - mean.transpose();
    }
  }
}

}  // namespace batched
}  // namespace spectral::cpu
