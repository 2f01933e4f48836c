// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CPU backend, spectral::cpu::backend: the batched primitives on host memory.

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

/// The CPU backend: Eigen (and LAPACK with `SPECTRAL_USE_LAPACKE`) on host memory.
namespace spectral::cpu {

/**
 * @brief The CPU backend: Eigen for products, Eigen or LAPACK (`SPECTRAL_USE_LAPACKE`, set by
 *        the `spectral::blas` CMake target) for the symmetric eigensolver.
 *
 * The members make it a `spectral::batched_backend` (core/backend.hpp): primitives over
 * strided batches of host memory, implemented in cpu/batched.hpp, which the transform and
 * every method are written against. A stateless, empty object; any instance will do.
 */
struct backend {
  // --- batched primitives (the batched_backend concept) -------------------------------------
  // The scalar type is deduced from the output (the inputs then convert from batch<T>).

  /// The owning buffer of T (host memory).
  template <class T>
  using buffer = host_buffer<T>;
  /// Buffers are host memory: results can be read, and errors thrown, where they arise.
  static constexpr bool host_memory = true;
  /// T in a non-deduced context: the scalar type is deduced from the output batch only.
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
  void gemm(op oa,
            op ob,
            same<T> alpha,
            batch<const same<T>> a,
            batch<const same<T>> b,
            same<T> beta,
            batch<T> c) const {
    batched::gemm<T>(oa, ob, alpha, a, b, beta, c);
  }
  /// C = α·op(A)·op(A)ᵀ + β·C from C's lower triangle; both triangles written, exactly equal.
  template <class T>
  void syrk(op oa, same<T> alpha, batch<const same<T>> a, same<T> beta, batch<T> c) const {
    batched::syrk<T>(oa, alpha, a, beta, c);
  }
  /// C = α·A·B + β·C for a product known to be symmetric; exactly symmetric.
  template <class T>
  void symmetric_product(same<T> alpha,
                         batch<const same<T>> a,
                         batch<const same<T>> b,
                         same<T> beta,
                         batch<T> c) const {
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
  /// The same for a batch of mutable entries.
  template <class T>
  requires(!std::is_const_v<T>) void check_finite(batch<T> a,
                                                  status_word* status,
                                                  unsigned flag) const {
    batched::check_finite<T>(a, status, flag);
  }
  /// C = A minus its means over `over` (C may be A); the means to `means` unless null.
  template <class T>
  void center(batch<const same<T>> a, batch<T> c, mean_over over, T* means) const {
    batched::center<T>(a, c, over, means);
  }
};

static_assert(spectral::batched_backend<backend>);

}  // namespace spectral::cpu
