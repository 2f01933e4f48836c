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
#include <vector>

using namespace spectral_test;
using Catch::Generators::range;

namespace {

/// Same shape and the same bits (memcmp: a −0 for a +0 would count).
template <class T>
[[nodiscard]] bool same_bits(const row_matrix<T>& a, const row_matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(T)) == 0;
}

/// Every method of the library's registry (p = 0.75, T = 5), and IterNorm's eigen route too.
const std::vector<config> instances = [] {
  std::vector<config> out = registered_instances(0.75, 5);
  out.push_back({.kind = method::iter_norm, .iterations = 5, .eigen_route = true});
  return out;
}();

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

/// A hook method, W = Σ (any W does here), that counts the solves with and without a state.
struct counting_method {
  template <class T, class Backend>
  struct state {
    typename Backend::template buffer<T> kept;  ///< what a backward would read
  };
  solve_counts* counts = nullptr;

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "counting"; }
  template <class Backend, class T>
  void compute(const spectral::primitives<Backend, T>& p,
               typename Backend::template buffer<T>&& sigma,
               spectral::index_t size,
               spectral::index_t count,
               spectral::batch<T> w,
               state<T, Backend>* st,
               spectral::status_word* /*status*/,
               spectral::index_t /*covariance_size*/) const {
    ++(st != nullptr ? counts->with_state : counts->forward_only);
    p.for_each(
        spectral::extent::of(w),
        spectral::detail::copy_entries<T>{
            spectral::dense_batch(static_cast<const T*>(sigma.data()), size, size, count), w});
    if (st != nullptr) {
      st->kept = std::move(sigma);
    }
  }
  template <class Backend, class T>
  void gradient(const spectral::primitives<Backend, T>& p,
                const state<T, Backend>& /*st*/,
                spectral::batch<const T> /*w*/,
                spectral::batch<const T> grad_w,
                spectral::batch<T> grad_sigma) const {
    p.for_each(spectral::extent::of(grad_sigma),
               spectral::detail::copy_entries<T>{grad_w, grad_sigma});
  }
};

}  // namespace

TEMPLATE_TEST_CASE("apply: forward's output bit for bit, for every instance",
                   "[forward_only][cpu]",
                   float,
                   double) {
  using T = TestType;
  const std::size_t which = GENERATE(range(std::size_t{0}, instances.size()));
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
                   "[forward_only][cpu][gram_side]",
                   float,
                   double) {
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
  const spectral::iter_norm_transform<float> transform{
      spectral::iter_norm{5}, {.axis = spectral::axis::samples, .groups = 2}};
  const row_matrix<float> z = randn(8, 72, 4300).cast<float>();
  const row_matrix<float> expected = transform.forward(z).output;
  row_matrix<float> in_place = z;
  transform.apply(in_place, in_place);
  CHECK(same_bits(in_place, expected));
}

TEST_CASE("apply keeps no backward state", "[forward_only][cpu]") {
  using transform_t = spectral::spectral_transform<double, counting_method>;
  // No context to hold anything: apply returns nothing (or only Y).
  static_assert(std::is_void_v<decltype(std::declval<const transform_t&>().apply(
                    std::declval<spectral::embedding_cref<double>>(),
                    std::declval<spectral::embedding_ref<double>>()))>);
  static_assert(std::is_same_v<decltype(std::declval<const transform_t&>().apply(
                                   std::declval<spectral::embedding_cref<double>>())),
                               row_matrix<double>>);

  const row_matrix<double> z = randn(40, 12, 4400);
  const spectral::options opts{.groups = 3};

  SECTION("apply asks the method for no state") {
    solve_counts counts;
    const transform_t transform{counting_method{.counts = &counts}, opts};
    const row_matrix<double> applied = transform.apply(z);
    CHECK(counts.forward_only == 1);  // once for all groups
    CHECK(counts.with_state == 0);
    const row_matrix<double> forward = transform.forward(z).output;
    CHECK(counts.with_state == 1);
    CHECK(counts.forward_only == 1);
    CHECK(same_bits(applied, forward));
  }
  SECTION("IterNorm: the state-free Newton solve gives compute's W from no saved iterate") {
    const spectral::iter_norm method{6, spectral::iter_norm_solver::newton};
    const spectral::matrix<double> sigma =
        spectral::covariance<double>(z, {.axis = spectral::axis::features});
    spectral::cpu::backend be;
    const spectral::primitives<spectral::cpu::backend, double> p{be};
    const auto k = sigma.rows();
    spectral::matrix<double> w_kept(k, k);
    spectral::matrix<double> w_free(k, k);
    spectral::iter_norm::state<double, spectral::cpu::backend> st;
    spectral::status_word status{};
    method.compute(p, be.upload<double>(sigma.data(), sigma.size()), k, 1,
                   spectral::dense_batch(w_kept.data(), k, k, 1), &st, &status, k);
    // What forward keeps for backward: P, P², P³ of T − 1 steps.
    CHECK(st.steps == 5);
    CHECK(static_cast<spectral::index_t>(st.iterates.size()) == 5 * 3 * k * k);
    method.compute(p, be.upload<double>(sigma.data(), sigma.size()), k, 1,
                   spectral::dense_batch(w_free.data(), k, k, 1),
                   static_cast<decltype(st)*>(nullptr), &status, k);
    CHECK(status.flags == 0U);
    REQUIRE(w_kept.cwiseAbs().maxCoeff() > 0.1);
    CHECK(std::memcmp(w_free.data(), w_kept.data(),
                      static_cast<std::size_t>(w_kept.size()) * sizeof(double)) == 0);
  }
}
