// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The smaller-side solve (options::smaller_side): with fewer observations than the covariance
// size (M < K), ZCA and power functions with eps, and IterNorm without eps, are solved on the
// M×M Gram XᵀX. Checked here against the independent double reference (which always builds the
// K×K Σ), against the library's own K×K path, by finite differences, and through
// transform_matrix() and running statistics; plus the cases that must keep the K×K path.

#include "instances.hpp"

#include <Eigen/Eigenvalues>

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <limits>
#include <string_view>
#include <vector>

using namespace spectral_test;

namespace {

/// Every configuration that solves on the Gram side when M < K.
std::vector<config> gram_side_configs(axis ax, int groups) {
  return {
      config{.kind = method::iter_norm, .iterations = 4, .ax = ax, .groups = groups},
      config{.kind = method::iter_norm, .iterations = 1, .ax = ax, .groups = groups},
      config{.kind = method::iter_norm,
             .iterations = 4,
             .eigen_route = true,
             .ax = ax,
             .groups = groups},
      config{.kind = method::zca, .ax = ax, .groups = groups, .eps = 0.05},
      config{.kind = method::power, .power = 0.25, .ax = ax, .groups = groups, .eps = 0.05},
      config{.kind = method::power, .power = 0.0, .ax = ax, .groups = groups},
  };
}

/// N×D with M < K per group: features K = D/groups > M = N; samples K = N > M = D/groups.
problem_size wide_problem(axis ax, int groups) {
  return ax == axis::features ? problem_size{9, 24L * groups} : problem_size{24, 9L * groups};
}

/// Whether a forward pass of `c` on z took the Gram side (all groups do, or none).
template <class T>
bool all_groups_on_gram_side(const config& c, const row_matrix<T>& z) {
  return with_transform<T>(c, [&](const auto& t) {
    const auto r = t.forward(z);
    return !r.context.empty() && r.context.gram_side &&
           r.context.solved_size < spectral::checked_group_shape(z.rows(), z.cols(), t.opts()).size;
  });
}

/// g(λ) = λ − c: a user-defined spectral function with values of both signs (W = Σ − c·I), so
/// the rebuild cannot take the syrk form and no inverse is needed (M < K goes to the Gram).
struct shifted_identity {
  double shift = 1.0;
  [[nodiscard]] static constexpr std::string_view name() noexcept { return "shifted_identity"; }
  [[nodiscard]] double value(double lambda) const { return lambda - shift; }
  [[nodiscard]] double derivative(double /*lambda*/) const { return 1.0; }
  [[nodiscard]] bool requires_positive_definite() const { return false; }
};

}  // namespace

TEMPLATE_TEST_CASE("smaller side: M < K matches the double reference's K×K solve",
                   "[gram_side]",
                   float,
                   double) {
  using T = TestType;
  const auto ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  for (const config& c : gram_side_configs(ax, groups)) {
    const problem_size p = wide_problem(ax, groups);
    const std::uint64_t seed =
        7100 + 10 * static_cast<std::uint64_t>(groups) + (ax == axis::features ? 1 : 2);
    CAPTURE(describe(c), p.n, p.d);
    const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed));
    const Eigen::MatrixXd g = rounded_to<T>(randn(p.n, p.d, seed + 3));
    require_non_degenerate(z, c, std::numeric_limits<double>::infinity());
    const row_matrix<T> zt = z.cast<T>();
    const row_matrix<T> gt = g.cast<T>();
    REQUIRE(all_groups_on_gram_side<T>(c, zt));

    const Eigen::MatrixXd y_ref = reference::forward(z, c);
    REQUIRE(y_ref.norm() > 0.0);
    CHECK(rel_error(lib_forward<T>(c, zt), y_ref) <= tolerance<T>::forward);
    CHECK(rel_error(lib_backward<T>(c, zt, gt), reference::backward(z, g, c)) <=
          tolerance<T>::backward);
    const auto matrices = lib_transform_matrices<T>(c, zt);  // rebuilt K×K by transform_matrix
    REQUIRE(matrices.size() == static_cast<std::size_t>(c.groups));
    for (int grp = 0; grp < c.groups; ++grp) {
      CAPTURE(grp);
      CHECK(rel_error(matrices[static_cast<std::size_t>(grp)],
                      reference::transform_matrix(z, c, grp)) <= tolerance<T>::forward);
    }
  }
}

TEST_CASE("smaller side: finite differences of the Gram-side gradient", "[gram_side]") {
  const auto ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2);
  for (const config& c : gram_side_configs(ax, groups)) {
    const problem_size p =
        ax == axis::features ? problem_size{5, 8L * groups} : problem_size{8, 5L * groups};
    const std::uint64_t seed = 7200 + 10 * static_cast<std::uint64_t>(groups);
    CAPTURE(describe(c), p.n, p.d);
    const Eigen::MatrixXd z = make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed);
    const Eigen::MatrixXd g = randn(p.n, p.d, seed + 5);
    const row_matrix<double> zd = z;
    REQUIRE(all_groups_on_gram_side<double>(c, zd));
    const Eigen::MatrixXd analytic = lib_backward<double>(c, z, g);
    REQUIRE(analytic.norm() > 0.0);
    const Eigen::MatrixXd numeric = finite_difference_vjp(
        [&](const Eigen::MatrixXd& probe) -> Eigen::MatrixXd {
          return lib_forward<double>(c, probe);
        },
        z, g);
    CHECK(rel_error(analytic, numeric) <= finite_difference_tolerance);
  }
}

TEST_CASE("smaller side: the same output, gradient and running statistics as the K×K path",
          "[gram_side]") {
  const auto ax = GENERATE(axis::features, axis::samples);
  const auto solver =
      GENERATE(spectral::iter_norm_solver::newton, spectral::iter_norm_solver::eigen);
  CAPTURE(spectral::to_string(solver));
  const problem_size p = wide_problem(ax, 2);
  const Eigen::MatrixXd z = make_embedding(p.n, p.d, ax, 2, 10.0, 7301);
  const spectral::row_matrix<double> zd = z;
  const spectral::row_matrix<double> gd = randn(p.n, p.d, 7302);
  spectral::options gram{
      .axis = ax == axis::features ? spectral::axis::features : spectral::axis::samples,
      .groups = 2};
  spectral::options full = gram;
  full.smaller_side = false;
  const spectral::iter_norm_transform<double> small_side{spectral::iter_norm{4, solver}, gram};
  const spectral::iter_norm_transform<double> covariance_side{spectral::iter_norm{4, solver}, full};
  const auto a = small_side.forward(zd);
  const auto b = covariance_side.forward(zd);
  REQUIRE(a.context.gram_side);
  REQUIRE_FALSE(b.context.gram_side);
  REQUIRE(b.output.norm() > 0.0);
  CHECK(rel_error(a.output, b.output) <= 1e-12);
  CHECK(rel_error(small_side.backward(a.context, gd), covariance_side.backward(b.context, gd)) <=
        1e-12);
  if (ax == axis::features) {  // running statistics exist on the features axis only
    spectral::running_statistics<double> from_gram;
    spectral::running_statistics<double> from_covariance;
    from_gram.update(a.context);
    from_covariance.update(b.context);
    REQUIRE(from_gram.groups() == 2);
    CHECK(from_gram.transform(0).rows() == p.d / 2);
    for (std::size_t g = 0; g < 2; ++g) {
      CHECK(rel_error(from_gram.transform(g), from_covariance.transform(g)) <= 1e-12);
    }
  }
}

TEST_CASE("smaller side: cases that keep the K×K covariance", "[gram_side]") {
  const problem_size p = wide_problem(axis::features, 1);  // K = 24 > M = 9
  const spectral::row_matrix<double> z = make_embedding(p.n, p.d, axis::features, 1, 10.0, 7401);
  const spectral::options with_eps{.eps = 0.05};

  SECTION("ZCA without eps still reports the singular K×K covariance") {
    const spectral::zca_transform<double> t{spectral::zca_whitening{}, {}};
    CHECK_THROWS_MATCHES(
        t.forward(z), spectral::numerical_error,
        Catch::Matchers::MessageMatches(Catch::Matchers::ContainsSubstring("singular") &&
                                        Catch::Matchers::ContainsSubstring("K=24")));
  }
  SECTION("PCA and Cholesky are not functions of the spectrum alone") {
    const spectral::pca_transform<double> pca{spectral::pca_whitening{}, with_eps};
    const spectral::cholesky_transform<double> cholesky{spectral::cholesky_whitening{}, with_eps};
    CHECK_FALSE(pca.forward(z).context.gram_side);
    CHECK_FALSE(cholesky.forward(z).context.gram_side);
  }
  SECTION("IterNorm with eps (eps changes tr Σ and tr G differently)") {
    const spectral::iter_norm_transform<double> t{spectral::iter_norm{4}, with_eps};
    const auto r = t.forward(z);
    CHECK_FALSE(r.context.gram_side);
    CHECK(r.context.solved_size == 24);
  }
  SECTION("M >= K") {
    const spectral::row_matrix<double> tall = make_embedding(30, 24, axis::features, 1, 10.0, 7402);
    const spectral::iter_norm_transform<double> t{spectral::iter_norm{4}, {}};
    CHECK_FALSE(t.forward(tall).context.gram_side);
  }
}

TEST_CASE("smaller side: positive definiteness is judged as for the K×K covariance",
          "[gram_side]") {
  // eps = 12·ε·λ_max clears the M×M floor (M·ε·λ_max, M = 9) but not the K×K one (K = 24): the
  // Gram side must refuse it exactly as the K×K path does.
  const problem_size p = wide_problem(axis::features, 1);
  const Eigen::MatrixXd z = make_embedding(p.n, p.d, axis::features, 1, 10.0, 7501);
  const Eigen::MatrixXd sigma = reference::covariance(z, axis::features, 1, 0, 0.0);
  const double largest =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(sigma).eigenvalues().maxCoeff();
  REQUIRE(largest > 0.0);
  spectral::options opts{.eps = 12.0 * std::numeric_limits<double>::epsilon() * largest};
  const bool smaller_side = GENERATE(true, false);
  opts.smaller_side = smaller_side;
  CAPTURE(smaller_side, opts.eps);
  const spectral::zca_transform<double> t{spectral::zca_whitening{}, opts};
  const spectral::row_matrix<double> zd = z;
  CHECK_THROWS_MATCHES(
      t.forward(zd), spectral::numerical_error,
      Catch::Matchers::MessageMatches(Catch::Matchers::ContainsSubstring("not positive definite")));
}

TEST_CASE("a spectral function with values of both signs: W = g(Σ) on both sides", "[gram_side]") {
  const auto ax = GENERATE(axis::features, axis::samples);
  const bool wide = GENERATE(false, true);  // M < K: the Gram side; else K×K
  const problem_size p = wide
                             ? wide_problem(ax, 1)
                             : (ax == axis::features ? problem_size{40, 12} : problem_size{12, 40});
  CAPTURE(ax == axis::features, wide, p.n, p.d);
  const Eigen::MatrixXd z = make_embedding(p.n, p.d, ax, 1, 10.0, 7601);
  const Eigen::MatrixXd sigma = reference::covariance(z, ax, 1, 0, 0.0);
  const double shift =
      sigma.trace() / static_cast<double>(sigma.rows());  // between λ_min and λ_max
  const spectral::options opts{.axis = ax == axis::features ? spectral::axis::features
                                                            : spectral::axis::samples};
  const spectral::spectral_transform<double, shifted_identity> t{shifted_identity{shift}, opts};
  const spectral::row_matrix<double> zd = z;
  const auto r = t.forward(zd);
  CHECK(r.context.gram_side == wide);
  const Eigen::MatrixXd expected_w =
      sigma - shift * Eigen::MatrixXd::Identity(sigma.rows(), sigma.rows());
  CHECK(rel_error(spectral::transform_matrix(r.context, 0), expected_w) <= 1e-10);
  // Y = (Σ − cI) X_c in the K×M layout, mapped back to N×D.
  const Eigen::MatrixXd x = reference::center_rows(layout_of(z, ax, 1, 0));
  const Eigen::MatrixXd y = from_layouts({Eigen::MatrixXd(expected_w * x)}, ax);
  REQUIRE(y.norm() > 0.0);
  CHECK(rel_error(r.output, y) <= 1e-10);
}
