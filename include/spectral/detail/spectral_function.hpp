// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/concepts.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace spectral::detail {

/// What the backward of W = U g(Λ) Uᵀ needs.
template <class T>
struct spectral_function_state {
  vector<T> eigenvalues;   ///< ascending
  matrix<T> eigenvectors;  ///< columns match eigenvalues
};

/// Relative gap below which a divided difference is replaced by the derivative at the midpoint:
/// rounding error of the difference quotient grows like ε/δ, truncation error like δ².
template <class T>
constexpr double loewner_tie_tolerance() {
  return std::is_same_v<T, float> ? 1e-3 : 1e-6;
}

/// (g(a) − g(b))/(a − b), or g'((a + b)/2) when a and b tie within `tie` (relative).
template <class Method>
[[nodiscard]] double divided_difference(const Method& method, double a, double b, double g_b,
                                        double tie) {
  const double gap = a - b;
  return std::abs(gap) > tie * std::max(std::abs(a), std::abs(b))
             ? (method.value(a) - g_b) / gap
             : method.derivative(0.5 * (a + b));
}

/// Throws numerical_error unless the smallest eigenvalue is clearly positive relative to the
/// largest (K·ε relative), i.e. Σ is numerically positive definite. `covariance_size` is K
/// (default: the number of eigenvalues); the M×M Gram passes K so that it accepts exactly what
/// the K×K Σ would.
template <class T>
void expect_positive_definite(const vector<T>& ascending, std::string_view method,
                              index_t covariance_size = 0) {
  const double smallest = static_cast<double>(ascending(0));
  const double largest = static_cast<double>(ascending(ascending.size() - 1));
  const index_t k = covariance_size > 0 ? covariance_size : ascending.size();
  const double floor = static_cast<double>(k) *
                       std::numeric_limits<T>::epsilon() * std::max(largest, 0.0);
  if (!(largest > 0.0) || !(smallest > floor)) {
    SPECTRAL_FAIL(method, ": the covariance is singular or not positive definite (eigenvalues in [",
                  smallest, ", ", largest, "], need the smallest > ", floor,
                  "); add eps > 0 or use more observations than the covariance size");
  }
}

template <class Backend, class T, class Method>
void spectral_function_compute(const Method& method, const matrix<T>& sigma, matrix<T>& w,
                               spectral_function_state<T>& st, index_t covariance_size = 0) {
  auto eig = Backend::template eigh<T>(sigma);
  if (method.requires_positive_definite()) {
    expect_positive_definite<T>(eig.values, Method::name(), covariance_size);
  }
  vector<T> mapped(eig.values.size());
  for (index_t i = 0; i < mapped.size(); ++i) {
    mapped(i) = static_cast<T>(method.value(static_cast<double>(eig.values(i))));
  }
  w = Backend::template rebuild<T>(eig.vectors, mapped);
  st.eigenvalues = std::move(eig.values);
  st.eigenvectors = std::move(eig.vectors);
}

/// W = shift·I + C diag(δ) Cᵀ with C = X V/√divisor (K×K, exactly symmetric): the K×K matrix
/// function of Σ = XXᵀ/divisor that a Gram-side solve with eigenvectors V describes (see below
/// and iter_norm::transform_from_gram).
template <class T>
[[nodiscard]] matrix<T> gram_side_transform(const matrix<T>& x, const matrix<T>& eigenvectors,
                                            const vector<T>& delta, double shift,
                                            double divisor) {
  const matrix<T> c = (x * eigenvectors) * static_cast<T>(1.0 / std::sqrt(divisor));
  matrix<T> w = (c * delta.asDiagonal()) * c.transpose();
  w.diagonal().array() += static_cast<T>(shift);
  mirror_lower(w);
  return w;
}

/// W = g(Σ) (K×K) from a Gram-side solve, without a K×K eigendecomposition. With
/// G = XᵀX/d + εI = V Λ Vᵀ and Σ = XXᵀ/d + εI (X is K×M, d = M − 1), Σ has the eigenvalues Λ
/// on the columns of X V and ε on their complement, so
///   g(Σ) = g(ε) I + C diag(δ) Cᵀ,  C = X V/√d,  δ_i = (g(λ_i) − g(ε))/(λ_i − ε),
/// a divided difference (the derivative at the midpoint for a tie, as in the backward; the
/// column of C is then ~0 anyway). Costs K·M² + K²·M instead of K²·M + eigh(K).
template <class T, class Method>
[[nodiscard]] matrix<T> spectral_function_from_gram(const Method& method,
                                                    const spectral_function_state<T>& st,
                                                    const matrix<T>& x, double divisor,
                                                    double eps) {
  const double g_eps = method.value(eps);
  const double tie = loewner_tie_tolerance<T>();
  vector<T> delta(st.eigenvalues.size());
  for (index_t i = 0; i < delta.size(); ++i) {
    delta(i) = static_cast<T>(
        divided_difference(method, static_cast<double>(st.eigenvalues(i)), eps, g_eps, tie));
  }
  return gram_side_transform<T>(x, st.eigenvectors, delta, g_eps, divisor);
}

/// Daleckii–Krein: ∂L/∂Σ = U (Γ ∘ Uᵀ sym(∂L/∂W) U) Uᵀ with Γ the Loewner matrix of g; never divides
/// by a small eigen-gap (spec §4.2), so repeated eigenvalues keep the gradient finite.
template <class Backend, class T, class Method>
[[nodiscard]] matrix<T> spectral_function_gradient(const Method& method,
                                                   const spectral_function_state<T>& st,
                                                   const matrix<T>& grad_w) {
  const auto& lambda = st.eigenvalues;
  const index_t k = lambda.size();
  const double tie = loewner_tie_tolerance<T>();
  matrix<T> gamma(k, k);
  for (index_t j = 0; j < k; ++j) {
    const double lj = static_cast<double>(lambda(j));
    const double gj = method.value(lj);
    for (index_t i = j; i < k; ++i) {
      const double entry = divided_difference(method, static_cast<double>(lambda(i)), lj, gj, tie);
      gamma(i, j) = gamma(j, i) = static_cast<T>(entry);
    }
  }
  const matrix<T> sym_grad = T(0.5) * (grad_w + grad_w.transpose());
  return Backend::template loewner_sandwich<T>(st.eigenvectors, gamma, sym_grad);
}

}  // namespace spectral::detail
