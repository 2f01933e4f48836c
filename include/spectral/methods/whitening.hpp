// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The whitening methods (Σ_Y = I): ZCA (a spectral function), PCA and Cholesky (hook methods
/// with their own forward and backward).

#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/batch_ops.hpp>
#include <spectral/detail/spectral_function.hpp>

#include <cmath>
#include <limits>
#include <string_view>

namespace spectral {

/**
 * @brief ZCA whitening W = Σ^{-1/2} = U Λ^{-1/2} Uᵀ: the whitening instance of the spectral
 *        transformation (Weng et al., ICLR 2024, Sec. 3; Huang et al., "Decorrelated Batch
 *        Normalization", CVPR 2018; `docs/math.md#whitening`). Σ_Y = I; backward by
 *        Daleckii–Krein (`docs/math.md#backward-spectral-function`).
 * @note Needs a positive-definite covariance (use eps when M ≤ K).
 */
struct zca_whitening {
  /// The method's name in messages and the registry.
  [[nodiscard]] static constexpr std::string_view name() noexcept { return "zca"; }
  /// g(λ) = λ^{-1/2}.
  [[nodiscard]] SPECTRAL_HOST_DEVICE double value(double lambda) const {
    return 1.0 / std::sqrt(lambda);
  }
  /// g'(λ) = −½ λ^{-3/2}.
  [[nodiscard]] SPECTRAL_HOST_DEVICE double derivative(double lambda) const {
    return -0.5 / (lambda * std::sqrt(lambda));
  }
  /// Always: λ^{-1/2} needs λ > 0.
  [[nodiscard]] static constexpr bool requires_positive_definite() noexcept { return true; }
  /// The eigenvalue of Σ_Y that λ becomes: 1 (0 for a zero eigenvalue).
  [[nodiscard]] static double output_eigenvalue(double lambda, double /*trace*/) {
    return lambda > 0.0 ? 1.0 : 0.0;
  }
};

/**
 * @brief PCA whitening W = Λ^{-1/2} Uᵀ: the output is expressed in the eigenbasis of Σ.
 *
 * Eigenvalues are taken in descending order and each eigenvector's largest-magnitude entry is
 * positive, so the output is reproducible. Σ_Y = I; backward: `docs/math.md#backward-pca`.
 * @note The gradient is genuinely singular at repeated eigenvalues (the output itself jumps
 *       there); gaps below a relative 1e-6 (double) / 1e-3 (float) are clamped.
 */
struct pca_whitening {
  /// What backward needs: the eigenpairs of every Σ, in descending order.
  template <class T, class Backend>
  struct state {
    typename Backend::template buffer<T> eigenvalues;   ///< count × K, descending
    typename Backend::template buffer<T> eigenvectors;  ///< count × K × K, columns match
    index_t size = 0;                                   ///< K
    index_t count = 0;                                  ///< number of matrices (groups)
    /// The eigenvalues, a batch of K×1 columns.
    [[nodiscard]] batch<const T> values() const {
      return dense_batch(static_cast<const T*>(eigenvalues.data()), size, 1, count);
    }
    /// The eigenvectors, a batch of K×K matrices (one eigenvector per column).
    [[nodiscard]] batch<const T> vectors() const {
      return dense_batch(static_cast<const T*>(eigenvectors.data()), size, size, count);
    }
  };

  /// The method's name in messages and the registry.
  [[nodiscard]] static constexpr std::string_view name() noexcept { return "pca"; }
  /// The eigenvalue of Σ_Y that λ becomes: 1 (0 for a zero eigenvalue).
  [[nodiscard]] static double output_eigenvalue(double lambda, double /*trace*/) {
    return lambda > 0.0 ? 1.0 : 0.0;
  }

  /// Σ (consumed) → W = Λ^{-1/2} Uᵀ, eigenpairs descending; `st` may be nullptr (no backward).
  template <class Backend, class T>
  void compute(const primitives<Backend, T>& p,
               typename Backend::template buffer<T>&& sigma,
               index_t size,
               index_t count,
               batch<T> w,
               state<T, Backend>* st,
               status_word* status,
               index_t covariance_size) const;
  /// ∂L/∂Σ (`grad_sigma`) from ∂L/∂W (`grad_w`) through the saved eigenpairs.
  template <class Backend, class T>
  void gradient(const primitives<Backend, T>& p,
                const state<T, Backend>& st,
                batch<const T> w,
                batch<const T> grad_w,
                batch<T> grad_sigma) const;

  /// Reverses the order of the eigenpairs and writes W = Λ^{-1/2} Uᵀ (launched over K×K).
  template <class T>
  struct descending {
    batch<const T> values;   ///< ascending
    batch<const T> vectors;  ///< ascending
    batch<T> out_values;     ///< the eigenvalues, descending
    batch<T> out_vectors;    ///< the eigenvectors, descending
    batch<T> w;              ///< W = Λ^{-1/2} Uᵀ
    /// Writes entry (i, j) of the outputs of matrix b.
    SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
      const index_t last = values.rows - 1;
      out_vectors(b, i, j) = vectors(b, i, last - j);
      w(b, j, i) = vectors(b, i, last - j) / std::sqrt(values(b, last - j, 0));
      if (i == 0) {
        out_values(b, j, 0) = values(b, last - j, 0);
      }
    }
  };
  /// ∂L/∂U = G_Wᵀ Λ^{-1/2} (launched over K×K).
  template <class T>
  struct vectors_gradient {
    batch<const T> grad_w;  ///< G_W = ∂L/∂W
    batch<const T> values;  ///< Λ, descending
    batch<T> out;           ///< ∂L/∂U
    /// Writes entry (i, j) of ∂L/∂U for matrix b.
    SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
      out(b, i, j) = grad_w(b, j, i) / std::sqrt(values(b, j, 0));
    }
  };
  /// The eigenbasis form of ∂L/∂Σ: (Uᵀ ∂L/∂U)_ij / (λ_j − λ_i) off the diagonal, with the gap
  /// clamped to a relative `tie` (the gradient is genuinely singular at a tie), and ∂L/∂λ_i =
  /// −½ λ_i^{-3/2} (G_W U)_ii on it: only the diagonal of G_W U is needed, so each diagonal entry
  /// takes its own dot product (K² work, where the whole product would be K³).
  template <class T>
  struct eigenbasis_gradient {
    batch<T> inner;          ///< Uᵀ ∂L/∂U in, the eigenbasis gradient out
    batch<const T> grad_w;   ///< G_W
    batch<const T> vectors;  ///< U
    batch<const T> values;   ///< Λ, descending
    double tie;              ///< the relative gap below which eigenvalues count as tied
    /// Rewrites entry (i, j) of `inner` for matrix b.
    SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
      const double li = static_cast<double>(values(b, i, 0));
      if (i == j) {
        double diagonal = 0.0;  // (G_W U)_ii
        for (index_t k = 0; k < vectors.rows; ++k) {
          diagonal += static_cast<double>(grad_w(b, i, k)) * static_cast<double>(vectors(b, k, i));
        }
        inner(b, i, i) = static_cast<T>(-0.5 / (li * std::sqrt(li)) * diagonal);
        return;
      }
      const double lj = static_cast<double>(values(b, j, 0));
      const double gap = lj - li;
      const double scale = std::fmax(std::fabs(li), std::fabs(lj));
      const double clamped = std::copysign(std::fmax(std::fabs(gap), tie * scale), gap);
      inner(b, i, j) = static_cast<T>(static_cast<double>(inner(b, i, j)) / clamped);
    }
  };
};

/**
 * @brief Cholesky whitening W = L⁻¹ with Σ = L Lᵀ (the W-MSE instance; Ermolov et al., ICML
 *        2021). The cheapest whitening: lower-triangular W, Σ_Y = I; backward:
 *        `docs/math.md#backward-cholesky`.
 * @note Needs a positive-definite covariance (use eps when M ≤ K).
 */
struct cholesky_whitening {
  /// What backward needs: the Cholesky factor of every Σ.
  template <class T, class Backend>
  struct state {
    typename Backend::template buffer<T> factor;  ///< L per matrix, strict upper zero
    index_t size = 0;                             ///< K
    index_t count = 0;                            ///< number of matrices (groups)
    /// The factors L, a batch of K×K lower-triangular matrices.
    [[nodiscard]] batch<const T> lower() const {
      return dense_batch(static_cast<const T*>(factor.data()), size, size, count);
    }
  };

  /// The method's name in messages and the registry.
  [[nodiscard]] static constexpr std::string_view name() noexcept { return "cholesky"; }
  /// The eigenvalue of Σ_Y that λ becomes: 1 (0 for a zero eigenvalue).
  [[nodiscard]] static double output_eigenvalue(double lambda, double /*trace*/) {
    return lambda > 0.0 ? 1.0 : 0.0;
  }

  /// Σ (consumed: it becomes L) → W = L⁻¹; `st` may be nullptr (no backward).
  template <class Backend, class T>
  void compute(const primitives<Backend, T>& p,
               typename Backend::template buffer<T>&& sigma,
               index_t size,
               index_t count,
               batch<T> w,
               state<T, Backend>* st,
               status_word* status,
               index_t covariance_size) const;
  /// ∂L/∂Σ (`grad_sigma`) from ∂L/∂W (`grad_w`) through the saved factor and W = L⁻¹.
  template <class Backend, class T>
  void gradient(const primitives<Backend, T>& p,
                const state<T, Backend>& st,
                batch<const T> w,
                batch<const T> grad_w,
                batch<T> grad_sigma) const;

  /// out[b] = the largest diagonal entry of Σ_b (launched over one entry per matrix).
  template <class T>
  struct largest_diagonal {
    batch<const T> a;  ///< Σ
    T* out;            ///< one value per matrix
    /// Writes out[b].
    SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t /*i*/, index_t /*j*/) const {
      T largest = a(b, 0, 0);
      for (index_t i = 1; i < a.rows; ++i) {
        largest = a(b, i, i) > largest ? a(b, i, i) : largest;
      }
      out[b] = largest;
    }
  };
  /// Σ is numerically positive definite when its smallest pivot² exceeds K·ε times its largest
  /// diagonal entry (launched over one entry per matrix).
  template <class T>
  struct check_pivots {
    batch<const T> lower;  ///< L
    const T* largest;      ///< the largest diagonal entry of each Σ (largest_diagonal)
    status_word* status;   ///< receives status_not_positive_definite
    /// Checks matrix b.
    SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t /*i*/, index_t /*j*/) const {
      double smallest = static_cast<double>(lower(b, 0, 0)) * static_cast<double>(lower(b, 0, 0));
      for (index_t i = 1; i < lower.rows; ++i) {
        const double pivot = static_cast<double>(lower(b, i, i));
        smallest = std::fmin(smallest, pivot * pivot);
      }
      const double top = static_cast<double>(largest[b]);
      const double floor = static_cast<double>(lower.rows) *
                           static_cast<double>(std::numeric_limits<T>::epsilon()) * top;
      if (!(top > 0.0) || !(smallest > floor)) {
        detail::report(status, status_not_positive_definite, static_cast<int>(b), smallest, floor);
      }
    }
  };
  /// sym(Φ(t)) with Φ the lower triangle of t and its diagonal halved: ½ t(max(i,j), min(i,j)).
  template <class T>
  struct symmetric_phi {
    batch<const T> t;  ///< the matrix whose lower triangle is read
    batch<T> out;      ///< sym(Φ(t))
    /// Writes entry (i, j) of matrix b.
    SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
      out(b, i, j) = T(0.5) * (i >= j ? t(b, i, j) : t(b, j, i));
    }
  };
};

// --- implementation -----------------------------------------------------------------------------

template <class Backend, class T>
void pca_whitening::compute(const primitives<Backend, T>& p,
                            typename Backend::template buffer<T>&& sigma,
                            index_t size,
                            index_t count,
                            batch<T> w,
                            state<T, Backend>* st,
                            status_word* status,
                            index_t covariance_size) const {
  auto ascending = p.allocate(size * count);
  const batch<T> u = dense_batch(sigma.data(), size, size, count);
  const batch<T> lambda = dense_batch(ascending.data(), size, 1, count);
  p.eigh(u, lambda, status);
  p.for_each(extent{count, 1, 1}, detail::check_positive_definite<T>{
                                      lambda, static_cast<double>(covariance_size), status});
  auto values = p.allocate(size * count);
  auto vectors = p.allocate(size * size * count);
  p.for_each(extent::of(u), descending<T>{lambda, u, dense_batch(values.data(), size, 1, count),
                                          dense_batch(vectors.data(), size, size, count), w});
  if (st != nullptr) {
    st->eigenvalues = std::move(values);
    st->eigenvectors = std::move(vectors);
    st->size = size;
    st->count = count;
  }
}

template <class Backend, class T>
void pca_whitening::gradient(const primitives<Backend, T>& p,
                             const state<T, Backend>& st,
                             batch<const T> /*w*/,
                             batch<const T> grad_w,
                             batch<T> grad_sigma) const {
  // W = Λ^{-1/2} Uᵀ: ∂L/∂U = G_Wᵀ Λ^{-1/2}, ∂L/∂λ_i = −½ λ_i^{-3/2} (G_W U)_ii.
  const index_t k = st.size;
  const index_t count = st.count;
  auto first = p.allocate(k * k * count);
  auto second = p.allocate(k * k * count);
  const batch<T> grad_u = dense_batch(first.data(), k, k, count);
  const batch<T> inner = dense_batch(second.data(), k, k, count);
  const batch<const T> u = st.vectors();
  p.for_each(extent::of(grad_u), vectors_gradient<T>{grad_w, st.values(), grad_u});
  p.gemm(op::transpose, op::none, T(1), u, grad_u, T(0), inner);
  p.for_each(extent::of(inner), eigenbasis_gradient<T>{inner, grad_w, u, st.values(),
                                                       detail::loewner_tie_tolerance<T>()});
  p.gemm(op::none, op::none, T(1), u, inner, T(0), grad_u);
  p.gemm(op::none, op::transpose, T(1), grad_u, u, T(0), grad_sigma);
}

template <class Backend, class T>
void cholesky_whitening::compute(const primitives<Backend, T>& p,
                                 typename Backend::template buffer<T>&& sigma,
                                 index_t size,
                                 index_t count,
                                 batch<T> w,
                                 state<T, Backend>* st,
                                 status_word* status,
                                 index_t /*covariance_size*/) const {
  const batch<T> l = dense_batch(sigma.data(), size, size, count);
  auto largest = p.allocate(count);
  p.for_each(extent{count, 1, 1}, largest_diagonal<T>{l, largest.data()});
  p.potrf(l, status);
  p.for_each(extent{count, 1, 1}, check_pivots<T>{l, largest.data(), status});
  p.for_each(extent::of(w), detail::fill_identity<T>{w, T(1)});
  p.solve_lower(l, w);
  if (st != nullptr) {
    st->factor = std::move(sigma);
    st->size = size;
    st->count = count;
  }
}

template <class Backend, class T>
void cholesky_whitening::gradient(const primitives<Backend, T>& p,
                                  const state<T, Backend>& st,
                                  batch<const T> w,
                                  batch<const T> grad_w,
                                  batch<T> grad_sigma) const {
  // W = L⁻¹: ∂L/∂L = −Wᵀ G_W Wᵀ; then the Cholesky adjoint Φ(Lᵀ ∂L/∂L) mapped back by
  // L⁻ᵀ (·) L⁻¹. Since W L = I, Lᵀ ∂L/∂L = −(W L)ᵀ G_W Wᵀ = −G_W Wᵀ: three products, not five
  // (and no rounding from forming Lᵀ Wᵀ).
  const index_t k = st.size;
  const index_t count = st.count;
  auto first = p.allocate(k * k * count);
  auto second = p.allocate(k * k * count);
  const batch<T> a = dense_batch(first.data(), k, k, count);
  const batch<T> b = dense_batch(second.data(), k, k, count);
  p.gemm(op::none, op::transpose, T(-1), grad_w, w, T(0), a);  // Lᵀ ∂L/∂L = −G_W Wᵀ
  p.for_each(extent::of(b), symmetric_phi<T>{a, b});
  p.gemm(op::none, op::none, T(1), b, w, T(0), a);
  p.gemm(op::transpose, op::none, T(1), w, a, T(0), grad_sigma);
}

}  // namespace spectral
