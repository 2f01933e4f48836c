// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/spectral_function.hpp>

#include <cmath>
#include <limits>
#include <string_view>

namespace spectral {

/**
 * @brief ZCA whitening W = Σ^{-1/2} = U Λ^{-1/2} Uᵀ: the whitening instance of the spectral
 *        transformation (Weng et al., ICLR 2024, §3; Huang et al., "Decorrelated Batch
 *        Normalization", CVPR 2018). Σ_Y = I; backward by Daleckii–Krein (spec §4.2).
 * @note Needs a positive-definite covariance (use eps when M ≤ K).
 */
struct zca_whitening {
  [[nodiscard]] static constexpr std::string_view name() noexcept { return "zca"; }
  [[nodiscard]] SPECTRAL_HOST_DEVICE double value(double lambda) const {
    return 1.0 / std::sqrt(lambda);
  }
  [[nodiscard]] SPECTRAL_HOST_DEVICE double derivative(double lambda) const {
    return -0.5 / (lambda * std::sqrt(lambda));
  }
  [[nodiscard]] static constexpr bool requires_positive_definite() noexcept { return true; }
  [[nodiscard]] static double output_eigenvalue(double lambda, double /*trace*/) {
    return lambda > 0.0 ? 1.0 : 0.0;
  }
};

/**
 * @brief PCA whitening W = Λ^{-1/2} Uᵀ: the output is expressed in the eigenbasis of Σ.
 *
 * Eigenvalues are taken in descending order and each eigenvector's largest-magnitude entry is
 * positive, so the output is reproducible. Σ_Y = I; backward: spec §4.3.
 * @note The gradient is genuinely singular at repeated eigenvalues (the output itself jumps
 *       there); gaps below a relative 1e-6 (double) / 1e-3 (float) are clamped.
 */
struct pca_whitening {
  template <class T>
  struct state {
    vector<T> eigenvalues;   ///< descending
    matrix<T> eigenvectors;  ///< columns match eigenvalues
  };

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "pca"; }
  [[nodiscard]] static double output_eigenvalue(double lambda, double /*trace*/) {
    return lambda > 0.0 ? 1.0 : 0.0;
  }

  template <class Backend, class T>
  void compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w, state<T>& st) const;
  template <class Backend, class T>
  [[nodiscard]] matrix<T> gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                                   const matrix<T>& grad_w) const;
};

/**
 * @brief Cholesky whitening W = L⁻¹ with Σ = L Lᵀ (the W-MSE instance; Ermolov et al., ICML
 *        2021). The cheapest whitening: lower-triangular W, Σ_Y = I; backward: spec §4.4.
 * @note Needs a positive-definite covariance (use eps when M ≤ K).
 */
struct cholesky_whitening {
  template <class T>
  struct state {
    matrix<T> lower;  ///< L
  };

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "cholesky"; }
  [[nodiscard]] static double output_eigenvalue(double lambda, double /*trace*/) {
    return lambda > 0.0 ? 1.0 : 0.0;
  }

  template <class Backend, class T>
  void compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w, state<T>& st) const;
  template <class Backend, class T>
  [[nodiscard]] matrix<T> gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                                   const matrix<T>& grad_w) const;
};

// --- implementation -----------------------------------------------------------------------------

template <class Backend, class T>
void pca_whitening::compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w,
                            state<T>& st) const {
  auto eig = Backend::template eigh<T>(sigma);
  detail::expect_positive_definite<T>(eig.values, name());
  st.eigenvalues = eig.values.reverse();
  st.eigenvectors = eig.vectors.rowwise().reverse();
  w = st.eigenvalues.cwiseSqrt().cwiseInverse().asDiagonal() * st.eigenvectors.transpose();
}

template <class Backend, class T>
matrix<T> pca_whitening::gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& /*w*/,
                                  const matrix<T>& grad_w) const {
  const auto& lambda = st.eigenvalues;
  const auto& u = st.eigenvectors;
  const index_t k = lambda.size();
  const vector<T> inv_sqrt = lambda.cwiseSqrt().cwiseInverse();
  // W = Λ^{-1/2} Uᵀ: ∂L/∂U = G_Wᵀ Λ^{-1/2}, ∂L/∂λ_i = −½ λ_i^{-3/2} (G_W U)_ii.
  const matrix<T> grad_u = grad_w.transpose() * inv_sqrt.asDiagonal();
  const vector<T> grad_lambda =
      (T(-0.5) * inv_sqrt.array().cube() * (grad_w * u).diagonal().array()).matrix();
  const double tie = detail::loewner_tie_tolerance<T>();
  matrix<T> inner = u.transpose() * grad_u;
  for (index_t j = 0; j < k; ++j) {
    for (index_t i = 0; i < k; ++i) {
      if (i == j) {
        inner(i, j) = grad_lambda(i);
        continue;
      }
      const double gap = static_cast<double>(lambda(j) - lambda(i));
      const double scale = std::max(std::abs(static_cast<double>(lambda(i))),
                                    std::abs(static_cast<double>(lambda(j))));
      const double clamped = std::copysign(std::max(std::abs(gap), tie * scale), gap);
      inner(i, j) = static_cast<T>(static_cast<double>(inner(i, j)) / clamped);
    }
  }
  return u * inner * u.transpose();
}

template <class Backend, class T>
void cholesky_whitening::compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w,
                                 state<T>& st) const {
  const double largest = static_cast<double>(sigma.diagonal().maxCoeff());
  const bool factored = Backend::template cholesky<T>(sigma, st.lower);
  const double floor =
      static_cast<double>(sigma.rows()) * std::numeric_limits<T>::epsilon() * largest;
  const double smallest_pivot =
      factored ? static_cast<double>(st.lower.diagonal().cwiseAbs2().minCoeff()) : 0.0;
  if (!factored || !(largest > 0.0) || !(smallest_pivot > floor)) {
    SPECTRAL_FAIL("cholesky: the covariance is singular or not positive definite (smallest ",
                  "pivot² ", smallest_pivot, ", need > ", floor,
                  "); add eps > 0 or use more observations than the covariance size");
  }
  w = matrix<T>::Identity(sigma.rows(), sigma.cols());
  st.lower.template triangularView<Eigen::Lower>().solveInPlace(w);
}

template <class Backend, class T>
matrix<T> cholesky_whitening::gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                                       const matrix<T>& grad_w) const {
  // W = L⁻¹: ∂L/∂L = −Wᵀ G_W Wᵀ; then the Cholesky adjoint Φ(Lᵀ Ḡ_L) mapped back by L⁻ᵀ (·) L⁻¹.
  const auto lower_w = w.template triangularView<Eigen::Lower>();
  const auto lower_l = st.lower.template triangularView<Eigen::Lower>();
  const matrix<T> grad_l = -(lower_w.transpose() * (grad_w * lower_w.transpose()));
  matrix<T> phi = matrix<T>(lower_l.transpose() * grad_l).template triangularView<Eigen::Lower>();
  phi.diagonal() *= T(0.5);
  const matrix<T> sym_phi = T(0.5) * (phi + phi.transpose());
  return lower_w.transpose() * (sym_phi * lower_w);
}

}  // namespace spectral
