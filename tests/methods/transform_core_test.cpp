// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The transform front end shared by every instance: centring and covariance
// (docs/math.md#checks-layout), groups, zero-copy input/output over caller memory, layouts, and
// reuse of a context.

// This file hosts the explicit instantiations of the entry points declared in instances.hpp.
#define SPECTRAL_TEST_INSTANTIATE_ENTRY_POINTS
#include "instances.hpp"

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>

#include <limits>
#include <vector>

namespace spectral_test {
SPECTRAL_TEST_INSTANCE_ENTRY_POINTS(template, float)
SPECTRAL_TEST_INSTANCE_ENTRY_POINTS(template, double)
}  // namespace spectral_test

using namespace spectral_test;
using Catch::Generators::range;

namespace {

/// Every method of the library's registry (power p = 0.75, IterNorm T = 4).
const std::vector<config> all_instances = registered_instances();

config instance(std::size_t i, axis ax, int groups) {
  config c = all_instances.at(i);
  c.ax = ax;
  c.groups = groups;
  return c;
}

config instance(method kind, axis ax, int groups) {
  config c{.kind = kind, .ax = ax, .groups = groups};
  return c;
}

}  // namespace

TEMPLATE_TEST_CASE("centred input has zero row sums and sigma is symmetric PSD (check 2)",
                   "[core][cpu][properties]",
                   float,
                   double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 2, 3);
  const config c = instance(method::iter_norm, ax, groups);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = 4001 + static_cast<std::uint64_t>(groups);
  CAPTURE(describe(c), seed);
  // Large offsets: centring must remove them.
  const Eigen::MatrixXd z =
      rounded_to<TestType>(map_layouts(make_embedding(p.n, p.d, ax, groups, 10.0, seed), ax, groups,
                                       [](const Eigen::MatrixXd& x, int g) -> Eigen::MatrixXd {
                                         return (x.array() + 10.0 * (g + 1)).matrix();
                                       }));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<TestType> zt = z.cast<TestType>();
  const spectral::iter_norm_transform<TestType> t{spectral::iter_norm{4}, options_of(c)};
  const auto r = t.forward(zt);
  const Eigen::MatrixXd centred = r.context.centered().template cast<double>();
  const double scale = z.cwiseAbs().maxCoeff();
  const double row_tol = (std::is_same_v<TestType, double> ? 1e-12 : 1e-5) * scale;
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const Eigen::MatrixXd xc = layout_of(centred, ax, groups, g);
    CHECK(xc.rowwise().sum().cwiseAbs().maxCoeff() <= row_tol * static_cast<double>(xc.cols()));
    CHECK(rel_error(xc, reference::center_rows(layout_of(z, ax, groups, g))) <=
          tolerance<TestType>::forward);
    const spectral::matrix<TestType> sigma = spectral::covariance<TestType>(zt, options_of(c), g);
    const Eigen::MatrixXd sigma_d = sigma.template cast<double>();
    CHECK((sigma_d - sigma_d.transpose()).norm() == 0.0);
    CHECK(symmetric_eigenvalues(sigma_d).minCoeff() >=
          -tolerance<TestType>::identity * sigma_d.norm());
    CHECK(rel_error(sigma_d, reference::covariance(z, ax, groups, g)) <=
          tolerance<TestType>::forward);
  }
  if (ax == axis::features) {
    CHECK(rel_error(r.context.feature_mean(), z.colwise().mean().transpose()) <=
          tolerance<TestType>::forward);
  }
}

TEMPLATE_TEST_CASE("covariance applies eps to the diagonal", "[core][cpu][eps]", float, double) {
  const axis ax = GENERATE(axis::features, axis::samples);
  const problem_size p = small_problem(ax);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(p.n, p.d, ax, 2, 10.0, 4101));
  const row_matrix<TestType> zt = z.cast<TestType>();
  spectral::options opts = options_of(instance(method::zca, ax, 2));
  opts.eps = 0.25;
  const Eigen::MatrixXd sigma = spectral::covariance<TestType>(zt, opts, 1).template cast<double>();
  CHECK(rel_error(sigma, reference::covariance(z, ax, 2, 1, 0.25)) <= tolerance<TestType>::forward);
}

TEMPLATE_TEST_CASE("groups transform each column block on its own",
                   "[core][cpu][groups]",
                   float,
                   double) {
  const std::size_t which = GENERATE(range(std::size_t{0}, all_instances.size()));
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(2, 3);
  const config c = instance(which, ax, groups);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = 4201;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<TestType>(make_embedding(p.n, p.d, ax, groups, 10.0, seed));
  const Eigen::MatrixXd gy = rounded_to<TestType>(randn(p.n, p.d, seed + 1));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<TestType> zt = z.cast<TestType>();
  const row_matrix<TestType> gt = gy.cast<TestType>();
  const row_matrix<TestType> y = lib_forward<TestType>(c, zt);
  const row_matrix<TestType> gx = lib_backward<TestType>(c, zt, gt);
  config single = c;
  single.groups = 1;
  const Eigen::Index width = p.d / groups;
  for (int g = 0; g < groups; ++g) {
    CAPTURE(g);
    const row_matrix<TestType> block = zt.middleCols(g * width, width);
    const row_matrix<TestType> g_block = gt.middleCols(g * width, width);
    const double tol = std::is_same_v<TestType, double> ? 1e-13 : 1e-6;
    CHECK(rel_error(y.middleCols(g * width, width), lib_forward<TestType>(single, block)) <= tol);
    CHECK(rel_error(gx.middleCols(g * width, width),
                    lib_backward<TestType>(single, block, g_block)) <= tol);
  }
  // A block-diagonal transform: groups ≠ one transform of the whole matrix.
  CHECK(rel_error(y, lib_forward<TestType>(single, zt)) > 1e-3);
}

TEMPLATE_TEST_CASE("forward and backward work on caller memory without copies (zero-copy)",
                   "[core][cpu][zero_copy]",
                   float,
                   double) {
  using T = TestType;
  const std::size_t which = GENERATE(range(std::size_t{0}, all_instances.size()));
  const axis ax = GENERATE(axis::features, axis::samples);
  const config c = instance(which, ax, 2);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = 4301;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, ax, 2, 10.0, seed));
  const Eigen::MatrixXd gy = rounded_to<T>(randn(p.n, p.d, seed + 1));
  require_non_degenerate(z, c, 1e2);

  // C-order buffers as a torch tensor / numpy array would hand them over.
  const row_matrix<T> z_rows = z.cast<T>();
  const row_matrix<T> g_rows = gy.cast<T>();
  const std::vector<T> input(z_rows.data(), z_rows.data() + z_rows.size());
  const std::vector<T> grad_out(g_rows.data(), g_rows.data() + g_rows.size());
  const std::vector<T> input_copy = input;
  std::vector<T> output(input.size(), std::numeric_limits<T>::quiet_NaN());
  std::vector<T> grad_in(input.size(), std::numeric_limits<T>::quiet_NaN());

  const auto z_map = spectral::embedding_map(input.data(), p.n, p.d);
  const spectral::embedding_cref<T> bound = z_map;
  CHECK(bound.data() == input.data());  // binding a row-major Map copies nothing

  with_transform<T>(c, [&](const auto& t) {
    auto out_map = spectral::embedding_map(output.data(), p.n, p.d);
    const auto ctx = t.forward(z_map, out_map);
    const auto allocated = t.forward(z_rows);
    CHECK(input == input_copy);  // input untouched
    const Eigen::Map<const row_matrix<T>> y_view(output.data(), p.n, p.d);
    REQUIRE(y_view.allFinite());  // every NaN overwritten
    CHECK(rel_error(y_view, allocated.output) == 0.0);

    auto grad_map = spectral::embedding_map(grad_in.data(), p.n, p.d);
    t.backward(ctx, spectral::embedding_map(grad_out.data(), p.n, p.d), grad_map);
    const Eigen::Map<const row_matrix<T>> gx_view(grad_in.data(), p.n, p.d);
    REQUIRE(gx_view.allFinite());
    CHECK(rel_error(gx_view, t.backward(allocated.context, g_rows)) == 0.0);

    // Column-major input (one temporary copy, same numbers).
    const spectral::matrix<T> z_cols = z.cast<T>();
    const spectral::embedding_cref<T> col_bound = z_cols;
    CHECK(col_bound.data() != z_cols.data());
    CHECK(rel_error(t.forward(z_cols).output, allocated.output) == 0.0);

    // Output into a column block of a wider caller buffer (outer stride ≠ D).
    row_matrix<T> wide = row_matrix<T>::Constant(p.n, p.d + 5, T(7));
    auto window = wide.middleCols(2, p.d);
    const auto ctx_window = t.forward(z_rows, window);
    CHECK(rel_error(wide.middleCols(2, p.d), allocated.output) == 0.0);
    CHECK((wide.leftCols(2).array() == T(7)).all());
    CHECK((wide.rightCols(3).array() == T(7)).all());
    REQUIRE(ctx_window.opts.groups == 2);
  });
}

TEMPLATE_TEST_CASE("a context can be reused and is independent of later calls",
                   "[core][cpu]",
                   float,
                   double) {
  using T = TestType;
  const std::size_t which = GENERATE(range(std::size_t{0}, all_instances.size()));
  const axis ax = GENERATE(axis::features, axis::samples);
  const config c = instance(which, ax, 1);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = 4401;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z1 = rounded_to<T>(make_embedding(p.n, p.d, ax, 1, 10.0, seed));
  const Eigen::MatrixXd z2 = rounded_to<T>(make_embedding(p.n, p.d, ax, 1, 10.0, seed + 1));
  const Eigen::MatrixXd gy = rounded_to<T>(randn(p.n, p.d, seed + 2));
  require_non_degenerate(z1, c, 1e2);
  require_non_degenerate(z2, c, 1e2);
  with_transform<T>(c, [&](const auto& t) {
    const row_matrix<T> a = z1.cast<T>();
    const row_matrix<T> b = z2.cast<T>();
    const row_matrix<T> g = gy.cast<T>();
    const auto r1 = t.forward(a);
    const row_matrix<T> first = t.backward(r1.context, g);
    const auto r2 = t.forward(b);
    CHECK(rel_error(t.backward(r1.context, g), first) == 0.0);
    CHECK(rel_error(t.backward(r2.context, g), first) > 1e-3);
  });
}

// Backward writes grad_in while reading grad_out (noalias products): in-place use must give the
// same gradient (found as a silent rel error ≈ 1.1 before the library copied aliased input).
TEMPLATE_TEST_CASE("backward into the memory of grad_out is exact",
                   "[core][cpu][aliasing]",
                   float,
                   double) {
  using T = TestType;
  const axis ax = GENERATE(axis::features, axis::samples);
  const config c = instance(method::zca, ax, 1);
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = 4501;
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, ax, 1, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  const spectral::zca_transform<T> t{{}, options_of(c)};
  const row_matrix<T> zt = z.cast<T>();
  const row_matrix<T> g = randn(p.n, p.d, seed + 1).cast<T>();
  const auto r = t.forward(zt);
  const row_matrix<T> expected = t.backward(r.context, g);
  row_matrix<T> buffer = g;
  t.backward(r.context, buffer, buffer);
  CHECK(rel_error(buffer, expected) <= tolerance<T>::backward);
}
