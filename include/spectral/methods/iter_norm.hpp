// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <cmath>
#include <string_view>
#include <vector>

namespace spectral {

/**
 * @brief IterNorm: T Newton–Schulz iterations towards Σ^{-1/2} on the trace-normalised
 *        covariance (Huang et al., "Iterative Normalization", CVPR 2019; the ST of INTL in Weng
 *        et al., ICLR 2024, §4).
 *
 * S = Σ/τ with τ = tr Σ, P_0 = I, P_k = (3/2) P_{k−1} − (1/2) P_{k−1}³ S, W = P_T / √τ.
 * W = U diag(p_T(λ/τ)/√τ) Uᵀ, so IterNorm is a spectral transformation whose output eigenvalues
 * are f_T(λ/τ) (spec §3.3). The backward is unrolled by hand through the T iterations (spec
 * §4.5); only the iterates P_1 … P_{T−1} are stored.
 * @note No inverse is taken: a rank-deficient Σ is valid (null directions map to 0). Only a zero
 *       covariance (τ = 0) is rejected.
 */
struct iter_norm {
  int iterations = 4;

  /// @throws invalid_input when iterations < 1.
  explicit iter_norm(int t = 4) : iterations(t) {
    SPECTRAL_EXPECTS(t >= 1, "iters: IterNorm needs at least 1 iteration, got ", t);
  }

  template <class T>
  struct state {
    matrix<T> normalized;         ///< S = Σ / τ
    T trace{};                    ///< τ
    std::vector<matrix<T>> iterates;  ///< P_1 … P_{T−1} (P_0 = I and P_T = √τ·W are implicit)
  };

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "iternorm"; }

  /// p_T(x): the eigenvalue of P_T for an eigenvalue x of S.
  [[nodiscard]] SPECTRAL_HOST_DEVICE double polynomial(double x) const {
    double p = 1.0;
    for (int k = 0; k < iterations; ++k) {
      p = 0.5 * p * (3.0 - x * p * p);
    }
    return p;
  }
  /// ψ(λ) = f_T(λ/τ) = (λ/τ) p_T(λ/τ)²: the eigenvalue of Σ_Y that λ becomes.
  [[nodiscard]] double output_eigenvalue(double lambda, double trace) const {
    const double x = lambda / trace;
    const double p = polynomial(x);
    return x * p * p;
  }

  template <class Backend, class T>
  void compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w, state<T>& st) const;
  template <class Backend, class T>
  [[nodiscard]] matrix<T> gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                                   const matrix<T>& grad_w) const;
};

// --- implementation -----------------------------------------------------------------------------

template <class Backend, class T>
void iter_norm::compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w,
                        state<T>& st) const {
  st.trace = sigma.trace();
  if (!(st.trace > T(0)) || !std::isfinite(static_cast<double>(st.trace))) {
    SPECTRAL_FAIL("iternorm: the covariance has trace ", st.trace,
                  "; every observation is identical after centring");
  }
  st.normalized = sigma / st.trace;
  const matrix<T>& s = st.normalized;
  const index_t k = sigma.rows();
  st.iterates.clear();
  st.iterates.reserve(static_cast<std::size_t>(iterations - 1));
  // P_1 = 1.5 I − 0.5 S needs no product.
  matrix<T> p = T(-0.5) * s;
  p.diagonal().array() += T(1.5);
  matrix<T> square(k, k);
  matrix<T> cube(k, k);
  matrix<T> cube_s(k, k);
  for (int step = 2; step <= iterations; ++step) {
    st.iterates.push_back(p);
    // Every iterate is a polynomial in S, so all products below are symmetric: half the flops.
    Backend::template symmetric_product<T>(p, p, square);
    Backend::template symmetric_product<T>(square, p, cube);
    Backend::template symmetric_product<T>(cube, s, cube_s);
    p = T(1.5) * p - T(0.5) * cube_s;
  }
  w = p / std::sqrt(st.trace);
}

template <class Backend, class T>
matrix<T> iter_norm::gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                              const matrix<T>& grad_w) const {
  const matrix<T>& s = st.normalized;
  const T tau = st.trace;
  const index_t k = s.rows();
  matrix<T> b = grad_w / std::sqrt(tau);  // ∂L/∂P_T
  matrix<T> grad_s = matrix<T>::Zero(k, k);
  matrix<T> square(k, k);
  matrix<T> cube(k, k);
  matrix<T> bs(k, k);
  matrix<T> pbs(k, k);
  matrix<T> next(k, k);
  for (int step = iterations; step >= 2; --step) {
    const matrix<T>& p = st.iterates[static_cast<std::size_t>(step - 2)];  // P_{step−1}
    Backend::template symmetric_product<T>(p, p, square);
    Backend::template symmetric_product<T>(square, p, cube);
    grad_s.noalias() -= T(0.5) * cube * b;
    // P_k = 1.5 P − 0.5 P³ S with P, P², S symmetric and commuting:
    // ∂L/∂P = 1.5 B − 0.5 (B S P² + P B S P + P² B S).
    bs.noalias() = b * s;
    pbs.noalias() = p * bs;
    next.noalias() = bs * square;
    next.noalias() += pbs * p;
    next.noalias() += p * pbs;
    b = T(1.5) * b - T(0.5) * next;
  }
  grad_s -= T(0.5) * b;  // step 1: P_0 = I, so P_0³ = I
  const T grad_tau = -(grad_s.cwiseProduct(s).sum()) / tau -
                     grad_w.cwiseProduct(w).sum() / (T(2) * tau);
  matrix<T> grad_sigma = grad_s / tau;
  grad_sigma.diagonal().array() += grad_tau;
  return grad_sigma;
}

}  // namespace spectral
