// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The forward-only entry point spectral_transform::apply: forward's output bit for bit, for every
// instance, axis, group count and both sides of the Gram solve, with no context and no
// backward-only state (a method's state-free solve is the one it calls).

#include "instances.hpp"

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>

#include <cstring>
#include <iterator>
#include <string_view>
#include <type_traits>

using namespace spectral_test;
using Catch::Generators::range;

namespace {

/// Same shape and the same bits (memcmp: a −0 for a +0 would count).
template <class T>
[[nodiscard]] bool same_bits(const row_matrix<T>& a, const row_matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(T)) == 0;
}

const config instances[] = {
    {.kind = method::zca},
    {.kind = method::pca},
    {.kind = method::cholesky},
    {.kind = method::power, .power = 0.75},
    {.kind = method::iter_norm, .iterations = 5},
    {.kind = method::iter_norm, .iterations = 5, .eigen_route = true},
};

/// ZCA and power with eps, IterNorm without eps (both routes): solved on the Gram when M < K.
const config gram_cases[] = {
    {.kind = method::zca, .eps = 0.1},
    {.kind = method::power, .power = 0.3, .eps = 0.05},
    {.kind = method::iter_norm, .iterations = 5},
    {.kind = method::iter_norm, .iterations = 5, .eigen_route = true},
};

/// Counts which solve the transform asked for. Counters sit behind a pointer because forward
/// copies the method into its context.
struct solve_counts {
  int with_state = 0;
  int forward_only = 0;
};

/// A hook method, W = Σ (any W does here), with and without a state-free solve.
template <bool HasForwardOnly>
struct counting_method {
  template <class T>
  struct state {
    spectral::matrix<T> kept;  ///< what a backward would read
  };
  solve_counts* counts = nullptr;

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "counting"; }
  template <class Backend, class T>
  void compute(Backend /*tag*/, const spectral::matrix<T>& sigma, spectral::matrix<T>& w,
               state<T>& st) const {
    ++counts->with_state;
    w = sigma;
    st.kept = sigma;
  }
  template <class Backend, class T>
    requires HasForwardOnly
  void compute_forward_only(Backend /*tag*/, const spectral::matrix<T>& sigma,
                            spectral::matrix<T>& w) const {
    ++counts->forward_only;
    w = sigma;
  }
  template <class Backend, class T>
  [[nodiscard]] spectral::matrix<T> gradient(Backend /*tag*/, const state<T>& /*st*/,
                                             const spectral::matrix<T>& /*w*/,
                                             const spectral::matrix<T>& grad_w) const {
    return grad_w;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("apply: forward's output bit for bit, for every instance",
                   "[forward_only][cpu]", float, double) {
  using T = TestType;
  const std::size_t which = GENERATE(range(std::size_t{0}, std::size(instances)));
  const axis ax = GENERATE(axis::features, axis::samples);
  const int groups = GENERATE(1, 3);
  config c = instances[which];
  c.ax = ax;
  c.groups = groups;
  const problem_size p = small_problem(ax);
  const std::uint64_t seed = 4100 + 10 * which + static_cast<std::uint64_t>(groups);
  CAPTURE(describe(c), seed);
  const Eigen::MatrixXd z = rounded_to<T>(make_embedding(p.n, p.d, ax, groups, 10.0, seed));
  require_non_degenerate(z, c, 1e2);
  const row_matrix<T> zt = z.cast<T>();

  const row_matrix<T> forward = lib_forward<T>(c, zt);
  const row_matrix<T> applied = lib_apply<T>(c, zt);
  REQUIRE(forward.allFinite());
  REQUIRE(forward.cwiseAbs().maxCoeff() > T(0.1));  // a real output, not an empty agreement
  CHECK(same_bits(applied, forward));
}

TEMPLATE_TEST_CASE("apply: forward's output bit for bit on the smaller side (M < K)",
                   "[forward_only][cpu][gram_side]", float, double) {
  using T = TestType;
  // K = 24 features from M = 10 samples: solved on the 10×10 Gram (see gram_cases).
  const std::size_t which = GENERATE(range(std::size_t{0}, std::size(gram_cases)));
  const config c = gram_cases[which];
  CAPTURE(describe(c));
  const Eigen::MatrixXd z = rounded_to<T>(randn(10, 24, 4200 + which));
  const row_matrix<T> zt = z.cast<T>();
  const row_matrix<T> forward = lib_forward<T>(c, zt);
  REQUIRE(forward.cwiseAbs().maxCoeff() > T(0.1));
  CHECK(same_bits(lib_apply<T>(c, zt), forward));
}

TEST_CASE("apply in place: out may be z's own memory", "[forward_only][cpu]") {
  const spectral::iter_norm_transform<float> transform{spectral::iter_norm{5},
                                                       {.axis = spectral::axis::samples,
                                                        .groups = 2}};
  const row_matrix<float> z = randn(8, 72, 4300).cast<float>();
  const row_matrix<float> expected = transform.forward(z).output;
  row_matrix<float> in_place = z;
  transform.apply(in_place, in_place);
  CHECK(same_bits(in_place, expected));
}

TEST_CASE("apply keeps no backward state", "[forward_only][cpu]") {
  using transform_t = spectral::spectral_transform<double, counting_method<true>>;
  // No context to hold anything: apply returns nothing (or only Y).
  static_assert(std::is_void_v<decltype(std::declval<const transform_t&>().apply(
                    std::declval<spectral::embedding_cref<double>>(),
                    std::declval<spectral::embedding_ref<double>>()))>);
  static_assert(std::is_same_v<decltype(std::declval<const transform_t&>().apply(
                                   std::declval<spectral::embedding_cref<double>>())),
                               row_matrix<double>>);

  const row_matrix<double> z = randn(40, 12, 4400);
  const spectral::options opts{.groups = 3};

  SECTION("a method's state-free solve is the one apply calls") {
    solve_counts counts;
    const transform_t transform{counting_method<true>{.counts = &counts}, opts};
    const row_matrix<double> applied = transform.apply(z);
    CHECK(counts.forward_only == 3);  // once per group
    CHECK(counts.with_state == 0);
    const row_matrix<double> forward = transform.forward(z).output;
    CHECK(counts.with_state == 3);
    CHECK(counts.forward_only == 3);
    CHECK(same_bits(applied, forward));
  }
  SECTION("a method without one is solved with a state dropped at once") {
    solve_counts counts;
    const spectral::spectral_transform<double, counting_method<false>> transform{
        counting_method<false>{.counts = &counts}, opts};
    const row_matrix<double> applied = transform.apply(z);
    CHECK(counts.with_state == 3);
    CHECK(same_bits(applied, transform.forward(z).output));
  }
  SECTION("IterNorm: the state-free Newton solve gives compute's W from no saved iterate") {
    const spectral::iter_norm method{6, spectral::iter_norm_solver::newton};
    const spectral::matrix<double> sigma =
        spectral::covariance<double>(z, {.axis = spectral::axis::features});
    spectral::matrix<double> w_kept;
    spectral::matrix<double> w_free;
    spectral::iter_norm::state<double> st;
    method.compute(spectral::cpu::backend{}, sigma, w_kept, st);
    CHECK(st.iterates.size() == 5);  // what forward keeps for backward: P, P², P³ of T − 1 steps
    method.compute_forward_only(spectral::cpu::backend{}, sigma, w_free);
    REQUIRE(w_kept.cwiseAbs().maxCoeff() > 0.1);
    CHECK(w_free.rows() == 12);
    CHECK(std::memcmp(w_free.data(), w_kept.data(),
                      static_cast<std::size_t>(w_kept.size()) * sizeof(double)) == 0);
  }
}
