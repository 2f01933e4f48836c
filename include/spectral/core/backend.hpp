// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The backend contract: the batched primitives (batched_backend) every backend supplies, and
/// primitives<Backend, T>, the per-scalar-type facade methods are written against.

#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>

#include <concepts>
#include <cstddef>
#include <vector>

namespace spectral {

/// Which dimension of a matrix a centring step averages over.
enum class mean_over : unsigned char {
  columns,  ///< each row minus the mean of its entries (a row mean per row)
  rows,     ///< each column minus the mean of its entries (a column mean per column)
};

namespace detail {

/// What the concept calls for_each_entry with: a functor callable on host and device.
struct entry_probe {
  SPECTRAL_HOST_DEVICE void operator()(index_t /*b*/, index_t /*i*/, index_t /*j*/) const {}
};

/// The primitives one scalar type needs (the concept checks float and double).
template <class B, class T>
concept batched_primitives = requires(B& be,
                                      batch<const T> a,
                                      batch<const T> b,
                                      batch<T> c,
                                      batch<T> values,
                                      T scalar,
                                      T* out,
                                      const T* in,
                                      status_word* status,
                                      index_t n) {
  typename B::template buffer<T>;
  { be.template allocate<T>(n) } -> std::same_as<typename B::template buffer<T>>;
  { be.template zeros<T>(n) } -> std::same_as<typename B::template buffer<T>>;
  { be.template upload<T>(in, n) } -> std::same_as<typename B::template buffer<T>>;
  { be.template download<T>(in, n) } -> std::same_as<std::vector<T>>;
  // products
  be.gemm(op::none, op::transpose, scalar, a, b, scalar, c);
  be.syrk(op::none, scalar, a, scalar, c);
  be.symmetric_product(scalar, a, b, scalar, c);
  // factorizations (in place; failures recorded per matrix in `status`)
  be.eigh(c, values, status);
  be.potrf(c, status);
  be.solve_lower(a, c);
  // per-matrix reductions into out[b]
  be.trace(a, out);
  be.dot(a, b, out);
  be.max_abs(a, out);
  be.check_finite(a, status, 0U);
  // centring: c = a minus its means along one dimension, means into out
  be.center(a, c, mean_over::columns, out);
};

}  // namespace detail

/**
 * @brief What a backend supplies so that the transform, the methods, the losses and the
 *        diagnostics can be written once: primitives over strided batches (core/batch.hpp).
 *
 * Every primitive takes all `count` matrices of its batches in one call (a backend may loop,
 * run groups in parallel, or issue one batched library call) and runs in the backend's
 * execution context: in order on the CPU, in stream order on CUDA, where nothing waits for the
 * host except `upload` and `download`. Memory comes from the backend (`allocate`, owned
 * `buffer<T>`s with `data()` and `size()`), whose resource the caller chooses.
 *
 * | primitive | meaning (for every matrix b of the batches) |
 * |---|---|
 * | `gemm(oa, ob, α, A, B, β, C)` | C = α·op(A)·op(B) + β·C |
 * | `syrk(oa, α, A, β, C)` | C = α·op(A)·op(A)ᵀ + β·C, both triangles written and equal (C
 * symmetric on input when β ≠ 0: its lower triangle is read) | | `symmetric_product(α, A, B, β, C)`
 * | C = α·A·B + β·C for a product known to be symmetric (C too when β ≠ 0); result exactly
 * symmetric | | `eigh(A, Λ, s)` | A ← eigenvectors, Λ (K×1 each) ← eigenvalues ascending (lower
 * triangle read); each eigenvector's largest-|entry| positive; failure → `status_solver_failed` |
 * | `potrf(A, s)` | A ← lower Cholesky factor (strict upper zeroed); failure →
 * `status_not_positive_definite` | | `solve_lower(L, C)` | C ← L⁻¹·C for lower-triangular L | |
 * `for_each_entry(extent, f)` | f(b, i, j) for every index triple, in any order, concurrently on a
 * GPU | | `trace(A, out)`, `dot(A, B, out)`, `max_abs(A, out)` | out[b] = tr A, Σ A∘B, max abs(A) |
 * | `check_finite(A, s, flag)` | records `flag` (example: group b, the value) for a NaN or Inf |
 * | `center(A, C, over, means)` | C = A minus the mean over rows or columns; matrix b's means to
 * `means[b·length …]` (length = rows or cols); C may be A |
 *
 * A functor given to for_each_entry is a small copyable object with a `SPECTRAL_HOST_DEVICE`
 * call operator, holding batches and scalars by value; it writes through them.
 */
template <class B>
concept batched_backend = detail::batched_primitives<B, float> &&
    detail::batched_primitives<B, double> &&
    requires(B& be, extent e, detail::entry_probe f, index_t n) {
  be.for_each_entry(e, f);
  { be.template zeros<status_word>(n) } -> std::same_as<typename B::template buffer<status_word>>;
};

/**
 * @brief A backend's primitives for one scalar type: what methods are written against.
 *
 * Holds a reference to the backend; cheap to make per call. Fixing T lets mutable batches
 * convert to read-only ones at the call, and keeps `.template` out of the algorithm.
 */
template <class Backend, class T>
struct primitives {
  Backend& be;  ///< the backend every call forwards to

  /// The backend's owning buffer of U (host or device memory).
  template <class U>
  using buffer = typename Backend::template buffer<U>;

  /// `n` uninitialised entries of T.
  [[nodiscard]] buffer<T> allocate(index_t n) const { return be.template allocate<T>(n); }
  /// `n` zero entries of T.
  [[nodiscard]] buffer<T> zeros(index_t n) const { return be.template zeros<T>(n); }

  /// C = α·op(A)·op(B) + β·C.
  void gemm(op oa, op ob, T alpha, batch<const T> a, batch<const T> b, T beta, batch<T> c) const {
    be.template gemm<T>(oa, ob, alpha, a, b, beta, c);
  }
  /// C = α·op(A)·op(A)ᵀ + β·C, both triangles written and equal.
  void syrk(op oa, T alpha, batch<const T> a, T beta, batch<T> c) const {
    be.template syrk<T>(oa, alpha, a, beta, c);
  }
  /// C = α·A·B + β·C for a product known to be symmetric; the result is exactly symmetric.
  void symmetric_product(T alpha, batch<const T> a, batch<const T> b, T beta, batch<T> c) const {
    be.template symmetric_product<T>(alpha, a, b, beta, c);
  }
  /// A ← eigenvectors, `values` ← eigenvalues ascending; failures → status_solver_failed.
  void eigh(batch<T> a, batch<T> values, status_word* status) const {
    be.template eigh<T>(a, values, status);
  }
  /// A ← lower Cholesky factor; failures → status_not_positive_definite.
  void potrf(batch<T> a, status_word* status) const { be.template potrf<T>(a, status); }
  /// C ← L⁻¹·C for lower-triangular L.
  void solve_lower(batch<const T> l, batch<T> c) const { be.template solve_lower<T>(l, c); }
  /// out[b] = tr A.
  void trace(batch<const T> a, T* out) const { be.template trace<T>(a, out); }
  /// out[b] = Σ A∘B.
  void dot(batch<const T> a, batch<const T> b, T* out) const { be.template dot<T>(a, b, out); }
  /// out[b] = max abs(A).
  void max_abs(batch<const T> a, T* out) const { be.template max_abs<T>(a, out); }
  /// Records `flag` in `status` for each matrix holding a NaN or Inf.
  void check_finite(batch<const T> a, status_word* status, unsigned flag) const {
    be.check_finite(a, status, flag);
  }
  /// C = A minus its means over rows or columns (C may be A); the means into `means`.
  void center(batch<const T> a, batch<T> c, mean_over over, T* means) const {
    be.template center<T>(a, c, over, means);
  }
  /// Runs the elementwise functor f(b, i, j) over every index triple of `e`.
  template <class F>
  void for_each(const extent& e, const F& f) const {
    be.for_each_entry(e, f);
  }
};

}  // namespace spectral
