// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// iter_norm: IterNorm's Newton–Schulz iterations towards Σ^{-1/2} (INTL's spectral
/// transformation), its two solver routes and its elementwise steps (iter_norm_steps).

#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/batch_ops.hpp>
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
  /// T Newton–Schulz iterations, 3 products each; backward unrolled through them
  /// (`docs/math.md#backward-iternorm`).
  newton,
  /// One symmetric eigendecomposition S = U diag(x) Uᵀ; W = U diag(p_T(x)) Uᵀ/√τ, backward by
  /// Daleckii–Krein with the divided differences p_T[x_i, x_j] unrolled through the same
  /// T-step recurrence on scalars (exact at ties, no gap threshold).
  eigen,
};

/// The route's name: "automatic", "newton" or "eigen" (as the registry parses it).
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
 *        et al., ICLR 2024, Sec. 4).
 *
 * S = Σ/τ with τ = tr Σ, P_0 = I, P_k = (3/2) P_{k−1} − (1/2) P_{k−1}³ S, W = P_T / √τ.
 * W = U diag(p_T(λ/τ)/√τ) Uᵀ, so IterNorm is a spectral transformation whose output eigenvalues
 * are f_T(λ/τ) (`docs/math.md#iternorm`). Two routes compute it (iter_norm_solver):
 * - newton: the T iterations as written; the backward is unrolled by hand through them
 *   (`docs/math.md#backward-iternorm`), in a symmetrised form (see gradient()) that needs 5
 *   matrix products per iteration where autograd needs 6; forward saves P, P² and P³ of
 *   iterations 2 … T for it.
 * - eigen: S = U diag(x) Uᵀ once, the same recurrence run on each x_i, and for the backward on
 *   each pair (x_i, x_j) to get the divided differences of p_T. Its cost does not grow with T;
 *   on the CPU it beats the iterations from moderate K on (uses_eigen_route()).
 * @note No inverse is taken: a rank-deficient Σ is valid (null directions map to 0). Only a zero
 *       covariance (τ = 0) is rejected.
 */
struct iter_norm {
  int iterations = 4;                                     ///< T, the Newton–Schulz iterations
  iter_norm_solver solver = iter_norm_solver::automatic;  ///< the route that computes W
  /// W = P_T(Σ/tr Σ)/√tr Σ is a matrix function of Σ, and tr(XXᵀ) = tr(XᵀX): forward may solve
  /// on the smaller M×M Gram when there is no eps (see spectral_transform).
  static constexpr bool gram_side_without_eps = true;

  /// Most iterations accepted. Newton–Schulz converges (or stalls) within tens of steps; the
  /// cap keeps a mistyped T from costing T−1 saved K×K triples and T·3 products per call.
  static constexpr int max_iterations = 1000;

  /// @param t     the number of iterations T
  /// @param route the solver route
  /// @throws invalid_input when iterations < 1 or > max_iterations.
  explicit iter_norm(int t = 4, iter_norm_solver route = iter_norm_solver::automatic)
      : iterations(t), solver(route) {
    SPECTRAL_EXPECTS(t >= 1, "iters: IterNorm needs at least 1 iteration, got ", t);
    SPECTRAL_EXPECTS(t <= max_iterations, "iters: IterNorm takes at most ", max_iterations,
                     " iterations, got ", t);
  }

  /// Smallest covariance size at which `automatic` takes the eigen route on the CPU for T ≥ 3
  /// (T ≤ 2 always iterates: at most 3 products). Chosen from CPU measurements (float, LAPACK
  /// syevd, K = M) of the eigen route against the iterations: forward + backward gains from
  /// moderate K on, while forward alone only breaks even later, because syevd's memory-bound
  /// tridiagonalisation is slow at small K. From this size on training gains and forward-only
  /// use loses little. The figures are in bench/results.
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

  /**
   * @brief What backward needs. Newton route: S and, for iterations 2 … T, the inputs P, P², P³
   *        (P_{k−1} and its powers); eigen route: S and its eigenpairs.
   */
  template <class T, class Backend>
  struct state {
    typename Backend::template buffer<T> normalized;  ///< S = Σ/τ, count × K × K
    typename Backend::template buffer<T> traces;      ///< τ per matrix
    typename Backend::template buffer<T> iterates;  ///< newton: (T − 1) × {P, P², P³} × count
    typename Backend::template buffer<T> eigenvalues;   ///< eigen: x_i of S, ascending
    typename Backend::template buffer<T> eigenvectors;  ///< eigen: U
    bool eigen_route = false;  ///< which route computed W (see iter_norm_solver)
    index_t size = 0;          ///< K (or M on the Gram side)
    index_t count = 0;         ///< number of matrices (groups)
    index_t steps = 0;         ///< saved Newton iterations (T − 1)

    /// S = Σ/τ, a batch of K×K matrices.
    [[nodiscard]] batch<const T> s() const { return view(normalized.data()); }
    /// τ = tr Σ, one per matrix.
    [[nodiscard]] const T* trace() const { return traces.data(); }
    /// Saved matrix `which` (0: P, 1: P², 2: P³) of saved iteration `step`.
    [[nodiscard]] batch<const T> iterate(index_t step, int which) const {
      return view(iterates.data() + (step * 3 + which) * size * size * count);
    }
    /// Eigen route: the eigenvectors U of S, K×K per matrix.
    [[nodiscard]] batch<const T> vectors() const { return view(eigenvectors.data()); }
    /// Eigen route: the eigenvalues x_i of S, ascending, K×1 per matrix.
    [[nodiscard]] batch<const T> values() const {
      return dense_batch(static_cast<const T*>(eigenvalues.data()), size, 1, count);
    }

   private:
    [[nodiscard]] batch<const T> view(const T* data) const {
      return dense_batch(data, size, size, count);
    }
  };

  /// The method's name in messages and the registry.
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

  /// The divided difference p_T[a, b] = (p_T(a) − p_T(b))/(a − b), and p_T'(b) where a = b,
  /// unrolled through the recurrence p_{k+1}(x) = 1.5 p_k(x) − 0.5 x p_k(x)³: with q = p³,
  /// (x q)[a, b] = q(b) + a q[a, b] and q[a, b] = p[a, b] (p(a)² + p(a) p(b) + p(b)²).
  /// Nothing is divided by a gap, so near-equal arguments lose no accuracy.
  [[nodiscard]] SPECTRAL_HOST_DEVICE double divided_difference(double a, double b) const {
    double p_a = 1.0;
    double p_b = 1.0;
    double difference = 0.0;  // p_0 = 1 is constant
    for (int k = 0; k < iterations; ++k) {
      difference = 1.5 * difference -
                   0.5 * (p_b * p_b * p_b + a * difference * (p_a * p_a + p_a * p_b + p_b * p_b));
      p_a = 1.5 * p_a - 0.5 * a * p_a * p_a * p_a;
      p_b = 1.5 * p_b - 0.5 * b * p_b * p_b * p_b;
    }
    return difference;
  }
  /// divided_difference(a_i, b) for every a_i.
  [[nodiscard]] Eigen::ArrayXd divided_differences(const Eigen::ArrayXd& a, double b) const {
    return a.unaryExpr([&](double ai) { return divided_difference(ai, b); });
  }

  /// Σ (consumed: it becomes S) → W = p_T(S)/√τ; `st` may be nullptr (no backward: the Newton
  /// route then keeps one iterate at a time instead of T − 1).
  template <class Backend, class T>
  void compute(const primitives<Backend, T>& p,
               typename Backend::template buffer<T>&& sigma,
               index_t size,
               index_t count,
               batch<T> w,
               state<T, Backend>* st,
               status_word* status,
               index_t covariance_size) const;
  /// ∂L/∂Σ (`grad_sigma`) from ∂L/∂W (`grad_w`) through the saved route: the unrolled Newton
  /// reverse pass or Daleckii–Krein with p_T's divided differences.
  template <class Backend, class T>
  void gradient(const primitives<Backend, T>& p,
                const state<T, Backend>& st,
                batch<const T> w,
                batch<const T> grad_w,
                batch<T> grad_sigma) const;
  /// The K×K W from a solve on the Gram G = XᵀX/d (`st`, X the K×M centred blocks, d = M − 1),
  /// without K×K iterations: see the implementation.
  template <class Backend, class T>
  void transform_from_gram(const primitives<Backend, T>& p,
                           const state<T, Backend>& st,
                           batch<const T> x,
                           op x_op,
                           double divisor,
                           double eps,
                           batch<T> w) const;
};

/// The elementwise steps of IterNorm (functors for Backend::for_each_entry), compiled for host
/// and device.
namespace iter_norm_steps {

/// τ must be positive and finite (launched over one entry per matrix).
template <class T>
struct check_trace {
  const T* trace;       ///< τ per matrix
  status_word* status;  ///< receives status_trace_not_positive
  /// Checks matrix b.
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t /*i*/, index_t /*j*/) const {
    const double t = static_cast<double>(trace[b]);
    if (!(t > 0.0) || !(t - t == 0.0)) {
      detail::report(status, status_trace_not_positive, static_cast<int>(b), t, 0.0);
    }
  }
};
/// S = Σ/τ in place, and P_1 = 1.5 I − 0.5 S (no product needed).
template <class T>
struct start {
  batch<T> s;      ///< Σ in, S out
  batch<T> p1;     ///< may be empty (eigen route)
  const T* trace;  ///< τ per matrix
  /// Writes entry (i, j) of matrix b.
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    const T x = s(b, i, j) / trace[b];
    s(b, i, j) = x;
    if (p1.data != nullptr) {
      p1(b, i, j) = (i == j ? T(1.5) : T(0)) - T(0.5) * x;
    }
  }
};
/// out = in·scale (a copy; used to seed P_{k+1} = 1.5 P_k before adding −½ P_k³ S).
template <class T>
struct scaled_copy {
  batch<const T> in;  ///< the source
  batch<T> out;       ///< the destination
  T scale;            ///< the factor
  /// Writes entry (i, j) of matrix b.
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = scale * in(b, i, j);
  }
};
/// W = P_T/√τ.
template <class T>
struct finish {
  batch<const T> p;  ///< P_T
  batch<T> w;        ///< W
  const T* trace;    ///< τ per matrix
  /// Writes entry (i, j) of matrix b.
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    w(b, i, j) = p(b, i, j) / std::sqrt(trace[b]);
  }
};
/// The eigen route's √d_i with d_i = p_T(x_i)/√τ: W = (U √d)(U √d)ᵀ (launched over
/// count × K × 1).
template <class T>
struct mapped_eigenvalues {
  batch<const T> x;  ///< the eigenvalues x_i of S
  batch<T> out;      ///< √d_i
  const T* trace;    ///< τ per matrix
  iter_norm method;  ///< supplies p_T
  /// Writes entry i of matrix b.
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t /*j*/) const {
    out(b, i, 0) = static_cast<T>(std::sqrt(method.polynomial(static_cast<double>(x(b, i, 0))) /
                                            std::sqrt(static_cast<double>(trace[b]))));
  }
};
/// B = sym(∂L/∂W)/√τ = (G + Gᵀ)/(2√τ), the adjoint of P_T.
template <class T>
struct adjoint_start {
  batch<const T> grad_w;  ///< G = ∂L/∂W
  batch<T> b;             ///< B
  const T* trace;         ///< τ per matrix
  /// Writes entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    b(g, i, j) = (grad_w(g, i, j) + grad_w(g, j, i)) / (T(2) * std::sqrt(trace[g]));
  }
};
/// One reverse Newton step on the adjoint: B ← 1.5 B − ¼ (P² N + N P² + P N P), with
/// `product` = P² N and `sandwich` = P N P.
template <class T>
struct adjoint_step {
  batch<T> b;               ///< B, updated in place
  batch<const T> product;   ///< P² N
  batch<const T> sandwich;  ///< P N P
  /// Updates entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    b(g, i, j) =
        T(1.5) * b(g, i, j) - T(0.25) * (product(g, i, j) + product(g, j, i) + sandwich(g, i, j));
  }
};
/// R ∘= Γ with Γ_ij = p_T[x_i, x_j] (the larger argument first, so Γ is exactly symmetric).
template <class T>
struct loewner_product {
  batch<T> r;        ///< R, multiplied in place
  batch<const T> x;  ///< the eigenvalues x_i of S
  iter_norm method;  ///< supplies p_T's divided differences
  /// Updates entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    const index_t hi = i >= j ? i : j;
    const index_t lo = i >= j ? j : i;
    const double gamma = method.divided_difference(static_cast<double>(x(g, hi, 0)),
                                                   static_cast<double>(x(g, lo, 0)));
    r(g, i, j) = static_cast<T>(static_cast<double>(r(g, i, j)) * gamma);
  }
};
/// ∂L/∂Σ from sym(∂L/∂S) through S = Σ/τ and W = P_T/√τ, τ = tr Σ:
/// ∂L/∂Σ = sym(∂L/∂S)/τ + ∂L/∂τ·I with ∂L/∂τ = −⟨sym(∂L/∂S), S⟩/τ − ⟨G_W, W⟩/(2τ).
template <class T>
struct trace_chain {
  batch<const T> grad_s;  ///< symmetrised
  batch<T> grad_sigma;    ///< ∂L/∂Σ
  const T* grad_s_dot_s;  ///< ⟨sym(∂L/∂S), S⟩ per matrix
  const T* grad_w_dot_w;  ///< ⟨G_W, W⟩ per matrix
  const T* trace;         ///< τ per matrix
  /// Writes entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    const T tau = trace[g];
    const T grad_tau = -grad_s_dot_s[g] / tau - grad_w_dot_w[g] / (T(2) * tau);
    grad_sigma(g, i, j) = grad_s(g, i, j) / tau + (i == j ? grad_tau : T(0));
  }
};
/// R_{k+1} = 1.5 R_k − 0.5 P̃_k³, starting from R_1 = −0.5 I (Gram-side W; see below).
template <class T>
struct gram_recurrence {
  batch<T> r;           ///< R_k in, R_{k+1} out
  batch<const T> cube;  ///< empty for the start
  /// Updates entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    r(g, i, j) = cube.data == nullptr ? (i == j ? T(-0.5) : T(0))
                                      : T(1.5) * r(g, i, j) - T(0.5) * cube(g, i, j);
  }
};
/// W = (X R Xᵀ/(dτ) + 1.5ᵀ I)/√τ from `w` = X R Xᵀ/d.
template <class T>
struct gram_finish {
  batch<T> w;       ///< X R Xᵀ/d in, W out
  const T* trace;   ///< τ per matrix
  double diagonal;  ///< 1.5ᵀ
  /// Updates entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    const double tau = static_cast<double>(trace[g]);
    const double value = static_cast<double>(w(g, i, j)) / tau + (i == j ? diagonal : 0.0);
    w(g, i, j) = static_cast<T>(value / std::sqrt(tau));
  }
};
/// Eigen-route Gram-side W: out = C diag(δ), δ_i = p_T[x_i, 0]/(τ√τ).
template <class T>
struct gram_eigen_scale {
  batch<const T> c;  ///< C = X V/√d
  batch<const T> x;  ///< the eigenvalues x_i of G/τ
  batch<T> out;      ///< C diag(δ)
  const T* trace;    ///< τ per matrix
  iter_norm method;  ///< supplies p_T's divided differences
  /// Writes entry (i, j) of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t j) const {
    const double tau = static_cast<double>(trace[g]);
    const double delta =
        method.divided_difference(static_cast<double>(x(g, j, 0)), 0.0) / (tau * std::sqrt(tau));
    out(g, i, j) = static_cast<T>(static_cast<double>(c(g, i, j)) * delta);
  }
};
/// w += p_T(0)/√τ · I.
template <class T>
struct add_root_trace_identity {
  batch<T> w;        ///< updated in place
  const T* trace;    ///< τ per matrix
  double numerator;  ///< p_T(0)
  /// Adds to diagonal entry i of matrix g.
  SPECTRAL_HOST_DEVICE void operator()(index_t g, index_t i, index_t /*j*/) const {
    w(g, i, i) += static_cast<T>(numerator / std::sqrt(static_cast<double>(trace[g])));
  }
};

}  // namespace iter_norm_steps

// --- implementation -----------------------------------------------------------------------------

template <class Backend, class T>
void iter_norm::compute(const primitives<Backend, T>& p,
                        typename Backend::template buffer<T>&& sigma,
                        index_t size,
                        index_t count,
                        batch<T> w,
                        state<T, Backend>* st,
                        status_word* status,
                        index_t /*covariance_size*/) const {
  using buffer = typename Backend::template buffer<T>;
  const index_t area = size * size * count;
  const auto view = [&](T* data) { return dense_batch(data, size, size, count); };
  buffer traces = p.allocate(count);
  const batch<T> s = view(sigma.data());
  p.trace(s, traces.data());
  p.for_each(extent{count, 1, 1}, iter_norm_steps::check_trace<T>{traces.data(), status});
  // `automatic` measured its crossover on the CPU; a GPU's eigensolver is slow next to its
  // GEMMs, so there it keeps iterating unless the eigen route is asked for.
  constexpr bool host = requires { requires Backend::host_memory; };
  const bool eigen_route = (host || solver == iter_norm_solver::eigen) && uses_eigen_route(size);
  const index_t steps = eigen_route ? 0 : iterations - 1;
  const bool keep = st != nullptr;
  // Newton slots: with a backward to follow every iteration's P, P², P³; without, one P², P³
  // and two P (the current one and the next) used in turn.
  buffer iterates =
      p.allocate(eigen_route ? 0 : (keep ? std::max<index_t>(steps, 1) * 3 : 4) * area);
  buffer last = p.allocate(keep && steps > 0 ? area : 0);  // P_T, when every slot is kept
  const auto slot = [&](index_t step, int which) {
    return view(iterates.data() + (keep ? step * 3 + which : which) * area);
  };
  p.for_each(extent::of(s),
             iter_norm_steps::start<T>{s, eigen_route ? batch<T>{} : slot(0, 0), traces.data()});

  buffer values;
  buffer vectors;
  if (eigen_route) {
    vectors = p.allocate(area);
    values = p.allocate(size * count);
    const batch<T> u = view(vectors.data());
    const batch<T> x = dense_batch(values.data(), size, 1, count);
    p.for_each(extent::of(u), detail::copy_entries<T>{s, u});
    p.eigh(u, x, status);
    buffer mapped = p.allocate(size * count);
    buffer scaled = p.allocate(area);
    const batch<T> d = dense_batch(mapped.data(), size, 1, count);
    p.for_each(extent::of(d), iter_norm_steps::mapped_eigenvalues<T>{x, d, traces.data(), *this});
    // p_T > 0 on [0, 1], where the eigenvalues of S lie: W = (U √d)(U √d)ᵀ, a rank-k update.
    p.for_each(extent::of(u), detail::scale_columns<T>{u, d, view(scaled.data())});
    detail::rebuild<Backend, T>(p, view(scaled.data()), u, true, w);
  } else {
    batch<T> current = slot(0, 0);
    for (index_t step = 0; step < steps; ++step) {
      // Every iterate is a polynomial in S, so every product here is symmetric.
      const batch<T> square = slot(step, 1);
      const batch<T> cube = slot(step, 2);
      const batch<T> next =
          keep ? (step + 1 < steps ? slot(step + 1, 0) : view(last.data()))
               : view(iterates.data() + (current.data == slot(0, 0).data ? 3 : 0) * area);
      p.syrk(op::none, T(1), current, T(0), square);  // P² = P Pᵀ
      p.symmetric_product(T(1), square, current, T(0), cube);
      p.for_each(extent::of(next), iter_norm_steps::scaled_copy<T>{current, next, T(1.5)});
      p.symmetric_product(T(-0.5), cube, s, T(1), next);  // P_{k+1} = 1.5 P_k − 0.5 P_k³ S
      current = next;
    }
    p.for_each(extent::of(w), iter_norm_steps::finish<T>{current, w, traces.data()});
  }
  if (st != nullptr) {
    st->normalized = std::move(sigma);
    st->traces = std::move(traces);
    st->iterates = std::move(iterates);
    st->eigenvalues = std::move(values);
    st->eigenvectors = std::move(vectors);
    st->eigen_route = eigen_route;
    st->size = size;
    st->count = count;
    st->steps = steps;
  }
}

template <class Backend, class T>
void iter_norm::gradient(const primitives<Backend, T>& p,
                         const state<T, Backend>& st,
                         batch<const T> w,
                         batch<const T> grad_w,
                         batch<T> grad_sigma) const {
  // Unrolled reverse pass of P_k = 1.5 P − 0.5 P³ S (docs/math.md#backward-iternorm). Each P_k
  // is a polynomial in S, so the part of ∂L/∂S reached from B_k = ∂L/∂P_k depends only on
  // sym(B_k) (the derivative of a matrix function in a symmetric direction is symmetric).
  // Keeping B symmetric therefore changes no result, and in the eigenbasis of S the step becomes
  //   B_ij ← B_ij (3/2 − ¼ (s_i + s_j)(p_i² + p_i p_j + p_j²)),   ∂L/∂S += −½ sym(P³ B),
  // i.e. B ← 1.5 B − ¼ (P² N + N P² + P N P) with N = S B + B S.
  using buffer = typename Backend::template buffer<T>;
  const index_t k = st.size;
  const index_t count = st.count;
  const index_t area = k * k * count;
  const auto view = [&](buffer& storage) { return dense_batch(storage.data(), k, k, count); };
  buffer b_storage = p.allocate(area);
  buffer grad_s_storage = p.allocate(area);
  buffer product_storage = p.allocate(area);
  buffer other_storage = p.allocate(area);
  const batch<T> b = view(b_storage);
  const batch<T> grad_s = view(grad_s_storage);
  const batch<T> product = view(product_storage);
  const batch<T> other = view(other_storage);
  p.for_each(extent::of(b), iter_norm_steps::adjoint_start<T>{grad_w, b, st.trace()});
  if (st.eigen_route) {
    // ∂L/∂S = U (Γ ∘ Uᵀ B U) Uᵀ with Γ_ij = p_T[x_i, x_j] (Daleckii–Krein).
    const batch<const T> u = st.vectors();
    p.gemm(op::transpose, op::none, T(1), u, b, T(0), product);
    p.gemm(op::none, op::none, T(1), product, u, T(0), other);
    p.for_each(extent::of(other), iter_norm_steps::loewner_product<T>{other, st.values(), *this});
    p.gemm(op::none, op::none, T(1), u, other, T(0), product);
    p.gemm(op::none, op::transpose, T(1), product, u, T(0), grad_s);
  } else {
    buffer anticommutator_storage = p.allocate(area);
    const batch<T> anticommutator = view(anticommutator_storage);
    p.for_each(extent::of(grad_s), detail::fill_identity<T>{grad_s, T(0)});
    const batch<const T> s = st.s();
    for (index_t step = st.steps - 1; step >= 0; --step) {
      const batch<const T> pk = st.iterate(step, 0);
      p.gemm(op::none, op::none, T(-0.5), st.iterate(step, 2), b, T(1), grad_s);
      p.gemm(op::none, op::none, T(1), s, b, T(0), product);
      p.for_each(extent::of(product),
                 detail::combine_transpose<T>{product, anticommutator, T(1), T(1)});  // N
      p.gemm(op::none, op::none, T(1), anticommutator, pk, T(0), product);
      p.symmetric_product(T(1), pk, product, T(0), other);  // P N P
      p.gemm(op::none, op::none, T(1), st.iterate(step, 1), anticommutator, T(0), product);
      p.for_each(extent::of(b), iter_norm_steps::adjoint_step<T>{b, product, other});
    }
    // Iteration 1 starts from P_0 = I, so P_0³ = I: ∂L/∂S −= ½ B.
    p.for_each(extent::of(grad_s), detail::add_scaled<T>{b, grad_s, T(-0.5)});
  }
  // ∂L/∂Σ from ∂L/∂S through S = Σ/τ and W = P_T/√τ, τ = tr Σ.
  p.for_each(extent::of(grad_s), detail::combine_transpose<T>{grad_s, product, T(0.5), T(0.5)});
  buffer dots = p.allocate(2 * count);
  p.dot(product, st.s(), dots.data());
  p.dot(grad_w, w, dots.data() + count);
  p.for_each(extent::of(grad_sigma),
             iter_norm_steps::trace_chain<T>{product, grad_sigma, dots.data(), dots.data() + count,
                                             st.trace()});
}

/// S = XXᵀ/(dτ) = B Bᵀ with B = X/√(dτ), and the Gram side iterated on BᵀB = G/τ, giving
/// P̃_k = p_k(BᵀB). Since P_k(S) B = B P̃_k, every iterate is P_k(S) = 1.5ᵏ I + B R_k Bᵀ with
/// R_0 = 0 and R_{k+1} = 1.5 R_k − 0.5 P̃_k³ (P_k³ S = B P̃_k³ Bᵀ); W = P_T(S)/√τ.
/// On the eigen route (G/τ = V diag(x) Vᵀ) the same W is p_T(0)/√τ I + C diag(δ) Cᵀ with
/// C = X V/√d and δ_i = p_T[x_i, 0]/(τ√τ), as for spectral functions (spectral_function.hpp).
template <class Backend, class T>
void iter_norm::transform_from_gram(const primitives<Backend, T>& p,
                                    const state<T, Backend>& st,
                                    batch<const T> x,
                                    op x_op,
                                    double divisor,
                                    double /*eps*/,
                                    batch<T> w) const {
  using buffer = typename Backend::template buffer<T>;
  const index_t k = read_rows(x, x_op);
  const index_t m = st.size;
  const index_t count = st.count;
  if (st.eigen_route) {
    buffer c_storage = p.allocate(k * m * count);
    buffer scaled_storage = p.allocate(k * m * count);
    const batch<T> c = dense_batch(c_storage.data(), k, m, count);
    const batch<T> scaled = dense_batch(scaled_storage.data(), k, m, count);
    p.gemm(x_op, op::none, static_cast<T>(1.0 / std::sqrt(divisor)), x, st.vectors(), T(0), c);
    p.for_each(extent::of(c),
               iter_norm_steps::gram_eigen_scale<T>{c, st.values(), scaled, st.trace(), *this});
    p.gemm(op::none, op::transpose, T(1), scaled, c, T(0), w);
    p.for_each(extent{count, k, 1},
               iter_norm_steps::add_root_trace_identity<T>{w, st.trace(), polynomial(0.0)});
  } else {
    buffer r_storage = p.allocate(m * m * count);
    buffer xr_storage = p.allocate(k * m * count);
    const batch<T> r = dense_batch(r_storage.data(), m, m, count);
    const batch<T> xr = dense_batch(xr_storage.data(), k, m, count);
    p.for_each(extent::of(r),
               iter_norm_steps::gram_recurrence<T>{r, batch<const T>{}});  // R_1: P̃_0³ = I
    for (index_t step = 0; step < st.steps; ++step) {  // P̃_1³ … P̃_{T−1}³
      p.for_each(extent::of(r), iter_norm_steps::gram_recurrence<T>{r, st.iterate(step, 2)});
    }
    p.gemm(x_op, op::none, T(1), x, r, T(0), xr);
    p.gemm(op::none, x_op == op::none ? op::transpose : op::none, static_cast<T>(1.0 / divisor), xr,
           x, T(0), w);
    p.for_each(extent::of(w),
               iter_norm_steps::gram_finish<T>{w, st.trace(), std::pow(1.5, iterations)});
  }
  p.for_each(extent::of(w), detail::mirror_lower_entries<T>{w});
}

}  // namespace spectral
