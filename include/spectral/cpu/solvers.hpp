// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The dense factorisations the CPU backend's per-matrix (cpu/backend.hpp) and batched
/// (cpu/batched.hpp) primitives share: the eigenvector sign convention, LAPACK's syevd and potrf
/// behind `SPECTRAL_USE_LAPACKE`, and an in-place Cholesky factorisation for builds without it.

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>

#if defined(SPECTRAL_USE_LAPACKE)
#include <lapacke.h>

#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#endif

namespace spectral::cpu::detail {

/// The sign convention of every eigensolver: the largest-magnitude entry of each eigenvector
/// (the first, on a tie) is positive, so that PCA outputs are reproducible across backends.
template <class Derived>
void fix_eigenvector_signs(Eigen::MatrixBase<Derived>& u) {
  for (index_t j = 0; j < u.cols(); ++j) {
    index_t arg = 0;
    u.col(j).cwiseAbs().maxCoeff(&arg);
    if (u(arg, j) < typename Derived::Scalar(0)) {
      u.col(j) = -u.col(j);
    }
  }
}

/**
 * @brief Lower Cholesky factor of the n×n matrix `a` in place, from its lower triangle (the
 *        strict upper triangle is neither read nor written).
 *
 * Eigen's blocked right-looking algorithm (LLT's), which returns the failing column but drops
 * the failing pivot; this one keeps it, as LAPACK's potrf does.
 * @return -1 on success, else the index k of the first pivot that is not positive (or NaN);
 *         that pivot is left in a(k, k)
 */
template <class Derived>
index_t cholesky_in_place(Eigen::MatrixBase<Derived>& a) {
  using T = typename Derived::Scalar;
  const index_t n = a.rows();
  constexpr index_t block_size = 64;
  for (index_t k = 0; k < n; k += block_size) {
    const index_t bs = std::min(block_size, n - k);
    // The diagonal block, left-looking column by column.
    for (index_t j = k; j < k + bs; ++j) {
      const index_t done = j - k;            // columns of this block already factored
      const index_t below = k + bs - j - 1;  // rows of this block under the diagonal
      const T pivot = a(j, j) - a.row(j).segment(k, done).squaredNorm();
      if (!(pivot > T(0))) {
        a(j, j) = pivot;
        return j;
      }
      const T root = std::sqrt(pivot);
      a(j, j) = root;
      if (below > 0) {
        if (done > 0) {
          a.col(j).segment(j + 1, below).noalias() -=
              a.block(j + 1, k, below, done) * a.row(j).segment(k, done).transpose();
        }
        a.col(j).segment(j + 1, below) /= root;
      }
    }
    const index_t rest = n - k - bs;
    if (rest > 0) {
      auto panel = a.block(k + bs, k, rest, bs);
      // A21 ← A21 L11⁻ᵀ, then A22 ← A22 − A21 A21ᵀ (lower triangle).
      a.block(k, k, bs, bs)
          .transpose()
          .template triangularView<Eigen::Upper>()
          .template solveInPlace<Eigen::OnTheRight>(panel);
      a.block(k + bs, k + bs, rest, rest)
          .template selfadjointView<Eigen::Lower>()
          .rankUpdate(panel, T(-1));
    }
  }
  return -1;
}

#if defined(SPECTRAL_USE_LAPACKE)
/// ?syevd with an explicit workspace: `lwork` or `liwork` -1 is a workspace query. `lda` 0
/// means n (a packed matrix).
template <class T>
lapack_int syevd(lapack_int n,
                 T* a,
                 T* w,
                 T* work,
                 lapack_int lwork,
                 lapack_int* iwork,
                 lapack_int liwork,
                 lapack_int lda = 0) {
  lda = std::max<lapack_int>({lda, n, 1});
  if constexpr (std::is_same_v<T, double>) {
    return LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'L', n, a, lda, w, work, lwork, iwork,
                               liwork);
  } else {
    return LAPACKE_ssyevd_work(LAPACK_COL_MAJOR, 'V', 'L', n, a, lda, w, work, lwork, iwork,
                               liwork);
  }
}

/// ?potrf on the lower triangle (the _work form: LAPACKE's plain one scans the input for NaN
/// first and answers -4 instead of factoring). Returns info: 0, or the 1-based failing column,
/// whose pivot potrf leaves on the diagonal.
template <class T>
lapack_int potrf(lapack_int n, T* a, lapack_int lda) {
  lda = std::max<lapack_int>({lda, n, 1});
  if constexpr (std::is_same_v<T, double>) {
    return LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', n, a, lda);
  } else {
    return LAPACKE_spotrf_work(LAPACK_COL_MAJOR, 'L', n, a, lda);
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
  const double needed =
      1.0 + 6.0 * static_cast<double>(n) + 2.0 * static_cast<double>(n) * static_cast<double>(n);
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
    SPECTRAL_FAIL("eigh: LAPACK syevd's workspace query failed with info=", info, " on a ", n, "x",
                  n, " matrix");
  }
  // Rounded up, and capped: an answer beyond lapack_int is only a float's rounding of one inside.
  const double queried =
      std::min(std::ceil(static_cast<double>(work_query)), static_cast<double>(largest));
  const std::int64_t work = std::max(work_min, static_cast<std::int64_t>(queried));
  const std::int64_t iwork = std::max(iwork_min, static_cast<std::int64_t>(iwork_query));
  return {static_cast<lapack_int>(work), static_cast<lapack_int>(iwork)};
}
#endif

}  // namespace spectral::cpu::detail
