// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/batch_ops.hpp>

#include <cmath>
#include <limits>
#include <type_traits>

/// @file
/// The forward and backward of every spectral-function method W = U g(Λ) Uᵀ (ZCA, power
/// functions, your own), written once against the backend primitives.

namespace spectral::detail {

/// What the backward of W = U g(Λ) Uᵀ needs, per matrix of the batch.
template <class T, class Backend>
struct spectral_function_state {
  typename Backend::template buffer<T> eigenvalues;   ///< count × size, ascending
  typename Backend::template buffer<T> eigenvectors;  ///< count × size × size, columns match
  index_t size = 0;
  index_t count = 0;

  [[nodiscard]] batch<const T> values() const {
    return dense_batch(static_cast<const T*>(eigenvalues.data()), size, 1, count);
  }
  [[nodiscard]] batch<const T> vectors() const {
    return dense_batch(static_cast<const T*>(eigenvectors.data()), size, size, count);
  }
};

/// Relative gap below which a divided difference is replaced by the derivative at the midpoint:
/// rounding error of the difference quotient grows like ε/δ, truncation error like δ².
template <class T>
constexpr double loewner_tie_tolerance() {
  return std::is_same_v<T, float> ? 1e-3 : 1e-6;
}

/// (g(a) − g(b))/(a − b) given g(a) and g(b), or g'((a + b)/2) when a and b tie within `tie`
/// (relative).
template <class Method>
[[nodiscard]] SPECTRAL_HOST_DEVICE double divided_difference(
    const Method& method, double a, double b, double g_a, double g_b, double tie) {
  const double gap = a - b;
  const double scale = std::fmax(std::fabs(a), std::fabs(b));
  return std::fabs(gap) > tie * scale ? (g_a - g_b) / gap : method.derivative(0.5 * (a + b));
}

/// mapped = g(λ) (or √g(λ) with `root`), one value per eigenvalue (launched over
/// count × size × 1).
template <class T, class Method>
struct map_values {
  batch<const T> values;
  batch<T> mapped;
  Method method;
  bool root = false;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t /*j*/) const {
    const double g = method.value(static_cast<double>(values(b, i, 0)));
    mapped(b, i, 0) = static_cast<T>(root ? std::sqrt(g) : g);
  }
};

/// out = in·diag(d): column j scaled by d_j.
template <class T>
struct scale_columns {
  batch<const T> in;
  batch<const T> d;
  batch<T> out;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = in(b, i, j) * d(b, j, 0);
  }
};

/// Σ must be numerically positive definite: its smallest eigenvalue above K·ε times its largest.
/// `covariance_size` is K also when the matrix solved is the M×M Gram, so that the Gram accepts
/// exactly what the K×K Σ would. Launched over one entry per matrix.
template <class T>
struct check_positive_definite {
  batch<const T> ascending;
  double covariance_size;
  status_word* status;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t /*i*/, index_t /*j*/) const {
    const double smallest = static_cast<double>(ascending(b, 0, 0));
    const double largest = static_cast<double>(ascending(b, ascending.rows - 1, 0));
    const double floor = covariance_size * static_cast<double>(std::numeric_limits<T>::epsilon()) *
                         std::fmax(largest, 0.0);
    if (!(largest > 0.0) || !(smallest > floor)) {
      report(status, status_not_positive_definite, static_cast<int>(b), smallest, floor);
    }
  }
};

/// R ∘= Γ with Γ_ij = g[λ_i, λ_j], the Loewner matrix of g (Daleckii–Krein).
template <class T, class Method>
struct loewner_product {
  batch<T> r;
  batch<const T> values;
  batch<const T> mapped;  ///< g(λ)
  Method method;
  double tie;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    const double gamma = divided_difference(
        method, static_cast<double>(values(b, i, 0)), static_cast<double>(values(b, j, 0)),
        static_cast<double>(mapped(b, i, 0)), static_cast<double>(mapped(b, j, 0)), tie);
    r(b, i, j) = static_cast<T>(static_cast<double>(r(b, i, j)) * gamma);
  }
};

/// out = U·diag(d)·Uᵀ (exactly symmetric) from U scaled by d or √d: a rank-k update (half the
/// work of a general product) when every d is positive, which `positive` promises.
template <class Backend, class T>
void rebuild(const primitives<Backend, T>& p,
             batch<const T> scaled,
             batch<const T> vectors,
             bool positive,
             batch<T> out) {
  if (positive) {
    p.syrk(op::none, T(1), scaled, T(0), out);
    return;
  }
  p.gemm(op::none, op::transpose, T(1), scaled, vectors, T(0), out);
  p.for_each(extent::of(out), mirror_lower_entries<T>{out});
}

/**
 * @brief W = U g(Λ) Uᵀ for every matrix of `sigma` (consumed: it becomes the eigenvectors).
 * @param st where the eigenpairs are kept for backward, or nullptr for a forward-only call
 * @param covariance_size K (differs from sigma's size on the Gram side)
 * A Σ that is not positive definite where g needs it is recorded in `status`.
 */
template <class Backend, class T, class Method>
void spectral_function_compute(const primitives<Backend, T>& p,
                               const Method& method,
                               typename Backend::template buffer<T>&& sigma,
                               index_t size,
                               index_t count,
                               batch<T> w,
                               spectral_function_state<T, Backend>* st,
                               status_word* status,
                               index_t covariance_size) {
  auto values = p.allocate(size * count);
  const batch<T> u = dense_batch(sigma.data(), size, size, count);
  const batch<T> lambda = dense_batch(values.data(), size, 1, count);
  p.eigh(u, lambda, status);
  const bool positive = method.requires_positive_definite();
  if (positive) {
    p.for_each(extent{count, 1, 1},
               check_positive_definite<T>{lambda, static_cast<double>(covariance_size), status});
  }
  auto mapped = p.allocate(size * count);
  const batch<T> g = dense_batch(mapped.data(), size, 1, count);
  p.for_each(extent::of(g), map_values<T, Method>{lambda, g, method, positive});
  auto scaled = p.allocate(size * size * count);
  const batch<T> scaled_u = dense_batch(scaled.data(), size, size, count);
  p.for_each(extent::of(u), scale_columns<T>{u, g, scaled_u});
  rebuild<Backend, T>(p, scaled_u, u, positive, w);
  if (st != nullptr) {
    st->eigenvalues = std::move(values);
    st->eigenvectors = std::move(sigma);
    st->size = size;
    st->count = count;
  }
}

/// Daleckii–Krein: ∂L/∂Σ = U (Γ ∘ Uᵀ sym(∂L/∂W) U) Uᵀ with Γ the Loewner matrix of g; never
/// divides by a small eigen-gap, so repeated eigenvalues keep the gradient finite.
template <class Backend, class T, class Method>
void spectral_function_gradient(const primitives<Backend, T>& p,
                                const Method& method,
                                const spectral_function_state<T, Backend>& st,
                                batch<const T> grad_w,
                                batch<T> grad_sigma) {
  const index_t k = st.size;
  const index_t count = st.count;
  auto first = p.allocate(k * k * count);
  auto second = p.allocate(k * k * count);
  const batch<T> a = dense_batch(first.data(), k, k, count);
  const batch<T> b = dense_batch(second.data(), k, k, count);
  const batch<const T> u = st.vectors();
  auto mapped = p.allocate(k * count);
  const batch<T> g = dense_batch(mapped.data(), k, 1, count);
  p.for_each(extent::of(g), map_values<T, Method>{st.values(), g, method});
  p.for_each(extent::of(a), combine_transpose<T>{grad_w, a, T(0.5), T(0.5)});
  p.gemm(op::transpose, op::none, T(1), u, a, T(0), b);  // Uᵀ sym(G)
  p.gemm(op::none, op::none, T(1), b, u, T(0), a);       // Uᵀ sym(G) U
  p.for_each(extent::of(a),
             loewner_product<T, Method>{a, st.values(), g, method, loewner_tie_tolerance<T>()});
  p.gemm(op::none, op::none, T(1), u, a, T(0), b);
  p.gemm(op::none, op::transpose, T(1), b, u, T(0), grad_sigma);
}

/// δ_i = (g(λ_i) − g(ε))/(λ_i − ε) (a divided difference, the derivative at a tie), then
/// out = C diag(δ): column j of C scaled by δ_j.
template <class T, class Method>
struct scale_by_divided_difference {
  batch<const T> c;
  batch<const T> values;
  batch<T> out;
  Method method;
  double eps;
  double g_eps;
  double tie;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    const double lambda = static_cast<double>(values(b, j, 0));
    const double delta = divided_difference(method, lambda, eps, method.value(lambda), g_eps, tie);
    out(b, i, j) = static_cast<T>(static_cast<double>(c(b, i, j)) * delta);
  }
};

/**
 * @brief W = g(Σ) (K×K) from a Gram-side solve, without a K×K eigendecomposition.
 *
 * With G = XᵀX/d + εI = V Λ Vᵀ and Σ = XXᵀ/d + εI (X is K×M, d = M − 1), Σ has the eigenvalues
 * Λ on the columns of X V and ε on their complement, so
 *   g(Σ) = g(ε) I + C diag(δ) Cᵀ,  C = X V/√d,  δ_i = (g(λ_i) − g(ε))/(λ_i − ε),
 * a divided difference (the derivative at the midpoint for a tie; the column of C is then ~0
 * anyway). Costs K·M² + K²·M instead of K²·M + eigh(K).
 * @param x      the K×M centred blocks (op::transpose when the batch holds Xᵀ)
 */
template <class Backend, class T, class Method>
void spectral_function_from_gram(const primitives<Backend, T>& p,
                                 const Method& method,
                                 const spectral_function_state<T, Backend>& st,
                                 batch<const T> x,
                                 op x_op,
                                 double divisor,
                                 double eps,
                                 batch<T> w) {
  const index_t k = read_rows(x, x_op);
  const index_t m = st.size;
  const index_t count = st.count;
  auto c_storage = p.allocate(k * m * count);
  auto scaled_storage = p.allocate(k * m * count);
  const batch<T> c = dense_batch(c_storage.data(), k, m, count);
  const batch<T> scaled = dense_batch(scaled_storage.data(), k, m, count);
  p.gemm(x_op, op::none, static_cast<T>(1.0 / std::sqrt(divisor)), x, st.vectors(), T(0), c);
  p.for_each(extent::of(c),
             scale_by_divided_difference<T, Method>{c, st.values(), scaled, method, eps,
                                                    method.value(eps), loewner_tie_tolerance<T>()});
  p.gemm(op::none, op::transpose, T(1), scaled, c, T(0), w);
  p.for_each(extent{count, k, 1}, add_identity<T>{w, static_cast<T>(method.value(eps))});
  p.for_each(extent::of(w), mirror_lower_entries<T>{w});
}

}  // namespace spectral::detail
