// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The bridge against LibTorch autograd of the reference formulas (bench/torch_reference: eigh,
// Cholesky and the Newton loop written with torch ops), in double, every instance and axis; and
// the INTL loss module against the library's own intl_objective.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "bridge/intl_loss.hpp"
#include "bridge/spectral_function.hpp"
#include "torch_reference/reference.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <torch/autograd.h>
#include <torch/types.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

namespace {

using spectral::torch_bridge::transform_spec;
namespace reference = spectral::bench::torch_reference;

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

torch::Tensor anisotropic(std::int64_t n, std::int64_t d, std::uint64_t seed) {
  torch::manual_seed(seed);
  const auto scale = torch::pow(10.0, -torch::arange(d, torch::kFloat64) / static_cast<double>(d));
  return torch::randn({n, d}, torch::kFloat64) * scale + 0.3;
}

}  // namespace

TEST_CASE("bridge: gradients equal LibTorch autograd of the reference formulas (double)",
          "[trainer][bridge]") {
  for (const spectral::axis ax : {spectral::axis::samples, spectral::axis::features}) {
    for (const std::string_view name : spectral::method_names()) {  // the library's registry
      CAPTURE(spectral::to_string(ax), name);
      // K = 8 < M = 24 on either axis: Σ is positive definite, no eps needed.
      const auto z = ax == spectral::axis::samples ? anisotropic(8, 24, 1) : anisotropic(24, 8, 1);
      const auto grad_out = torch::randn_like(z);
      transform_spec spec;
      spec.method = spectral::parse_method(name);
      spec.method.power = spectral::bench::power_p;
      spec.method.iterations = spectral::bench::iter_norm_iterations;
      spec.opts.axis = ax;

      const auto z_ref = z.clone().requires_grad_(true);
      const auto y_ref = reference::forward(z_ref, ax, spec.method, 0.0);
      const auto g_ref = torch::autograd::grad({y_ref}, {z_ref}, {grad_out})[0];

      const auto z_lib = z.clone().requires_grad_(true);
      const auto y_lib = spectral::torch_bridge::spectral_transform_op(z_lib, spec);
      const auto g_lib = torch::autograd::grad({y_lib}, {z_lib}, {grad_out})[0];

      REQUIRE(g_ref.abs().max().item<double>() > 1e-6);
      CHECK(relative(y_lib, y_ref) <= 1e-10);
      CHECK(relative(g_lib, g_ref) <= 1e-8);
    }
  }
}

TEST_CASE("bridge: without a gradient the output is the same and no graph is kept",
          "[trainer][bridge]") {
  for (const char* name : {"zca", "cholesky", "iternorm"}) {
    CAPTURE(name);
    transform_spec spec;
    spec.method = spectral::parse_method(name);
    const auto z = anisotropic(8, 24, 5);
    using spectral::torch_bridge::spectral_transform_op;
    const auto y_grad = spectral_transform_op(z.clone().requires_grad_(true), spec);
    REQUIRE(y_grad.grad_fn() != nullptr);
    const auto y_plain = spectral_transform_op(z, spec);  // an input that needs no gradient
    torch::Tensor y_no_grad_mode;
    {
      const torch::NoGradGuard no_grad;
      y_no_grad_mode = spectral_transform_op(z.clone().requires_grad_(true), spec);
    }
    CHECK(y_plain.grad_fn() == nullptr);
    CHECK(y_no_grad_mode.grad_fn() == nullptr);
    CHECK(torch::equal(y_plain, y_grad.detach()));  // forward-only gives forward's bits
    CHECK(torch::equal(y_no_grad_mode, y_grad.detach()));
  }
}

TEST_CASE("bridge: float and autocast inputs, and bad tensors", "[trainer][bridge]") {
  transform_spec spec;
  const auto z = anisotropic(16, 32, 2).to(torch::kFloat32).requires_grad_(true);
  const auto y = spectral::torch_bridge::spectral_transform_op(z, spec);
  CHECK(y.scalar_type() == torch::kFloat32);
  const auto g = torch::autograd::grad({y.pow(2).sum()}, {z})[0];
  CHECK(g.scalar_type() == torch::kFloat32);
  CHECK(torch::isfinite(g).all().item<bool>());

  const auto half = anisotropic(16, 32, 3).to(torch::kBFloat16).requires_grad_(true);
  const auto y_half = spectral::torch_bridge::spectral_transform_op(half, spec);
  CHECK(y_half.scalar_type() == torch::kFloat32);  // computed in float32
  const auto g_half = torch::autograd::grad({y_half.sum()}, {half})[0];
  CHECK(g_half.scalar_type() == torch::kBFloat16);

  using Catch::Matchers::ContainsSubstring;
  REQUIRE_THROWS_WITH(spectral::torch_bridge::spectral_transform_op(torch::zeros({2, 3, 4}), spec),
                      ContainsSubstring("z: must be a 2-D"));
  REQUIRE_THROWS_WITH(
      spectral::torch_bridge::spectral_transform_op(torch::zeros({4, 4}, torch::kInt64), spec),
      ContainsSubstring("z: must be floating point"));
  auto bad = anisotropic(16, 32, 4);
  bad.index_put_({3, 5}, std::numeric_limits<double>::quiet_NaN());
  REQUIRE_THROWS_AS(spectral::torch_bridge::spectral_transform_op(bad, spec),
                    spectral::invalid_input);
}

TEST_CASE("bridge: the INTL loss module equals the library's intl_objective", "[trainer][bridge]") {
  for (const spectral::axis ax : {spectral::axis::samples, spectral::axis::features}) {
    CAPTURE(spectral::to_string(ax));
    transform_spec spec;
    spec.opts.axis = ax;
    const std::int64_t n = ax == spectral::axis::samples ? 16 : 48;
    const std::int64_t d = ax == spectral::axis::samples ? 40 : 12;
    const double beta = spectral::trade_off_beta(ax == spectral::axis::samples ? n : d);
    std::vector<torch::Tensor> views;
    std::vector<spectral::row_matrix<double>> host;
    for (int v = 0; v < 3; ++v) {
      views.push_back(anisotropic(n, d, 10 + static_cast<std::uint64_t>(v)).requires_grad_(true));
      host.emplace_back(spectral::embedding_map(views.back().data_ptr<double>(), n, d));
    }
    spectral::torch_bridge::IntlLoss loss(spec, beta);
    const auto terms = loss->forward(views);
    const auto grads = torch::autograd::grad({terms.total}, views);

    const spectral::intl_objective<double> objective(
        spectral::iter_norm_transform<double>{spectral::iter_norm{4}, spec.opts}, beta);
    std::vector<spectral::row_matrix<double>> expected_grads;
    const auto expected = objective.evaluate(host, &expected_grads);
    CHECK(std::abs(terms.total.item<double>() - expected.total) <=
          1e-10 * std::abs(expected.total));
    CHECK(std::abs(terms.trace.item<double>() - expected.trace) <=
          1e-10 * std::abs(expected.trace));
    for (std::size_t v = 0; v < views.size(); ++v) {
      const auto expected_grad =
          torch::from_blob(expected_grads[v].data(), {n, d}, torch::kFloat64);
      CHECK(relative(grads[v], expected_grad) <= 1e-9);
    }
  }
}
