// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// IterNorm: parity with the double (spectral-oracle) reference, docs/math.md#checks-iternorm
// (docs/math.md#check-3 to check-13) and the finite-difference / identity checks
// docs/math.md#check-17, docs/math.md#check-18 and docs/math.md#check-25.

#include "instances.hpp"

#include <Eigen/Eigenvalues>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>

#include <cmath>

using namespace spectral_test;
using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;

namespace {

config iter_norm(int t, axis ax = axis::features, int groups = 1, bool eigen_route = false) {
  return config{.kind = method::iter_norm,
                .iterations = t,
                .eigen_route = eigen_route,
                .ax = ax,
                .groups = groups};
}

std::uint64_t seed_of(int t, axis ax, int groups) {
  return 3000 + 100 * static_cast<std::uint64_t>(t) + 10 * static_cast<std::uint64_t>(groups) +
         (ax == axis::features ? 1 : 2);
}

/// f_T(x) straight from the recursion f_0 = x, f_k = h(f_{k−1}), h(y) = y(3 − y)²/4
/// (docs/math.md#iternorm), a different route from p_T used by the library and the reference.
double f_recursive(double x, int t) {
  double f = x;
  for (int k = 0; k < t; ++k) {
    f = f * (3.0 - f) * (3.0 - f) / 4.0;
  }
  return f;
}

/// ‖W_T − Σ^{-1/2}‖_F / ‖Σ^{-1/2}‖_F for a K×M layout.
double distance_to_zca(const Eigen::MatrixXd& x, int t) {
  const Eigen::MatrixXd z = x.transpose();
  const spectral::iter_norm_transform<double> tr{spectral::iter_norm{t}, {}};
  const auto r = tr.forward(z);
  const Eigen::MatrixXd inv_sqrt =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(reference::covariance_x(x))
          .operatorInverseSqrt();
  return rel_error(r.context.solved_transform(0), inv_sqrt);
}

}  // namespace

// --- (a) parity
// ----------------------------------------------------------------------------------------

TEMPLATE_TEST_CASE("iter_norm matches the double reference",
                   "[iter_norm][cpu][reference]",
                   float,
                   double) {
  const int t = GENERATE(1, 2, 4, 6);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2, 3);
  const bool eigen_route = GENERATE(false, true);
  check_reference_parity<TestType>(iter_norm(t, ax, groups, eigen_route), seed_of(t, ax, groups));
}

// --- (b) docs/math.md#checks-iternorm
// ----------------------------------------------------------------------------------------

TEST_CASE("iter_norm scalar maps (check 3)", "[iter_norm][cpu][properties]") {
  const auto f = [](int t, double x) {
    return spectral::iter_norm{t}.output_eigenvalue(3.5 * x, 3.5);  // λ = τx with τ = 3.5
  };
  CHECK(f(1, 0.5) == 0.78125);  // exact in binary
  CHECK_THAT(f(2, 0.5), WithinAbs(0.961494445801, 1e-12));
  CHECK_THAT(f(4, 0.1), WithinAbs(0.918597981263, 1e-12));
  CHECK_THAT(f(4, 1.0 / 256.0), WithinAbs(0.095152603948, 1e-12));
  // f_T(1/K) table of docs/math.md#iternorm (5 decimals).
  CHECK_THAT(f(4, 1.0 / 16.0), WithinAbs(0.79328, 5e-6));
  CHECK_THAT(f(6, 1.0 / 64.0), WithinAbs(0.85401, 5e-6));
  CHECK_THAT(f(8, 1.0 / 128.0), WithinAbs(0.98926, 5e-6));
  CHECK_THAT(f(12, 1.0 / 8192.0), WithinAbs(0.85540, 5e-6));
  const double x = GENERATE(0.0, 1e-4, 0.1, 0.37, 0.5, 0.9, 1.0);
  const int t = GENERATE(1, 2, 4, 7);
  CAPTURE(x, t);
  const spectral::iter_norm m{t};
  CHECK_THAT(m.polynomial(x), WithinAbs(reference::iter_norm_poly(x, t), 1e-15));
  CHECK_THAT(f(t, x), WithinAbs(f_recursive(x, t), 1e-14));
  CHECK_THAT(spectral::iter_norm{1}.polynomial(x), WithinAbs((3.0 - x) / 2.0, 1e-15));
  CHECK_THAT(f(1, x), WithinAbs(x * (3.0 - x) * (3.0 - x) / 4.0, 1e-15));
  // x ≤ f_T(x) ≤ 1 on [0, 1]
  CHECK(f(t, x) >= x - 1e-15);
  CHECK(f(t, x) <= 1.0 + 1e-15);
}

TEMPLATE_TEST_CASE(
    "iter_norm W is p_T(S)/sqrt(tau) is symmetric and commutes with sigma (checks 4-6)",
    "[iter_norm][cpu][properties]",
    float,
    double) {
  const int t = GENERATE(1, 2, 4, 6);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const bool eigen_route = GENERATE(false, true);
  const config c = iter_norm(t, ax, groups, eigen_route);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = seed_of(t, ax, groups) + 3;
  CAPTURE(describe(c), seed);
  // docs/math.md#checks-iternorm: f64 identities at 1e-10 (here with cond(Σ) up to 1e3); f32 at
  // 1e-5 with cond ≤ 1e2 (W's small-eigenvalue directions are amplified by up to (3/2)^T in f32).
  const bool is_double = std::is_same_v<TestType, double>;
  const Eigen::MatrixXd z =
      rounded_to<TestType>(make_embedding(p.n, p.d, ax, groups, is_double ? 100.0 : 10.0, seed));
  require_non_degenerate(z, c, is_double ? 1e4 : 1e2);
  const double tol = std::is_same_v<TestType, double> ? 1e-10 : 1e-5;
  const spectral::iter_norm_transform<TestType> tr{library_iter_norm(c), options_of(c)};
  const auto r = tr.forward(row_matrix<TestType>(z.cast<TestType>()));
  const Eigen::MatrixXd y = r.output.template cast<double>();
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const Eigen::MatrixXd w = r.context.solved_transform(g).template cast<double>();
    const Eigen::MatrixXd sigma = reference::covariance(z, ax, groups, g);
    const double tau = sigma.trace();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> e(sigma / tau);
    const Eigen::VectorXd x = e.eigenvalues();
    Eigen::VectorXd p_t(x.size());
    Eigen::VectorXd f_t(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      p_t(i) = reference::iter_norm_poly(x(i), t) / std::sqrt(tau);
      f_t(i) = f_recursive(x(i), t);
    }
    // test 4: W_T = U diag(p_T(x_i)/√τ) Uᵀ
    CHECK(rel_error(w, e.eigenvectors() * p_t.asDiagonal() * e.eigenvectors().transpose()) <= tol);
    // test 5: eig(Σ_Y) = f_T(x_i)
    const Eigen::VectorXd out_ev = symmetric_eigenvalues(output_covariance(y, c, g));
    CHECK(max_abs_error(out_ev, f_t) <= tol);
    // test 6: W symmetric, WΣ = ΣW
    CHECK(rel_error(w, Eigen::MatrixXd(w.transpose())) <= tol);
    CHECK(rel_error(w * sigma, sigma * w) <= (std::is_same_v<TestType, double> ? 1e-12 : 1e-5));
    // the diagnostics' ψ map agrees with the measured output spectrum
    const Eigen::VectorXd psi =
        spectral::output_spectrum(spectral::iter_norm{t}, Eigen::VectorXd(tau * x));
    CHECK(max_abs_error(psi, out_ev) <= tol);
  }
}

TEMPLATE_TEST_CASE("iter_norm is scale and shift invariant (check 8)",
                   "[iter_norm][cpu][properties]",
                   float,
                   double) {
  const int t = GENERATE(1, 4, 6);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const double scale = GENERATE(1e-3, 3.7, 1e3);
  const bool eigen_route = GENERATE(false, true);
  // f64 1e-12, f32 1e-5 (docs/math.md#check-8)
  check_scale_and_shift<TestType>(iter_norm(t, ax, groups, eigen_route), seed_of(t, ax, groups) + 5,
                                  scale, 0.0, std::is_same_v<TestType, double> ? 1e-12 : 1e-5);
}

TEMPLATE_TEST_CASE("iter_norm is permutation equivariant (check 9)",
                   "[iter_norm][cpu][properties]",
                   float,
                   double) {
  const int t = GENERATE(1, 4);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const bool eigen_route = GENERATE(false, true);
  check_permutations<TestType>(iter_norm(t, ax, groups, eigen_route), seed_of(t, ax, groups) + 7,
                               row_permutation::equivariant);
}

TEMPLATE_TEST_CASE("iter_norm: features axis on Z equals samples axis on Z transposed (check 1)",
                   "[iter_norm][cpu][properties]",
                   float,
                   double) {
  const int t = GENERATE(1, 4);
  check_axis_mapping<TestType>(iter_norm(t), 3401);
}

TEMPLATE_TEST_CASE("iter_norm trace bound with equality on isotropic input (check 10)",
                   "[iter_norm][cpu][properties]",
                   float,
                   double) {
  const int t = GENERATE(1, 2, 4, 6);
  const Eigen::Index k = GENERATE(16, 64);
  const axis ax = GENERATE(axis::features, axis::samples);
  const Eigen::Index m = 4 * k;
  const config c = iter_norm(t, ax);
  const std::uint64_t seed = 3501 + static_cast<std::uint64_t>(k);
  CAPTURE(describe(c), k, m, seed);
  const double bound = static_cast<double>(k) * f_recursive(1.0 / static_cast<double>(k), t);
  const double tol = std::is_same_v<TestType, double> ? 1e-10 : 1e-5;

  // isotropic: Σ = c² I to ~1e-13, tr Σ_Y = K f_T(1/K)
  const Eigen::MatrixXd iso =
      rounded_to<TestType>(to_embedding(isotropic_layout(k, m, 0.8, seed), ax));
  require_non_degenerate(iso, c, 1.0 + (std::is_same_v<TestType, double> ? 1e-10 : 1e-4));
  const Eigen::MatrixXd y_iso =
      lib_forward<TestType>(c, iso.cast<TestType>()).template cast<double>();
  CHECK_THAT(output_covariance(y_iso, c).trace(), WithinRel(bound, tol));

  // anisotropic: strictly below the bound
  const Eigen::MatrixXd z =
      rounded_to<TestType>(to_embedding(anisotropic_layout(k, m, 10.0, seed + 1), ax));
  require_non_degenerate(z, c, 1e3);
  const Eigen::MatrixXd y = lib_forward<TestType>(c, z.cast<TestType>()).template cast<double>();
  const double trace = output_covariance(y, c).trace();
  CAPTURE(trace, bound);
  CHECK(trace <= bound + tol * bound);
  CHECK(trace < 0.999 * bound);
  CHECK(trace > 0.0);
}

TEST_CASE("iter_norm converges to zca only on well-conditioned input (check 11)",
          "[iter_norm][cpu][properties]") {
  const Eigen::Index k = 16;
  const Eigen::Index m = 4000;
  const std::uint64_t seed = 3601;
  CAPTURE(k, m, seed);
  // cond(Σ) = 1.3 exactly
  const Eigen::MatrixXd well = spectrum_layout(log_spaced(k, 1.3, 1.3), m, seed);
  REQUIRE_THAT(condition_number(reference::covariance_x(well)), WithinRel(1.3, 1e-10));
  double previous = std::numeric_limits<double>::infinity();
  for (int t = 1; t <= 8; ++t) {
    const double error = distance_to_zca(well, t);
    CAPTURE(t, error);
    CHECK(error < previous);  // strictly shrinking towards ZCA as T grows
    previous = error;
  }
  const double at_4 = distance_to_zca(well, 4);
  CAPTURE(at_4);
  CHECK(at_4 > 0.05);  // docs/math.md#check-11: ≈ 0.11 — IterNorm at T = 4 is not whitening
  CHECK(at_4 < 0.2);
  CHECK(distance_to_zca(well, 8) < 1e-11);
  CHECK(distance_to_zca(well, 12) < 1e-11);

  // cond(Σ) = 1e4: still far from Σ^{-1/2} at T = 8 (no convergence claim there).
  const Eigen::MatrixXd ill = spectrum_layout(log_spaced(8, 1.0, 1e4), 400, seed + 1);
  REQUIRE_THAT(condition_number(reference::covariance_x(ill)), WithinRel(1e4, 1e-8));
  CHECK(distance_to_zca(ill, 8) > 0.1);
}

TEMPLATE_TEST_CASE("iter_norm on rank-deficient input maps the null space to zero (check 12)",
                   "[iter_norm][cpu][properties]",
                   float,
                   double) {
  const int t = GENERATE(1, 4);
  const axis ax = GENERATE(axis::features, axis::samples);
  // K = 12 > M − 1 = 7: rank 7.
  const Eigen::Index n = ax == axis::features ? 8 : 12;
  const Eigen::Index d = ax == axis::features ? 12 : 8;
  const bool eigen_route = GENERATE(false, true);
  const config c = iter_norm(t, ax, 1, eigen_route);
  const std::uint64_t seed = 3701;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(n, d, ax, 1, 10.0, seed));
  require_non_degenerate(z, c, std::numeric_limits<double>::infinity());
  const Eigen::MatrixXd sigma = reference::covariance(z, ax);
  const Eigen::VectorXd x = symmetric_eigenvalues(sigma) / sigma.trace();
  REQUIRE(x(4) <= 1e-12);  // 5 null directions
  REQUIRE(x(5) > 1e-3);    // 7 clearly non-zero
  const Eigen::MatrixXd y = lib_forward<TestType>(c, z.cast<TestType>()).template cast<double>();
  REQUIRE(y.allFinite());
  const Eigen::VectorXd out_ev = symmetric_eigenvalues(output_covariance(y, c));
  Eigen::VectorXd expected(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    expected(i) = i < 5 ? 0.0 : f_recursive(x(i), t);
  }
  const double tol = std::is_same_v<TestType, double> ? 1e-10 : 1e-5;
  CHECK(out_ev.head(5).cwiseAbs().maxCoeff() <= tol);
  CHECK(max_abs_error(out_ev, expected) <= tol);
  CHECK(rel_error(y, reference::forward(z, c)) <= tolerance<TestType>::forward);
}

TEST_CASE("iter_norm float matches double at K=256 M=8192 T=4 (check 13)",
          "[iter_norm][cpu][properties][large]") {
  const Eigen::Index n = 256;  // samples axis: K = N = 256, M = D = 8192
  const Eigen::Index d = 8192;
  const config c = iter_norm(4, axis::samples);
  const std::uint64_t seed = 3801;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<float>(make_embedding(n, d, axis::samples, 1, 1e3, seed));
  const Eigen::MatrixXd g = rounded_to<float>(randn(n, d, seed + 1));
  require_non_degenerate(z, c, 1e4);
  const spectral::iter_norm_transform<double> t64{spectral::iter_norm{4}, options_of(c)};
  const spectral::iter_norm_transform<float> t32{spectral::iter_norm{4}, options_of(c)};
  const row_matrix<double> z64 = z;
  const row_matrix<float> z32 = z.cast<float>();
  const auto r64 = t64.forward(z64);
  const auto r32 = t32.forward(z32);
  CHECK(rel_error(r32.context.solved_transform(0), r64.context.solved_transform(0)) <= 1e-6);
  CHECK(rel_error(r32.output, r64.output) <= 1e-6);
  const row_matrix<double> g64 = g;
  const row_matrix<float> g32 = g.cast<float>();
  CHECK(rel_error(t32.backward(r32.context, g32), t64.backward(r64.context, g64)) <= 1e-5);
}

// --- (c) gradients
// ---------------------------------------------------------------------------------------

TEST_CASE("iter_norm backward matches finite differences with the trace loss (checks 17-18)",
          "[iter_norm][cpu][gradient]") {
  const int t = GENERATE(1, 2, 4, 6);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const bool eigen_route = GENERATE(false, true);
  const config c = iter_norm(t, ax, groups, eigen_route);
  const problem_size p = tiny_problem(ax);
  const std::uint64_t seed = seed_of(t, ax, groups) + 9;
  const double beta = 0.3;
  CAPTURE(describe(c), seed, beta);
  const Eigen::MatrixXd z = make_embedding(p.n, p.d, ax, groups, 10.0, seed);
  const Eigen::MatrixXd weights = randn(p.n, p.d, seed + 1);
  require_non_degenerate(z, c, 1e3);
  // L = ⟨C, Y⟩ + β·TL(Y): G_Y = C + β ∂TL/∂Y
  const auto loss = [&](const Eigen::MatrixXd& probe) {
    const Eigen::MatrixXd y = lib_forward<double>(c, probe);
    return inner(weights, y) + beta * reference::trace_loss(y, ax);
  };
  const Eigen::MatrixXd y = lib_forward<double>(c, z);
  const Eigen::MatrixXd grad_y = weights + beta * reference::trace_loss_grad(y, ax);
  REQUIRE(reference::trace_loss(y, ax) > 1e-5);  // the trace-loss path is exercised
  const Eigen::MatrixXd analytic = lib_backward<double>(c, z, grad_y);
  const Eigen::MatrixXd numeric = finite_difference_gradient(loss, z);
  CHECK(rel_error(analytic, numeric) <= finite_difference_tolerance);
  // test 18: equals the spectral oracle (the reference) as well
  CHECK(rel_error(analytic, reference::backward(z, grad_y, c)) <= tolerance<double>::backward);
}

TEMPLATE_TEST_CASE("iter_norm gradients are orthogonal to X_c and have zero row sums (check 25)",
                   "[iter_norm][cpu][gradient]",
                   float,
                   double) {
  const int t = GENERATE(1, 4, 6);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const bool eigen_route = GENERATE(false, true);
  check_gradient_identities<TestType>(iter_norm(t, ax, groups, eigen_route),
                                      seed_of(t, ax, groups) + 11);
}

TEST_CASE("iter_norm float gradients agree with double gradients", "[iter_norm][cpu][gradient]") {
  const int t = GENERATE(1, 4, 6);
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  const bool eigen_route = GENERATE(false, true);
  check_float_matches_double_gradient(iter_norm(t, ax, groups, eigen_route),
                                      seed_of(t, ax, groups) + 13);
}

TEST_CASE("iter_norm gradient is finite on exactly isotropic and rank-deficient input",
          "[iter_norm][cpu][gradient]") {
  const int t = GENERATE(1, 4);
  const axis ax = GENERATE(axis::features, axis::samples);
  const bool eigen_route = GENERATE(false, true);
  const config c = iter_norm(t, ax, 1, eigen_route);
  const std::uint64_t seed = 3901;
  CAPTURE(describe(c), seed);
  const problem_size p = tiny_problem(ax);
  const layout_shape s = shape_of(p.n, p.d, ax);
  const Eigen::MatrixXd iso = to_embedding(isotropic_layout(s.size, s.observations, 1.3, seed), ax);
  const Eigen::MatrixXd deficient = make_embedding(p.d, p.n, ax, 1, 10.0, seed + 1);  // K > M − 1
  for (const Eigen::MatrixXd& z : {iso, deficient}) {
    require_non_degenerate(z, c, std::numeric_limits<double>::infinity());
    const Eigen::MatrixXd g = randn(z.rows(), z.cols(), seed + 2);
    const Eigen::MatrixXd analytic = lib_backward<double>(c, z, g);
    REQUIRE(analytic.allFinite());
    const Eigen::MatrixXd numeric = finite_difference_vjp(
        [&](const Eigen::MatrixXd& probe) -> Eigen::MatrixXd {
          return lib_forward<double>(c, probe);
        },
        z, g);
    CHECK(rel_error(analytic, numeric) <= finite_difference_tolerance);
  }
}

// --- (d) the eigen route
// ----------------------------------------------------------------------------------

TEST_CASE("iter_norm divided differences of p_T, unrolled through the recurrence",
          "[iter_norm][cpu][eigen_route]") {
  const int t = GENERATE(1, 2, 4, 7);
  const spectral::iter_norm m{t};
  CAPTURE(t);
  const Eigen::ArrayXd a{{0.0, 1e-4, 0.05, 0.3, 0.61, 1.0}};
  for (const double b : {0.0, 0.2, 0.9}) {
    CAPTURE(b);
    const Eigen::ArrayXd d = m.divided_differences(a, b);
    for (Eigen::Index i = 0; i < a.size(); ++i) {
      CAPTURE(a(i));
      if (std::abs(a(i) - b) >= 0.05) {  // a plain difference quotient is accurate here
        const double quotient =
            (reference::iter_norm_poly(a(i), t) - reference::iter_norm_poly(b, t)) / (a(i) - b);
        CHECK_THAT(d(i), WithinRel(quotient, 1e-11));
      } else if (a(i) == b) {  // a tie gives the derivative, with no threshold
        CHECK_THAT(d(i), WithinRel(reference::iter_norm_poly_derivative(b, t), 1e-13));
      }
    }
  }
  // Near a tie the difference quotient loses ~ε/gap digits; the recurrence loses none and sits
  // between the derivatives at the two ends (p_T' is monotone on this interval for T ≥ 2).
  const double x = 0.37;
  const double gap = 1e-9;
  const double near = m.divided_differences(Eigen::ArrayXd::Constant(1, x + gap), x)(0);
  CHECK_THAT(near, WithinRel(reference::iter_norm_poly_derivative(x + 0.5 * gap, t), 1e-12));
  if (t == 1) {  // p_1 = 1.5 − 0.5 x: every divided difference is exactly −1/2
    CHECK(m.divided_differences(a, 0.2).isApprox(Eigen::ArrayXd::Constant(a.size(), -0.5), 0.0));
  }
}

TEST_CASE("iter_norm chooses its route: automatic takes eigen from K = 512 when T >= 3",
          "[iter_norm][cpu][eigen_route]") {
  using spectral::iter_norm_solver;
  const spectral::iter_norm automatic{4};
  CHECK(automatic.solver == iter_norm_solver::automatic);
  CHECK_FALSE(automatic.uses_eigen_route(spectral::iter_norm::eigen_route_min_size - 1));
  CHECK(automatic.uses_eigen_route(spectral::iter_norm::eigen_route_min_size));
  CHECK_FALSE(spectral::iter_norm{2}.uses_eigen_route(4096));  // at most 3 products: iterate
  CHECK(spectral::iter_norm{3}.uses_eigen_route(4096));
  CHECK_FALSE(spectral::iter_norm(8, iter_norm_solver::newton).uses_eigen_route(4096));
  CHECK(spectral::iter_norm(1, iter_norm_solver::eigen).uses_eigen_route(2));
  CHECK(spectral::to_string(iter_norm_solver::eigen) == "eigen");
  CHECK(spectral::to_string(iter_norm_solver::newton) == "newton");
  CHECK(spectral::to_string(iter_norm_solver::automatic) == "automatic");
}

TEST_CASE("iter_norm at K = 512: the automatic (eigen) route equals the Newton iterations",
          "[iter_norm][cpu][eigen_route][large]") {
  // Samples axis, K = N = 512 < M = D = 640: the K×K covariance, where automatic switches.
  const Eigen::Index n = 512;
  const Eigen::Index d = 640;
  const std::uint64_t seed = 3951;
  CAPTURE(n, d, seed);
  const config c = iter_norm(4, axis::samples);
  const Eigen::MatrixXd z = make_embedding(n, d, axis::samples, 1, 50.0, seed);
  require_non_degenerate(z, c, 1e4);
  const row_matrix<double> zd = z;
  const row_matrix<double> gd = randn(n, d, seed + 1);
  const spectral::options opts{.axis = spectral::axis::samples};
  const spectral::iter_norm_transform<double> automatic{spectral::iter_norm{4}, opts};
  const spectral::iter_norm_transform<double> newton{
      spectral::iter_norm{4, spectral::iter_norm_solver::newton}, opts};
  const auto a = automatic.forward(zd);
  const auto b = newton.forward(zd);
  REQUIRE(a.context.state.eigen_route);
  REQUIRE_FALSE(b.context.state.eigen_route);
  REQUIRE(b.output.norm() > 0.0);
  CHECK(rel_error(a.context.solved_transform(0), b.context.solved_transform(0)) <= 1e-12);
  CHECK(rel_error(a.output, b.output) <= 1e-12);
  const row_matrix<double> grad_a = automatic.backward(a.context, gd);
  const row_matrix<double> grad_b = newton.backward(b.context, gd);
  REQUIRE(grad_b.norm() > 0.0);
  CHECK(rel_error(grad_a, grad_b) <= 1e-11);
  // float on the eigen route against the double Newton iterations
  const spectral::iter_norm_transform<float> automatic_float{spectral::iter_norm{4}, opts};
  const auto f = automatic_float.forward(row_matrix<float>(zd.cast<float>()));
  REQUIRE(f.context.state.eigen_route);
  CHECK(rel_error(f.output, b.output) <= 1e-5);
  CHECK(rel_error(automatic_float.backward(f.context, row_matrix<float>(gd.cast<float>())),
                  grad_b) <= 1e-4);
}

TEST_CASE("iter_norm eigen-route gradient is exact at near-equal and equal eigenvalues",
          "[iter_norm][cpu][eigen_route][gradient]") {
  const double gap = GENERATE(1e-2, 1e-5, 1e-8, 0.0);
  const axis ax = GENERATE(axis::features, axis::samples);
  const config c = iter_norm(4, ax, 1, true);
  const near_equal_case result = check_near_equal_eigenvalues(c, gap, 3961);
  // the same gradient as the Newton iterations' unrolled backward
  config newton = c;
  newton.eigen_route = false;
  CHECK(rel_error(result.gradient, lib_backward<double>(newton, result.z, result.grad_out)) <=
        1e-12);
}
