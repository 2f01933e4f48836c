// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include <string_view>

#if defined(SPECTRAL_USE_LAPACKE)
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>
#endif

namespace spectral::cpu {

/**
 * @brief The CPU backend: Eigen for products, Eigen or LAPACK (`SPECTRAL_USE_LAPACKE`, set by
 *        the `spectral::blas` CMake target) for the symmetric eigensolver.
 *
 * Methods and the transform core are written against these primitives; a GPU backend supplies
 * the same set over device memory.
 */
struct backend {
  template <class T>
  using matrix = spectral::matrix<T>;
  template <class T>
  using vector = spectral::vector<T>;

  /// Symmetric eigendecomposition A = U diag(λ) Uᵀ.
  template <class T>
  struct eigen_pair {
    vector<T> values;   ///< ascending
    matrix<T> vectors;  ///< orthonormal columns; largest-|entry| of each column is positive
  };

  /**
   * @brief Eigenvalues (ascending) and eigenvectors of a symmetric matrix.
   * @note The sign of every eigenvector is fixed (largest-magnitude entry positive) so that
   *       PCA outputs are reproducible across backends and runs.
   * @throws numerical_error when the solver does not converge.
   */
  template <class T>
  [[nodiscard]] static eigen_pair<T> eigh(const matrix<T>& a);

  /// Σ = X Xᵀ / divisor + shift·I for a K×M expression X; symmetric by construction.
  template <class Derived>
  [[nodiscard]] static matrix<typename Derived::Scalar> gram(const Eigen::MatrixBase<Derived>& x,
                                                             double divisor, double shift);

  /// C = A·B when the caller knows the product is symmetric (A, B symmetric and commuting);
  /// the result is made exactly symmetric. A² (same object twice) is a rank-k update.
  template <class T>
  static void symmetric_product(const matrix<T>& a, const matrix<T>& b, matrix<T>& c);

  /// U diag(values) Uᵀ, made exactly symmetric.
  template <class T>
  [[nodiscard]] static matrix<T> rebuild(const matrix<T>& u, const vector<T>& values);

  /// U (Γ ∘ (Uᵀ G U)) Uᵀ: the Loewner (Daleckii–Krein) sandwich used by spectral-function
  /// backward passes.
  template <class T>
  [[nodiscard]] static matrix<T> loewner_sandwich(const matrix<T>& u, const matrix<T>& gamma,
                                                  const matrix<T>& g);

  /// Lower Cholesky factor; returns false when `a` is not numerically positive definite.
  template <class T>
  [[nodiscard]] static bool cholesky(const matrix<T>& a, matrix<T>& lower);
};

// --- implementation -----------------------------------------------------------------------------

namespace detail {

template <class T>
void fix_eigenvector_signs(matrix<T>& u) {
  for (index_t j = 0; j < u.cols(); ++j) {
    index_t arg = 0;
    u.col(j).cwiseAbs().maxCoeff(&arg);
    if (u(arg, j) < T(0)) {
      u.col(j) = -u.col(j);
    }
  }
}

#if defined(SPECTRAL_USE_LAPACKE)
/// ?syevd with an explicit workspace: `lwork` or `liwork` -1 is a workspace query.
template <class T>
lapack_int syevd(lapack_int n, T* a, T* w, T* work, lapack_int lwork, lapack_int* iwork,
                 lapack_int liwork) {
  const lapack_int lda = std::max<lapack_int>(n, 1);
  if constexpr (std::is_same_v<T, double>) {
    return LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', n, a, lda, w, work, lwork, iwork,
                               liwork);
  } else {
    return LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, 'V', 'L', n, a, lda, w, work, lwork, iwork,
                               liwork);
  }
}

/// Workspace lengths of ?syevd with eigenvectors for an n×n matrix: LAPACK's documented
/// minimums (lwork = 1 + 6n + 2n², liwork = 3 + 5n), or the query's answer when it is larger.
/// The query alone is not enough: it returns lwork as a T, and a float holds integers exactly
/// only up to 2²⁴, so from n ≈ 2900 the answer can be rounded below the minimum (info = -9).
/// @throws invalid_input when the workspace does not fit in a lapack_int
template <class T>
std::pair<lapack_int, lapack_int> syevd_workspace(index_t rows, T* a, T* w) {
  constexpr auto largest = static_cast<std::int64_t>(std::numeric_limits<lapack_int>::max());
  const auto n = static_cast<std::int64_t>(rows);
  // Judged in double first: 2n² of an absurd n would overflow even 64 bits.
  const double needed = 1.0 + 6.0 * static_cast<double>(n) + 2.0 * static_cast<double>(n) *
                                                                   static_cast<double>(n);
  SPECTRAL_EXPECTS(needed <= static_cast<double>(largest) && 1 + 6 * n + 2 * n * n <= largest,
                   "eigh: a ", rows, "x", rows, " matrix needs a LAPACK syevd workspace of ",
                   needed, " elements, more than lapack_int holds (", largest, ")");
  const std::int64_t work_min = 1 + 6 * n + 2 * n * n;
  const std::int64_t iwork_min = 3 + 5 * n;
  T work_query{};
  lapack_int iwork_query = 0;
  const lapack_int info =
      syevd<T>(static_cast<lapack_int>(n), a, w, &work_query, -1, &iwork_query, -1);
  if (info != 0) {
    SPECTRAL_FAIL("eigh: LAPACK syevd's workspace query failed with info=", info, " on a ", n,
                  "x", n, " matrix");
  }
  // Rounded up, and capped: an answer beyond lapack_int is only a float's rounding of one inside.
  const double queried = std::min(std::ceil(static_cast<double>(work_query)),
                                  static_cast<double>(largest));
  const std::int64_t work = std::max(work_min, static_cast<std::int64_t>(queried));
  const std::int64_t iwork = std::max(iwork_min, static_cast<std::int64_t>(iwork_query));
  return {static_cast<lapack_int>(work), static_cast<lapack_int>(iwork)};
}
#endif

}  // namespace detail

template <class T>
backend::eigen_pair<T> backend::eigh(const matrix<T>& a) {
  eigen_pair<T> out;
#if defined(SPECTRAL_USE_LAPACKE)
  // Divide and conquer (syevd) is several times faster than Eigen's QL iteration for n >= 256.
  // The workspace is sized here rather than by LAPACKE_?syevd, which trusts the query's
  // rounded answer (see detail::syevd_workspace).
  out.vectors = a;
  out.values.resize(a.rows());
  const auto [lwork, liwork] = detail::syevd_workspace<T>(a.rows(), out.vectors.data(),
                                                          out.values.data());
  const auto n = static_cast<lapack_int>(a.rows());
  std::vector<T> work(static_cast<std::size_t>(lwork));
  std::vector<lapack_int> iwork(static_cast<std::size_t>(liwork));
  const lapack_int info = detail::syevd<T>(n, out.vectors.data(), out.values.data(), work.data(),
                                           lwork, iwork.data(), liwork);
  if (info != 0) {
    SPECTRAL_FAIL("eigh: LAPACK syevd failed with info=", info, " on a ", n, "x", n, " matrix");
  }
#else
  Eigen::SelfAdjointEigenSolver<matrix<T>> solver(a, Eigen::ComputeEigenvectors);
  if (solver.info() != Eigen::Success) {
    SPECTRAL_FAIL("eigh: the symmetric eigensolver did not converge on a ", a.rows(), "x",
                  a.cols(), " matrix");
  }
  out.values = solver.eigenvalues();
  out.vectors = solver.eigenvectors();
#endif
  detail::fix_eigenvector_signs(out.vectors);
  return out;
}

template <class Derived>
matrix<typename Derived::Scalar> backend::gram(const Eigen::MatrixBase<Derived>& x,
                                               double divisor, double shift) {
  using T = typename Derived::Scalar;
  matrix<T> sigma = matrix<T>::Zero(x.rows(), x.rows());
  sigma.template selfadjointView<Eigen::Lower>().rankUpdate(x, static_cast<T>(1.0 / divisor));
  spectral::detail::mirror_lower(sigma);
  if (shift != 0.0) {
    sigma.diagonal().array() += static_cast<T>(shift);
  }
  return sigma;
}

// Eigen sends only A·Aᵀ (syrk) to BLAS; its own half-size triangular product is a single-thread
// kernel that loses to a full multi-threaded BLAS gemm (measured 2-3x at K = 1024). So with
// EIGEN_USE_BLAS a squared symmetric matrix goes to syrk and any other product to gemm; without
// BLAS the triangular product saves half the flops. Mirroring makes the result exactly symmetric.
template <class T>
void backend::symmetric_product(const matrix<T>& a, const matrix<T>& b, matrix<T>& c) {
  if (&a == &b) {  // a² = a aᵀ for symmetric a: a rank-k update in both configurations
    c.setZero(a.rows(), a.rows());
    c.template selfadjointView<Eigen::Lower>().rankUpdate(a);
  } else {
    c.resize(a.rows(), b.cols());
#if defined(EIGEN_USE_BLAS)
    c.noalias() = a * b;
#else
    c.template triangularView<Eigen::Lower>() = a * b;
#endif
  }
  spectral::detail::mirror_lower(c);
}

template <class T>
matrix<T> backend::rebuild(const matrix<T>& u, const vector<T>& values) {
  if ((values.array() > T(0)).all()) {  // every whitening map: U g Uᵀ = (U √g)(U √g)ᵀ, a syrk
    const matrix<T> root = u * values.cwiseSqrt().asDiagonal();
    matrix<T> out = matrix<T>::Zero(u.rows(), u.rows());
    out.template selfadjointView<Eigen::Lower>().rankUpdate(root);
    spectral::detail::mirror_lower(out);
    return out;
  }
  const matrix<T> scaled = u * values.asDiagonal();
  matrix<T> out(u.rows(), u.rows());
#if defined(EIGEN_USE_BLAS)
  out.noalias() = scaled * u.transpose();
#else
  out.template triangularView<Eigen::Lower>() = scaled * u.transpose();
#endif
  spectral::detail::mirror_lower(out);
  return out;
}

template <class T>
matrix<T> backend::loewner_sandwich(const matrix<T>& u, const matrix<T>& gamma,
                                    const matrix<T>& g) {
  const matrix<T> rotated = (u.transpose() * g * u).cwiseProduct(gamma);
  return u * rotated * u.transpose();
}

template <class T>
bool backend::cholesky(const matrix<T>& a, matrix<T>& lower) {
  Eigen::LLT<matrix<T>> llt(a);
  if (llt.info() != Eigen::Success) {
    return false;
  }
  lower = llt.matrixL();
  return lower.diagonal().minCoeff() > T(0);
}

}  // namespace spectral::cpu
