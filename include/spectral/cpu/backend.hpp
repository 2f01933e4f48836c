// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/batched.hpp>
#include <spectral/cpu/solvers.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include <string_view>
#include <type_traits>
#include <vector>

namespace spectral::cpu {

/**
 * @brief The CPU backend: Eigen for products, Eigen or LAPACK (`SPECTRAL_USE_LAPACKE`, set by
 *        the `spectral::blas` CMake target) for the symmetric eigensolver.
 *
 * Two sets of primitives: the static per-matrix helpers the methods use today (eigh, gram,
 * symmetric_product, rebuild, loewner_sandwich, cholesky), and the members that make it a
 * `spectral::batched_backend` (core/backend.hpp): primitives over strided batches of host
 * memory, implemented in cpu/batched.hpp. A stateless, empty object; any instance will do.
 */
struct backend {
  // --- batched primitives (the batched_backend concept) -------------------------------------
  // The scalar type is deduced from the output (the inputs then convert from batch<T>).

  template <class T>
  using buffer = host_buffer<T>;
  template <class T>
  using same = std::type_identity_t<T>;

  /// `n` uninitialised entries.
  template <class T>
  [[nodiscard]] buffer<T> allocate(index_t n) const {
    return batched::allocate<T>(n);
  }
  /// `n` value-initialised (zero) entries.
  template <class T>
  [[nodiscard]] buffer<T> zeros(index_t n) const {
    return batched::zeros<T>(n);
  }
  /// A buffer holding a copy of in[0, n).
  template <class T>
  [[nodiscard]] buffer<T> upload(const T* in, index_t n) const {
    return batched::upload<T>(in, n);
  }
  /// A copy of in[0, n).
  template <class T>
  [[nodiscard]] std::vector<T> download(const T* in, index_t n) const {
    return batched::download<T>(in, n);
  }
  /// C = α·op(A)·op(B) + β·C (β = 0 ignores C's old contents).
  template <class T>
  void gemm(op oa, op ob, same<T> alpha, batch<const same<T>> a, batch<const same<T>> b,
            same<T> beta, batch<T> c) const {
    batched::gemm<T>(oa, ob, alpha, a, b, beta, c);
  }
  /// C = α·op(A)·op(A)ᵀ + β·C from C's lower triangle; both triangles written, exactly equal.
  template <class T>
  void syrk(op oa, same<T> alpha, batch<const same<T>> a, same<T> beta, batch<T> c) const {
    batched::syrk<T>(oa, alpha, a, beta, c);
  }
  /// C = α·A·B + β·C for a product known to be symmetric; exactly symmetric.
  template <class T>
  void symmetric_product(same<T> alpha, batch<const same<T>> a, batch<const same<T>> b,
                         same<T> beta, batch<T> c) const {
    batched::symmetric_product<T>(alpha, a, b, beta, c);
  }
  /// A ← eigenvectors, values ← eigenvalues ascending; failures → status_solver_failed.
  template <class T>
  void eigh(batch<T> a, batch<same<T>> values, status_word* status) const {
    batched::eigh<T>(a, values, status);
  }
  /// A ← lower Cholesky factor; failures → status_not_positive_definite.
  template <class T>
  void potrf(batch<T> a, status_word* status) const {
    batched::potrf<T>(a, status);
  }
  /// C ← L⁻¹·C.
  template <class T>
  void solve_lower(batch<const same<T>> l, batch<T> c) const {
    batched::solve_lower<T>(l, c);
  }
  /// f(b, i, j) for every index triple (column-major order within each matrix).
  template <class F>
  void for_each_entry(const extent& e, const F& f) const {
    batched::for_each_entry(e, f);
  }
  /// out[b] = tr A.
  template <class T>
  void trace(batch<const same<T>> a, T* out) const {
    batched::trace<T>(a, out);
  }
  /// out[b] = Σ A∘B.
  template <class T>
  void dot(batch<const same<T>> a, batch<const same<T>> b, T* out) const {
    batched::dot<T>(a, b, out);
  }
  /// out[b] = max |A| (NaN when A holds a NaN).
  template <class T>
  void max_abs(batch<const same<T>> a, T* out) const {
    batched::max_abs<T>(a, out);
  }
  /// Records `flag` (group b, the first non-finite value) for each A holding a NaN or Inf.
  template <class T>
  void check_finite(batch<const T> a, status_word* status, unsigned flag) const {
    batched::check_finite<T>(a, status, flag);
  }
  template <class T>
    requires(!std::is_const_v<T>)
  void check_finite(batch<T> a, status_word* status, unsigned flag) const {
    batched::check_finite<T>(a, status, flag);
  }
  /// C = A minus its means over `over` (C may be A); the means to `means` unless null.
  template <class T>
  void center(batch<const same<T>> a, batch<T> c, mean_over over, T* means) const {
    batched::center<T>(a, c, over, means);
  }

  // --- per-matrix helpers (the current methods) ---------------------------------------------

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

static_assert(spectral::batched_backend<backend>);

// --- implementation -----------------------------------------------------------------------------

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
