// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/spectral_function.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace spectral {

/**
 * @brief How IterNorm computes W = p_T(S)/√τ and its gradient. Every Newton iterate is a
 *        polynomial in S, so both routes compute the same function and its exact gradient;
 *        they differ in cost (and in rounding).
 */
enum class iter_norm_solver : std::uint8_t {
  /// `eigen` where it is the cheaper route on the CPU (see iter_norm::uses_eigen_route),
  /// `newton` elsewhere and on every GPU backend.
  automatic,
  /// T Newton–Schulz iterations, 3 products each; backward unrolled through them (spec §4.5).
  newton,
  /// One symmetric eigendecomposition S = U diag(x) Uᵀ; W = U diag(p_T(x)) Uᵀ/√τ, backward by
  /// Daleckii–Krein with the divided differences p_T[x_i, x_j] unrolled through the same
  /// T-step recurrence on scalars (exact at ties, no gap threshold). CPU only.
  eigen,
};

[[nodiscard]] constexpr std::string_view to_string(iter_norm_solver s) noexcept {
  switch (s) {
    case iter_norm_solver::newton:
      return "newton";
    case iter_norm_solver::eigen:
      return "eigen";
    case iter_norm_solver::automatic:
      break;
  }
  return "automatic";
}

/**
 * @brief IterNorm: T Newton–Schulz iterations towards Σ^{-1/2} on the trace-normalised
 *        covariance (Huang et al., "Iterative Normalization", CVPR 2019; the ST of INTL in Weng
 *        et al., ICLR 2024, §4).
 *
 * S = Σ/τ with τ = tr Σ, P_0 = I, P_k = (3/2) P_{k−1} − (1/2) P_{k−1}³ S, W = P_T / √τ.
 * W = U diag(p_T(λ/τ)/√τ) Uᵀ, so IterNorm is a spectral transformation whose output eigenvalues
 * are f_T(λ/τ) (spec §3.3). Two routes compute it (iter_norm_solver):
 * - newton: the T iterations as written; the backward is unrolled by hand through them (spec
 *   §4.5), in a symmetrised form (see gradient()) that needs 5 matrix products per iteration
 *   where autograd needs 6; forward saves P, P² and P³ of iterations 2 … T for it.
 * - eigen: S = U diag(x) Uᵀ once, the same recurrence run on each x_i, and for the backward on
 *   each pair (x_i, x_j) to get the divided differences of p_T. Its cost does not grow with T;
 *   on the CPU it beats the iterations from moderate K on (uses_eigen_route()).
 * @note No inverse is taken: a rank-deficient Σ is valid (null directions map to 0). Only a zero
 *       covariance (τ = 0) is rejected.
 */
struct iter_norm {
  int iterations = 4;
  iter_norm_solver solver = iter_norm_solver::automatic;
  /// W = P_T(Σ/tr Σ)/√tr Σ is a matrix function of Σ, and tr(XXᵀ) = tr(XᵀX): forward may solve
  /// on the smaller M×M Gram when there is no eps (see spectral_transform).
  static constexpr bool gram_side_without_eps = true;

  /// Most iterations accepted. Newton–Schulz converges (or stalls) within tens of steps; the
  /// cap keeps a mistyped T from costing T−1 saved K×K triples and T·3 products per call.
  static constexpr int max_iterations = 1000;

  /// @throws invalid_input when iterations < 1 or > max_iterations.
  explicit iter_norm(int t = 4, iter_norm_solver route = iter_norm_solver::automatic)
      : iterations(t), solver(route) {
    SPECTRAL_EXPECTS(t >= 1, "iters: IterNorm needs at least 1 iteration, got ", t);
    SPECTRAL_EXPECTS(t <= max_iterations, "iters: IterNorm takes at most ", max_iterations,
                     " iterations, got ", t);
  }

  /// Smallest covariance size at which `automatic` takes the eigen route on the CPU for T ≥ 3
  /// (T ≤ 2 always iterates: at most 3 products). Measured in float with LAPACK syevd and
  /// OpenBLAS on the 2-core build VM, K = M, eigen route vs iterations: T = 4 forward+backward
  /// 1.14× faster at K = 256, 1.38× at 512, 1.58× at 1024 (T = 3: 1.13× at 512); forward alone
  /// 0.81×, 0.95×, 1.11× (syevd's memory-bound tridiagonalisation is slow at small K). From
  /// 512 on, training gains and forward-only use loses at most ~5% at T = 4.
  static constexpr index_t eigen_route_min_size = 512;

  /// Whether compute() on a K×K (or Gram-side M×M) matrix of size `size` takes the eigen route.
  [[nodiscard]] constexpr bool uses_eigen_route(index_t size) const noexcept {
    switch (solver) {
      case iter_norm_solver::newton:
        return false;
      case iter_norm_solver::eigen:
        return true;
      case iter_norm_solver::automatic:
        break;
    }
    return iterations >= 3 && size >= eigen_route_min_size;
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
    bool eigen_route = false;          ///< which route computed W (see iter_norm_solver)
    std::vector<iterate<T>> iterates;  ///< newton: inputs of iterations 2 … T
    vector<T> eigenvalues;             ///< eigen: x_i, the eigenvalues of S (ascending)
    matrix<T> eigenvectors;            ///< eigen: U, columns match eigenvalues
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

  /// The divided differences p_T[a_i, b] = (p_T(a_i) − p_T(b))/(a_i − b), and p_T'(b) where
  /// a_i = b, unrolled through the recurrence p_{k+1}(x) = 1.5 p_k(x) − 0.5 x p_k(x)³: with
  /// q = p³, (x q)[a, b] = q(b) + a q[a, b] and q[a, b] = p[a, b] (p(a)² + p(a) p(b) + p(b)²).
  /// Nothing is divided by a gap, so near-equal arguments lose no accuracy.
  [[nodiscard]] Eigen::ArrayXd divided_differences(const Eigen::ArrayXd& a, double b) const;

  template <class Backend, class T>
  void compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w, state<T>& st) const;
  /// The W of compute(), bit for bit, keeping nothing for a backward: the Newton route holds one
  /// iterate at a time instead of T − 1 (spectral_transform::apply).
  template <class Backend, class T>
  void compute_forward_only(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w) const;
  template <class Backend, class T>
  [[nodiscard]] matrix<T> gradient(Backend /*tag*/, const state<T>& st, const matrix<T>& w,
                                   const matrix<T>& grad_w) const;
  /// The K×K W from a solve on the Gram G = XᵀX/d (`st`, X the K×M centred block, d = M − 1),
  /// without K×K iterations: see the implementation.
  template <class T>
  [[nodiscard]] matrix<T> transform_from_gram(const state<T>& st, const matrix<T>& x,
                                              double divisor) const;

 private:
  /// compute() with `keep_iterates`, compute_forward_only() without (the same arithmetic).
  template <class Backend, class T>
  void solve(const matrix<T>& sigma, matrix<T>& w, state<T>& st, bool keep_iterates) const;
  template <class T>
  [[nodiscard]] static matrix<T> finish_gradient(matrix<T> grad_s, const state<T>& st,
                                                 const matrix<T>& w, const matrix<T>& grad_w);
};

// --- implementation -----------------------------------------------------------------------------

template <class Backend, class T>
void iter_norm::compute(Backend /*tag*/, const matrix<T>& sigma, matrix<T>& w,
                        state<T>& st) const {
  solve<Backend, T>(sigma, w, st, true);
}

template <class Backend, class T>
void iter_norm::compute_forward_only(Backend /*tag*/, const matrix<T>& sigma,
                                     matrix<T>& w) const {
  state<T> scratch;  // S and τ are needed while W is computed, and dropped on return
  solve<Backend, T>(sigma, w, scratch, false);
}

template <class Backend, class T>
void iter_norm::solve(const matrix<T>& sigma, matrix<T>& w, state<T>& st,
                      bool keep_iterates) const {
  st.trace = sigma.trace();
  if (!(st.trace > T(0)) || !std::isfinite(static_cast<double>(st.trace))) {
    SPECTRAL_FAIL("iternorm: the covariance has trace ", st.trace,
                  "; every observation is identical after centring");
  }
  st.normalized = sigma / st.trace;
  const matrix<T>& s = st.normalized;
  st.eigen_route = uses_eigen_route(s.rows());
  if (st.eigen_route) {
    auto eig = Backend::template eigh<T>(s);
    const Eigen::ArrayXd x = eig.values.template cast<double>().array();
    const vector<T> mapped =
        (x.unaryExpr([this](double xi) { return polynomial(xi); }) /
         std::sqrt(static_cast<double>(st.trace)))
            .template cast<T>()
            .matrix();
    w = Backend::template rebuild<T>(eig.vectors, mapped);
    st.eigenvalues = std::move(eig.values);
    st.eigenvectors = std::move(eig.vectors);
    st.iterates.clear();
    return;
  }
  const auto steps = static_cast<std::size_t>(iterations - 1);
  // Without a backward to follow, one slot is reused by every iteration.
  st.iterates.assign(keep_iterates ? steps : std::min<std::size_t>(steps, 1), iterate<T>{});
  // P_1 = 1.5 I − 0.5 S needs no product.
  matrix<T> p = T(-0.5) * s;
  p.diagonal().array() += T(1.5);
  matrix<T> cube_s;
  for (std::size_t step = 0; step < steps; ++step) {
    auto& it = st.iterates[keep_iterates ? step : 0];
    // Every iterate is a polynomial in S, so all products below are symmetric (see
    // backend::symmetric_product for how that is exploited). Each product overwrites its
    // output whole, so a reused slot gives the same bits as a fresh one.
    Backend::template symmetric_product<T>(p, p, it.square);
    Backend::template symmetric_product<T>(it.square, p, it.cube);
    Backend::template symmetric_product<T>(it.cube, s, cube_s);
    it.p = std::move(p);
    p = T(1.5) * it.p - T(0.5) * cube_s;
  }
  if (!keep_iterates) {
    st.iterates.clear();
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
  if (st.eigen_route) {
    // ∂L/∂S = U (Γ ∘ Uᵀ B U) Uᵀ with Γ_ij = p_T[x_i, x_j] (Daleckii–Krein), then the same τ
    // chain as below.
    const Eigen::ArrayXd x = st.eigenvalues.template cast<double>().array();
    matrix<T> gamma(k, k);
    for (index_t j = 0; j < k; ++j) {  // the lower triangle, column by column, then mirrored
      gamma.col(j).tail(k - j) =
          divided_differences(x.tail(k - j), x(j)).template cast<T>().matrix();
    }
    detail::mirror_lower(gamma);
    return finish_gradient(Backend::template loewner_sandwich<T>(st.eigenvectors, gamma, b), st,
                           w, grad_w);
  }
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
  return finish_gradient(std::move(grad_s), st, w, grad_w);
}

/// ∂L/∂Σ from ∂L/∂S through S = Σ/τ and W = P_T/√τ, τ = tr Σ.
template <class T>
matrix<T> iter_norm::finish_gradient(matrix<T> grad_s, const state<T>& st, const matrix<T>& w,
                                     const matrix<T>& grad_w) {
  const T tau = st.trace;
  grad_s = (T(0.5) * (grad_s + grad_s.transpose())).eval();  // eval: transpose aliases
  const T grad_tau = -(grad_s.cwiseProduct(st.normalized).sum()) / tau -
                     grad_w.cwiseProduct(w).sum() / (T(2) * tau);
  matrix<T> grad_sigma = grad_s / tau;
  grad_sigma.diagonal().array() += grad_tau;
  return grad_sigma;
}

inline Eigen::ArrayXd iter_norm::divided_differences(const Eigen::ArrayXd& a, double b) const {
  Eigen::ArrayXd p_a = Eigen::ArrayXd::Ones(a.size());
  Eigen::ArrayXd difference = Eigen::ArrayXd::Zero(a.size());  // p_0 = 1 is constant
  double p_b = 1.0;
  for (int k = 0; k < iterations; ++k) {
    difference = 1.5 * difference -
                 0.5 * (p_b * p_b * p_b + a * difference * (p_a.square() + p_a * p_b + p_b * p_b));
    p_a = 1.5 * p_a - 0.5 * a * p_a.cube();
    p_b = 1.5 * p_b - 0.5 * b * p_b * p_b * p_b;
  }
  return difference;
}

/// S = XXᵀ/(dτ) = B Bᵀ with B = X/√(dτ), and the Gram side iterated on BᵀB = G/τ, giving
/// P̃_k = p_k(BᵀB). Since P_k(S) B = B P̃_k, every iterate is P_k(S) = 1.5ᵏ I + B R_k Bᵀ with
/// R_0 = 0 and R_{k+1} = 1.5 R_k − 0.5 P̃_k³ (P_k³ S = B P̃_k³ Bᵀ); W = P_T(S)/√τ.
/// On the eigen route (G/τ = V diag(x) Vᵀ) the same W is p_T(0)/√τ I + C diag(δ) Cᵀ with
/// C = X V/√d and δ_i = p_T[x_i, 0]/(τ√τ), as for spectral functions (spectral_function.hpp).
template <class T>
matrix<T> iter_norm::transform_from_gram(const state<T>& st, const matrix<T>& x,
                                         double divisor) const {
  if (st.eigen_route) {
    const double tau = static_cast<double>(st.trace);
    const vector<T> delta =
        (divided_differences(st.eigenvalues.template cast<double>().array(), 0.0) /
         (tau * std::sqrt(tau)))
            .template cast<T>()
            .matrix();
    return detail::gram_side_transform<T>(x, st.eigenvectors, delta,
                                          polynomial(0.0) / std::sqrt(tau), divisor);
  }
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
