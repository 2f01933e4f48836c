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
 * §4.5), in a symmetrised form (see gradient()) that needs 5 matrix products per iteration
 * where autograd needs 6; forward saves P, P² and P³ of iterations 2 … T for it.
 * @note No inverse is taken: a rank-deficient Σ is valid (null directions map to 0). Only a zero
 *       covariance (τ = 0) is rejected.
 */
struct iter_norm {
  int iterations = 4;
  /// W = P_T(Σ/tr Σ)/√tr Σ is a matrix function of Σ, and tr(XXᵀ) = tr(XᵀX): forward may solve
  /// on the smaller M×M Gram when there is no eps (see spectral_transform).
  static constexpr bool gram_side_without_eps = true;

  /// @throws invalid_input when iterations < 1.
  explicit iter_norm(int t = 4) : iterations(t) {
    SPECTRAL_EXPECTS(t >= 1, "iters: IterNorm needs at least 1 iteration, got ", t);
  }

  /// P_{k−1} and its powers, the inputs of iteration k (k ≥ 2; iteration 1 starts from I).
  template <class T>
  struct iterate {
    matrix<T> p;       ///< P_{k−1}
    matrix<T> square;  ///< P_{k−1}²
    matrix<T> cube;    ///< P_{k−1}³
  };

  template <class T>
  struct state {
    matrix<T> normalized;              ///< S = Σ / τ
    T trace{};                         ///< τ
    std::vector<iterate<T>> iterates;  ///< inputs of iterations 2 … T
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
  /// The K×K W from a solve on the Gram G = XᵀX/d (`st`, X the K×M centred block, d = M − 1),
  /// without K×K iterations: see the implementation.
  template <class T>
  [[nodiscard]] matrix<T> transform_from_gram(const state<T>& st, const matrix<T>& x,
                                              double divisor) const;
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
  st.iterates.assign(static_cast<std::size_t>(iterations - 1), iterate<T>{});
  // P_1 = 1.5 I − 0.5 S needs no product.
  matrix<T> p = T(-0.5) * s;
  p.diagonal().array() += T(1.5);
  matrix<T> cube_s;
  for (auto& it : st.iterates) {
    // Every iterate is a polynomial in S, so all products below are symmetric (see
    // backend::symmetric_product for how that is exploited).
    Backend::template symmetric_product<T>(p, p, it.square);
    Backend::template symmetric_product<T>(it.square, p, it.cube);
    Backend::template symmetric_product<T>(it.cube, s, cube_s);
    it.p = std::move(p);
    p = T(1.5) * it.p - T(0.5) * cube_s;
  }
  w = p / std::sqrt(st.trace);
}

template <class Backend, class T>
matrix<T> iter_norm::gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                              const matrix<T>& grad_w) const {
  // Unrolled reverse pass of P_k = 1.5 P − 0.5 P³ S (spec §4.5). Each P_k is a polynomial in S,
  // so the part of ∂L/∂S reached from B_k = ∂L/∂P_k depends only on sym(B_k) (the derivative of
  // a matrix function in a symmetric direction is symmetric). Keeping B symmetric therefore
  // changes no result, and in the eigenbasis of S the step becomes
  //   B_ij ← B_ij (3/2 − ¼ (s_i + s_j)(p_i² + p_i p_j + p_j²)),   ∂L/∂S += −½ sym(P³ B),
  // i.e. B ← 1.5 B − ¼ (P² N + N P² + P N P) with N = S B + B S.
  const matrix<T>& s = st.normalized;
  const T tau = st.trace;
  const index_t k = s.rows();
  matrix<T> b = (grad_w + grad_w.transpose()) / (T(2) * std::sqrt(tau));  // sym ∂L/∂P_T
  matrix<T> grad_s = matrix<T>::Zero(k, k);
  matrix<T> anticommutator(k, k);
  matrix<T> product(k, k);
  matrix<T> sandwich(k, k);
  for (auto it = st.iterates.rbegin(); it != st.iterates.rend(); ++it) {
    grad_s.noalias() -= T(0.5) * it->cube * b;
    product.noalias() = s * b;
    anticommutator = product + product.transpose();  // N = S B + B S
    product.noalias() = anticommutator * it->p;
    Backend::template symmetric_product<T>(it->p, product, sandwich);  // P N P
    product.noalias() = it->square * anticommutator;                  // P² N
    b = T(1.5) * b - T(0.25) * (product + product.transpose() + sandwich);
  }
  grad_s -= T(0.5) * b;  // iteration 1: P_0 = I, so P_0³ = I
  grad_s = (T(0.5) * (grad_s + grad_s.transpose())).eval();  // eval: transpose aliases
  const T grad_tau = -(grad_s.cwiseProduct(s).sum()) / tau -
                     grad_w.cwiseProduct(w).sum() / (T(2) * tau);
  matrix<T> grad_sigma = grad_s / tau;
  grad_sigma.diagonal().array() += grad_tau;
  return grad_sigma;
}

/// S = XXᵀ/(dτ) = B Bᵀ with B = X/√(dτ), and the Gram side iterated on BᵀB = G/τ, giving
/// P̃_k = p_k(BᵀB). Since P_k(S) B = B P̃_k, every iterate is P_k(S) = 1.5ᵏ I + B R_k Bᵀ with
/// R_0 = 0 and R_{k+1} = 1.5 R_k − 0.5 P̃_k³ (P_k³ S = B P̃_k³ Bᵀ); W = P_T(S)/√τ.
template <class T>
matrix<T> iter_norm::transform_from_gram(const state<T>& st, const matrix<T>& x,
                                         double divisor) const {
  const index_t m = st.normalized.rows();
  matrix<T> r = matrix<T>::Identity(m, m) * T(-0.5);  // R_1: P̃_0³ = I
  for (const auto& it : st.iterates) {                // P̃_1³ … P̃_{T−1}³
    r = T(1.5) * r - T(0.5) * it.cube;
  }
  const double tau = static_cast<double>(st.trace);
  const matrix<T> xr = x * r;
  matrix<T> w = (xr * x.transpose()) * static_cast<T>(1.0 / (divisor * tau));
  w.diagonal().array() += static_cast<T>(std::pow(1.5, iterations));
  w *= static_cast<T>(1.0 / std::sqrt(tau));
  detail::mirror_lower(w);
  return w;
}

}  // namespace spectral
