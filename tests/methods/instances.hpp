// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Runs a library instance chosen at run time from a reference::config, and the checks every
/// instance shares: parity with the double reference, finite differences, float vs double
/// gradients, the gradient identities of scale-invariant transforms and the axis mapping.

#include <spectral/spectral.hpp>

#include <common/generators.hpp>
#include <common/reference.hpp>
#include <common/tolerances.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace spectral_test {

using reference::config;
using reference::method;

[[nodiscard]] inline spectral::axis library_axis(axis a) {
  return a == axis::features ? spectral::axis::features : spectral::axis::samples;
}

[[nodiscard]] inline spectral::options options_of(const config& c) {
  spectral::options opts;
  opts.axis = library_axis(c.ax);
  opts.groups = c.groups;
  opts.eps = c.eps;
  return opts;
}

/// The reference's method for each method of the library's registry: a method added to the
/// registry fails to compile here until the reference (common/reference.hpp) has it too.
template <class Method>
struct reference_kind;
template <>
struct reference_kind<spectral::zca_whitening> {
  static constexpr method value = method::zca;
};
template <>
struct reference_kind<spectral::pca_whitening> {
  static constexpr method value = method::pca;
};
template <>
struct reference_kind<spectral::cholesky_whitening> {
  static constexpr method value = method::cholesky;
};
template <>
struct reference_kind<spectral::power_function> {
  static constexpr method value = method::power;
};
template <>
struct reference_kind<spectral::iter_norm> {
  static constexpr method value = method::iter_norm;
};

/// The library's method for `c`: its registered name, p, T, and IterNorm on the route
/// c.eigen_route names.
[[nodiscard]] inline spectral::method_spec library_spec(const config& c) {
  spectral::method_spec spec;
  spec.name.clear();
  spectral::for_each_method([&]<class Method>(std::type_identity<Method>) {
    if (reference_kind<Method>::value == c.kind) {
      spec.name = std::string(Method::name());
    }
  });
  if (spec.name.empty()) {
    throw std::logic_error("library_spec: the reference method has no registered method");
  }
  spec.power = c.power;
  spec.iterations = c.iterations;
  spec.solver =
      c.eigen_route ? spectral::iter_norm_solver::eigen : spectral::iter_norm_solver::newton;
  return spec;
}

/// One config per method of the library's registry, in its order, with p = `power` and
/// T = `iterations` (on the Newton route).
[[nodiscard]] inline std::vector<config> registered_instances(double power = 0.75,
                                                              int iterations = 4) {
  std::vector<config> out;
  spectral::for_each_method([&]<class Method>(std::type_identity<Method>) {
    out.push_back(
        {.kind = reference_kind<Method>::value, .power = power, .iterations = iterations});
  });
  return out;
}

/// The method's text form in the registry (e.g. "power:p=0.75") and the layout.
[[nodiscard]] inline std::string describe(const config& c) {
  std::ostringstream out;
  out << spectral::to_string(library_spec(c)) << ", "
      << (c.ax == axis::features ? "features" : "samples") << " axis, groups=" << c.groups
      << ", eps=" << c.eps;
  return out.str();
}

/// The library's IterNorm for `c`: its T, on the route c.eigen_route names.
[[nodiscard]] inline spectral::iter_norm library_iter_norm(const config& c) {
  return spectral::make_method<spectral::iter_norm>(library_spec(c));
}

/// Calls fn with the library transform that `c` describes (scalar T, CPU backend), constructed
/// through the registry (spectral::visit_method).
template <class T, class Fn>
decltype(auto) with_transform(const config& c, Fn&& fn) {
  const spectral::options opts = options_of(c);
  return spectral::visit_method(library_spec(c), [&]<class Method>(const Method& m) {
    return fn(spectral::spectral_transform<T, Method>{m, opts});
  });
}

template <class T>
using row_matrix = spectral::row_matrix<T>;

// The entry points below are the only place the test files instantiate all five
// transforms; they are compiled once, in transform_core_test.cpp (explicit instantiations), and
// declared extern everywhere else, which keeps every other test file cheap to compile.

/// The library's output for z (N×D).
template <class T>
[[nodiscard]] row_matrix<T> lib_forward(const config& c, const row_matrix<T>& z) {
  return with_transform<T>(c, [&](const auto& t) { return t.forward(z).output; });
}

/// The library's output for z through the forward-only entry point (no context).
template <class T>
[[nodiscard]] row_matrix<T> lib_apply(const config& c, const row_matrix<T>& z) {
  return with_transform<T>(c, [&](const auto& t) { return t.apply(z); });
}

/// The library's ∂⟨G, Y⟩/∂Z.
template <class T>
[[nodiscard]] row_matrix<T> lib_backward(const config& c,
                                         const row_matrix<T>& z,
                                         const row_matrix<T>& grad_out) {
  return with_transform<T>(c, [&](const auto& t) {
    const auto r = t.forward(z);
    return t.backward(r.context, grad_out);
  });
}

/// The transform matrix W (K×K) of every group of a forward pass (spectral::transform_matrix).
template <class T>
[[nodiscard]] std::vector<spectral::matrix<T>> lib_transform_matrices(const config& c,
                                                                      const row_matrix<T>& z) {
  return with_transform<T>(c, [&](const auto& t) {
    std::vector<spectral::matrix<T>> out;
    const auto context = t.forward(z).context;
    for (spectral::index_t g = 0; g < context.opts.groups; ++g) {
      out.push_back(spectral::transform_matrix(context, g));
    }
    return out;
  });
}

/// forward of z into an output of rows×cols (for the bad-input rules).
template <class T>
void lib_forward_into(const config& c,
                      const row_matrix<T>& z,
                      Eigen::Index rows,
                      Eigen::Index cols) {
  row_matrix<T> out(rows, cols);
  with_transform<T>(c, [&](const auto& t) { static_cast<void>(t.forward(z, out)); });
}

#define SPECTRAL_TEST_INSTANCE_ENTRY_POINTS(prefix, T)                                             \
  prefix row_matrix<T> lib_forward<T>(const config&, const row_matrix<T>&);                        \
  prefix row_matrix<T> lib_apply<T>(const config&, const row_matrix<T>&);                          \
  prefix row_matrix<T> lib_backward<T>(const config&, const row_matrix<T>&, const row_matrix<T>&); \
  prefix std::vector<spectral::matrix<T>> lib_transform_matrices<T>(const config&,                 \
                                                                    const row_matrix<T>&);         \
  prefix void lib_forward_into<T>(const config&, const row_matrix<T>&, Eigen::Index, Eigen::Index);

#if !defined(SPECTRAL_TEST_INSTANTIATE_ENTRY_POINTS)
SPECTRAL_TEST_INSTANCE_ENTRY_POINTS(extern template, float)
SPECTRAL_TEST_INSTANCE_ENTRY_POINTS(extern template, double)
#endif

/**
 * @brief The CPU backend through the library's Eigen entry points: the default runner of the
 *        checks below. A runner is how a test suite reaches one backend (host matrices in and
 *        out); tests/cuda/cuda_runner.cuh is the GPU's, and tests/backends/transform_suite.hpp
 *        runs the same checks on each.
 */
struct cpu_runner {
  static void skip_unless_available() {}
  template <class T>
  [[nodiscard]] static row_matrix<T> forward(const config& c, const row_matrix<T>& z) {
    return lib_forward<T>(c, z);
  }
  template <class T>
  [[nodiscard]] static row_matrix<T> apply(const config& c, const row_matrix<T>& z) {
    return lib_apply<T>(c, z);
  }
  template <class T>
  [[nodiscard]] static row_matrix<T> backward(const config& c,
                                              const row_matrix<T>& z,
                                              const row_matrix<T>& grad_out) {
    return lib_backward<T>(c, z, grad_out);
  }
  template <class T>
  [[nodiscard]] static std::vector<spectral::matrix<T>> transform_matrices(const config& c,
                                                                           const row_matrix<T>& z) {
    return lib_transform_matrices<T>(c, z);
  }
  /// forward of z into an output of the given shape (for the bad-input rules).
  template <class T>
  static void forward_into(const config& c,
                           const row_matrix<T>& z,
                           Eigen::Index rows,
                           Eigen::Index cols) {
    lib_forward_into<T>(c, z, rows, cols);
  }
};

/// Default small problem (N, D) for an axis: K ≤ 12 and M ≥ 3K for groups ∈ {1, 2, 3}.
struct problem_size {
  Eigen::Index n;
  Eigen::Index d;
};

[[nodiscard]] inline problem_size small_problem(axis ax) {
  return ax == axis::features ? problem_size{40, 12} : problem_size{8, 72};
}

/// Smaller still, for finite differences (2·N·D forwards per check).
[[nodiscard]] inline problem_size tiny_problem(axis ax) {
  return ax == axis::features ? problem_size{16, 8} : problem_size{6, 24};
}

/// REQUIREs that z is non-degenerate: every group's Σ has a real spread of values and, when
/// `max_condition` is finite, is positive definite with cond(Σ) ≤ max_condition.
inline void require_non_degenerate(const Eigen::MatrixXd& z,
                                   const config& c,
                                   double max_condition) {
  REQUIRE(z.allFinite());
  for (int g = 0; g < c.groups; ++g) {
    const Eigen::MatrixXd sigma = reference::covariance(z, c.ax, c.groups, g, c.eps);
    CAPTURE(g, sigma.trace());
    REQUIRE(sigma.trace() > 1e-3 * static_cast<double>(sigma.rows()));
    if (std::isfinite(max_condition)) {
      const double cond = condition_number(sigma);
      CAPTURE(cond);
      REQUIRE(cond <= max_condition);
    }
  }
}

/// The double data rounded to T (so that T and the reference see the same input).
template <class T>
[[nodiscard]] Eigen::MatrixXd rounded_to(const Eigen::MatrixXd& z) {
  return z.cast<T>().template cast<double>();
}

/**
 * @brief (a) forward, W per group and backward vs the double reference, on anisotropic input
 *        with cond(Σ) ≤ 1e2.
 */
template <class T, class Runner = cpu_runner>
void check_reference_parity(const config& c, std::uint64_t seed, double condition = 10.0) {
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed, p.n, p.d);
  const Eigen::MatrixXd z =
      rounded_to<T>(make_embedding(p.n, p.d, c.ax, c.groups, condition, seed));
  const Eigen::MatrixXd g = rounded_to<T>(randn(p.n, p.d, seed + 7));
  require_non_degenerate(z, c, 1e2);

  const row_matrix<T> zt = z.cast<T>();
  const row_matrix<T> gt = g.cast<T>();
  CHECK(rel_error(Runner::template forward<T>(c, zt), reference::forward(z, c)) <=
        tolerance<T>::forward);
  const auto matrices = Runner::template transform_matrices<T>(c, zt);
  REQUIRE(matrices.size() == static_cast<std::size_t>(c.groups));
  for (int grp = 0; grp < c.groups; ++grp) {
    CAPTURE(grp);
    CHECK(rel_error(matrices[static_cast<std::size_t>(grp)],
                    reference::transform_matrix(z, c, grp)) <= tolerance<T>::forward);
  }
  CHECK(rel_error(Runner::template backward<T>(c, zt, gt), reference::backward(z, g, c)) <=
        tolerance<T>::backward);
}

/// (c) analytic backward vs central finite differences of ⟨G, forward(Z)⟩, double.
template <class Runner = cpu_runner>
void check_finite_differences(const config& c, std::uint64_t seed, double condition = 10.0) {
  const problem_size p = tiny_problem(c.ax);
  CAPTURE(describe(c), seed, p.n, p.d);
  const Eigen::MatrixXd z = make_embedding(p.n, p.d, c.ax, c.groups, condition, seed);
  const Eigen::MatrixXd g = randn(p.n, p.d, seed + 11);
  require_non_degenerate(z, c, 1e3);

  const Eigen::MatrixXd analytic = Runner::template backward<double>(c, z, g);
  const Eigen::MatrixXd numeric = finite_difference_vjp(
      [&](const Eigen::MatrixXd& probe) -> Eigen::MatrixXd {
        return Runner::template forward<double>(c, probe);
      },
      z, g);
  CHECK(rel_error(analytic, numeric) <= finite_difference_tolerance);
}

/// The input, upstream gradient and double gradient of check_near_equal_eigenvalues.
struct near_equal_case {
  Eigen::MatrixXd z;
  Eigen::MatrixXd grad_out;
  Eigen::MatrixXd gradient;
};

/**
 * @brief (d) docs/math.md#check-20: with the two smallest eigenvalues of Σ `gap` apart (0:
 *        equal), the double gradient is finite and matches central finite differences (1e-5)
 *        and the reference, and the float gradient is finite and within 1e-4 of it.
 * @return the case, for checks of the caller's own
 */
template <class Runner = cpu_runner>
near_equal_case check_near_equal_eigenvalues(const config& c, double gap, std::uint64_t seed) {
  const problem_size p = tiny_problem(c.ax);
  const layout_shape s = shape_of(p.n, p.d, c.ax);
  CAPTURE(describe(c), gap, seed);
  const Eigen::MatrixXd z =
      make_embedding_with_spectrum(p.n, p.d, c.ax, 1, eigenvalues_with_gap(s.size, gap), seed);
  require_non_degenerate(z, c, 10.0);
  const Eigen::VectorXd ev = symmetric_eigenvalues(reference::covariance(z, c.ax));
  CHECK(ev(1) - ev(0) <= gap + 1e-12);
  const Eigen::MatrixXd g = randn(p.n, p.d, seed + 1);

  const Eigen::MatrixXd analytic = Runner::template backward<double>(c, z, g);
  REQUIRE(analytic.allFinite());
  const Eigen::MatrixXd numeric = finite_difference_vjp(
      [&](const Eigen::MatrixXd& probe) -> Eigen::MatrixXd {
        return Runner::template forward<double>(c, probe);
      },
      z, g, 1e-7);
  CHECK(rel_error(analytic, numeric) <= 1e-5);
  CHECK(rel_error(analytic, reference::backward(z, g, c)) <= tolerance<double>::backward);

  const row_matrix<float> grad_float =
      Runner::template backward<float>(c, z.cast<float>(), g.cast<float>());
  REQUIRE(grad_float.allFinite());
  CHECK(rel_error(grad_float, analytic) <= 1e-4);
  return {z, g, analytic};
}

/// (e) the float gradient agrees with the double gradient on the same (float-rounded) input.
template <class Runner = cpu_runner>
void check_float_matches_double_gradient(const config& c, std::uint64_t seed) {
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed, p.n, p.d);
  const Eigen::MatrixXd z = rounded_to<float>(make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed));
  const Eigen::MatrixXd g = rounded_to<float>(randn(p.n, p.d, seed + 13));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<float> zf = z.cast<float>();
  const row_matrix<float> gf = g.cast<float>();
  const row_matrix<double> grad_double = Runner::template backward<double>(c, z, g);
  const row_matrix<float> grad_float = Runner::template backward<float>(c, zf, gf);
  CHECK(rel_error(grad_float, grad_double) <= 1e-4);
}

/**
 * @brief docs/math.md#implicit-gradient-update / docs/math.md#check-25 for scale- and
 *        shift-invariant transforms: per group, ⟨G_X, X_c⟩ = 0 and every row of G_X (K×M
 *        layout) sums to zero.
 */
template <class T, class Runner = cpu_runner>
void check_gradient_identities(const config& c, std::uint64_t seed) {
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed, p.n, p.d);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed));
  const Eigen::MatrixXd g = rounded_to<T>(randn(p.n, p.d, seed + 17));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<T> zt = z.cast<T>();
  const row_matrix<T> gt = g.cast<T>();
  const Eigen::MatrixXd grad = Runner::template backward<T>(c, zt, gt).template cast<double>();
  for (int grp = 0; grp < c.groups; ++grp) {
    CAPTURE(grp);
    const Eigen::MatrixXd gx = layout_of(grad, c.ax, c.groups, grp);
    const Eigen::MatrixXd xc = reference::center_rows(layout_of(z, c.ax, c.groups, grp));
    REQUIRE(gx.norm() > 0.0);
    REQUIRE(xc.norm() > 0.0);
    CHECK(std::abs(inner(gx, xc)) / (gx.norm() * xc.norm()) <= tolerance<T>::orthogonality);
    const double row_sum_bound = (std::is_same_v<T, double> ? 1e-12 : 1e-5) * gx.norm();
    CHECK(gx.rowwise().sum().cwiseAbs().maxCoeff() <= row_sum_bound);
  }
}

/// docs/math.md#check-1 (groups = 1): the features-axis result on Z is the samples-axis result on
/// Zᵀ, transposed back; the same for the gradient.
template <class T, class Runner = cpu_runner>
void check_axis_mapping(config c, std::uint64_t seed) {
  c.groups = 1;
  c.ax = axis::features;
  config transposed = c;
  transposed.ax = axis::samples;
  const problem_size p = small_problem(axis::features);
  CAPTURE(describe(c), seed, p.n, p.d);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, axis::features, 1, 10.0, seed));
  const Eigen::MatrixXd g = rounded_to<T>(randn(p.n, p.d, seed + 19));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<T> zt = z.cast<T>();
  const row_matrix<T> gt = g.cast<T>();
  const row_matrix<T> z_tr = z.transpose().cast<T>();
  const row_matrix<T> g_tr = g.transpose().cast<T>();

  const row_matrix<T> y = Runner::template forward<T>(c, zt);
  const row_matrix<T> y_tr = Runner::template forward<T>(transposed, z_tr);
  CHECK(rel_error(y, y_tr.transpose()) <= tolerance<T>::invariance);
  const row_matrix<T> gx = Runner::template backward<T>(c, zt, gt);
  const row_matrix<T> gx_tr = Runner::template backward<T>(transposed, z_tr, g_tr);
  CHECK(rel_error(gx, gx_tr.transpose()) <= tolerance<T>::invariance);
}

/// Applies fn (K×M layout → K×M layout) to every group of an N×D embedding.
template <class Fn>
[[nodiscard]] Eigen::MatrixXd map_layouts(const Eigen::MatrixXd& z, axis ax, int groups, Fn&& fn) {
  std::vector<Eigen::MatrixXd> layouts;
  for (int g = 0; g < groups; ++g) {
    layouts.push_back(fn(layout_of(z, ax, groups, g), g));
  }
  return from_layouts(layouts, ax);
}

/**
 * @brief docs/math.md#check-8 / P6, generalised: Y(cX + c·b1ᵀ) = c^exponent · Y(X) per group
 *        for a scale c (the check's c ∈ {1e-3, 3.7, 1e3}) (exponent 0 for scale-invariant
 *        transforms, 1 − 2p for Σ^{-p}).
 */
template <class T, class Runner = cpu_runner>
void check_scale_and_shift(
    const config& c, std::uint64_t seed, double scale, double exponent, double tol) {
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed, p.n, p.d, scale, exponent);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  rng_t rng(seed + 23);
  const Eigen::MatrixXd moved =
      rounded_to<T>(map_layouts(z, c.ax, c.groups, [&](const Eigen::MatrixXd& x, int) {
        Eigen::MatrixXd out = scale * x;
        out.colwise() += scale * random_offset(x.rows(), 3.0, rng);
        return out;
      }));
  const row_matrix<T> zt = z.cast<T>();
  const row_matrix<T> mt = moved.cast<T>();
  const Eigen::MatrixXd y = Runner::template forward<T>(c, zt).template cast<double>();
  const Eigen::MatrixXd y_moved = Runner::template forward<T>(c, mt).template cast<double>();
  CHECK(rel_error(y_moved, std::pow(scale, exponent) * y) <= tol);
}

/// How a transform responds to permuting the K rows of its layout by Π.
enum class row_permutation { equivariant, invariant, unchecked };

/**
 * @brief docs/math.md#check-9: permuting the M observations permutes Y's observations (every
 *        instance); permuting the K rows by Π gives ΠY (spectral functions) or Y (PCA).
 */
template <class T, class Runner = cpu_runner>
void check_permutations(const config& c, std::uint64_t seed, row_permutation rows) {
  const problem_size p = small_problem(c.ax);
  CAPTURE(describe(c), seed, p.n, p.d);
  const layout_shape s = shape_of(p.n, p.d, c.ax, c.groups);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, c.ax, c.groups, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  const auto perm_m = random_permutation(s.observations, seed + 29);
  const auto perm_k = random_permutation(s.size, seed + 31);
  const Eigen::VectorXi identity_order =
      Eigen::VectorXi::LinSpaced(s.observations, 0, static_cast<int>(s.observations) - 1);
  REQUIRE((perm_m.indices().array() != identity_order.array()).any());
  REQUIRE((perm_k.indices().head(s.size).array() != identity_order.head(s.size).array()).any());
  const row_matrix<T> zt = z.cast<T>();
  const Eigen::MatrixXd y = Runner::template forward<T>(c, zt).template cast<double>();

  const auto by_observation = [&](const Eigen::MatrixXd& x, int) -> Eigen::MatrixXd {
    return x * perm_m;
  };
  const row_matrix<T> z_m = map_layouts(z, c.ax, c.groups, by_observation).template cast<T>();
  CHECK(rel_error(Runner::template forward<T>(c, z_m),
                  map_layouts(y, c.ax, c.groups, by_observation)) <= tolerance<T>::invariance);

  if (rows == row_permutation::unchecked) {
    return;
  }
  const auto by_row = [&](const Eigen::MatrixXd& x, int) -> Eigen::MatrixXd { return perm_k * x; };
  const row_matrix<T> z_k = map_layouts(z, c.ax, c.groups, by_row).template cast<T>();
  const Eigen::MatrixXd expected =
      rows == row_permutation::equivariant ? map_layouts(y, c.ax, c.groups, by_row) : y;
  CHECK(rel_error(Runner::template forward<T>(c, z_k), expected) <= tolerance<T>::invariance);
}

/// Σ_Y (K×K, double) of one group of an output, via the reference covariance.
[[nodiscard]] inline Eigen::MatrixXd output_covariance(const Eigen::MatrixXd& y,
                                                       const config& c,
                                                       int group = 0) {
  return reference::covariance(y, c.ax, c.groups, group, 0.0);
}

}  // namespace spectral_test
