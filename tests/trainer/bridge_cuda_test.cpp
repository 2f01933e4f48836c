// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The bridge on CUDA tensors (the library's CUDA backend through bridge/cuda_bridge.cu) against
// the bridge on the CPU, every instance and axis, in double and float; fp16 input under autocast;
// and the reference engine (LibTorch ops + autograd, the throughput peer) against the library.
// Tests tagged [cuda] skip where no GPU is visible or the trainer was built without CUDA.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "bridge/spectral_function.hpp"
#include "train/device.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace {

using spectral::torch_bridge::transform_engine;
using spectral::torch_bridge::transform_spec;

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).norm().item<double>() / b.norm().item<double>();
}

/// Seeded, anisotropic N×D data (column scales 1..3), never all zeros.
torch::Tensor embedding(std::int64_t n,
                        std::int64_t d,
                        torch::ScalarType type,
                        std::uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto scales = torch::linspace(1.0, 3.0, d, torch::kFloat64);
  return (torch::randn({n, d}, generator, torch::kFloat64) * scales).to(type);
}

/// Y and ∂⟨G, Y⟩/∂Z of the transform, with G fixed by a seed (times `g_scale` when given);
/// everything returned on the CPU.
std::pair<torch::Tensor, torch::Tensor> output_and_gradient(const torch::Tensor& z,
                                                            const transform_spec& spec,
                                                            const torch::Tensor& g_scale = {}) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(99);
  auto g = torch::randn(z.sizes(), generator, torch::kFloat64);
  if (g_scale.defined()) {
    g = g * g_scale;
  }
  g = g.to(z.device());
  const auto input = z.detach().clone().set_requires_grad(true);
  const auto y = spectral::torch_bridge::spectral_transform_op(input, spec);
  (y.to(torch::kFloat64) * g).sum().backward();
  return {y.detach().to(torch::kCPU, torch::kFloat64),
          input.grad().to(torch::kCPU, torch::kFloat64)};
}

/// Every method of the library's registry.
auto every_method() {
  const auto names = spectral::method_names();
  return Catch::Generators::from_range(names.begin(), names.end());
}

transform_spec make_spec(std::string_view name, spectral::axis axis, std::int64_t groups) {
  transform_spec spec;
  spec.method = spectral::parse_method(name);
  spec.method.power = 0.3;
  spec.method.iterations = 5;
  spec.opts.axis = axis;
  spec.opts.groups = groups;
  return spec;
}

bool cuda_ready() {
  return spectral::torch_bridge::compat::built_with_cuda && torch::cuda::is_available();
}

}  // namespace

TEST_CASE("the bridge on CUDA tensors equals the bridge on the CPU", "[bridge][cuda]") {
  if (!cuda_ready()) {
    SKIP("no CUDA device, or the trainer was built without the CUDA bridge");
  }
  const std::string_view kind = GENERATE(every_method());
  const auto axis = GENERATE(spectral::axis::samples, spectral::axis::features);
  const auto type = GENERATE(torch::kFloat64, torch::kFloat32);
  const std::int64_t groups = axis == spectral::axis::features ? 2 : 1;
  const auto spec = make_spec(kind, axis, groups);
  // Samples axis: N = 12 samples of D = 40 (Σ is 12×12); features axis: 2 groups of 6 features
  // over N = 40 samples.
  const auto z =
      axis == spectral::axis::samples ? embedding(12, 40, type, 5) : embedding(40, 12, type, 5);
  CAPTURE(kind, static_cast<int>(axis), std::string(c10::toString(type)));
  const auto [y_cpu, g_cpu] = output_and_gradient(z, spec);
  const auto [y_gpu, g_gpu] = output_and_gradient(z.to(torch::kCUDA), spec);
  const double tolerance = type == torch::kFloat64 ? 1e-9 : 2e-3;
  CHECK(y_cpu.abs().sum().item<double>() > 1.0);
  CHECK(relative(y_gpu, y_cpu) < tolerance);
  CHECK(relative(g_gpu, g_cpu) < tolerance);
}

TEST_CASE("fp16 input under autocast runs the CUDA transform in float32", "[bridge][cuda]") {
  if (!cuda_ready()) {
    SKIP("no CUDA device, or the trainer was built without the CUDA bridge");
  }
  const auto spec = make_spec("iternorm", spectral::axis::samples, 1);
  const auto z = embedding(64, 256, torch::kFloat32, 8).to(torch::kCUDA);
  torch::Tensor y_half;
  {
    const spectral::trainer::autocast_guard autocast(true);
    y_half = spectral::torch_bridge::spectral_transform_op(z.to(torch::kHalf), spec);
  }
  CHECK(y_half.scalar_type() == torch::kFloat32);
  const auto y_float =
      spectral::torch_bridge::spectral_transform_op(z.to(torch::kHalf).to(torch::kFloat32), spec);
  CHECK(relative(y_half, y_float) < 1e-6);
  CHECK(torch::isfinite(y_half).all().item<bool>());
}

TEST_CASE("the reference engine computes what the library computes", "[bridge]") {
  const std::string_view kind = GENERATE(every_method());
  const auto axis = GENERATE(spectral::axis::samples, spectral::axis::features);
  auto spec = make_spec(kind, axis, 1);
  const auto z = axis == spectral::axis::samples ? embedding(10, 30, torch::kFloat64, 3)
                                                 : embedding(30, 10, torch::kFloat64, 3);
  CAPTURE(kind, static_cast<int>(axis));
  const auto [y_library, g_library] = output_and_gradient(z, spec);
  spec.engine = transform_engine::reference;
  auto [y_reference, g_reference] = output_and_gradient(z, spec);
  if (kind == spectral::pca_whitening::name()) {
    // PCA's eigenvector signs are a convention the reference does not fix: flip each of its
    // components (columns over features, rows over samples) to the library's sign, and weigh
    // the output's gradient alike (∂⟨G, S·Y⟩ = ∂⟨S·G, Y⟩).
    const int along = axis == spectral::axis::features ? 0 : 1;
    const auto signs = (y_reference * y_library).sum(along, /*keepdim=*/true).sign();
    REQUIRE(signs.abs().min().item<double>() == 1.0);
    y_reference = y_reference * signs;
    g_reference = output_and_gradient(z, spec, signs).second;
  }
  CHECK(relative(y_reference, y_library) < 1e-9);
  CHECK(relative(g_reference, g_library) < 1e-8);
}

TEST_CASE("reference engine: one group only, named in the error", "[bridge]") {
  auto spec = make_spec("zca", spectral::axis::features, 2);
  spec.engine = transform_engine::reference;
  CHECK_THROWS_AS(
      spectral::torch_bridge::spectral_transform_op(embedding(20, 8, torch::kFloat64, 1), spec),
      spectral::invalid_input);
}

TEST_CASE("loss scaling: unscaled gradients equal plain ones; Inf skips and halves", "[bridge]") {
  auto w = torch::tensor({1.5, -2.0, 0.25}, torch::kFloat32).set_requires_grad(true);
  const auto loss = [&] { return (w * w * torch::tensor({1.0, 2.0, 3.0})).sum(); };
  loss().backward();
  const auto plain = w.grad().clone();
  w.mutable_grad().zero_();
  spectral::trainer::loss_scaler scaler(true, 1024.0, 2);
  scaler.scale(loss()).backward();
  CHECK(torch::allclose(w.grad(), plain * 1024.0));
  REQUIRE(scaler.unscale({w}));
  CHECK(torch::allclose(w.grad(), plain));
  w.mutable_grad().fill_(std::numeric_limits<float>::infinity());
  CHECK_FALSE(scaler.unscale({w}));
  CHECK(scaler.current() == 512.0);
  CHECK(scaler.skipped() == 1);
  w.mutable_grad().fill_(1.0F);
  REQUIRE(scaler.unscale({w}));
  REQUIRE(scaler.unscale({w}));
  CHECK(scaler.current() == 1024.0);  // 2 good steps at interval 2: doubled
}

TEST_CASE("the device flag refuses unknown devices and CUDA in a CPU-only build", "[bridge]") {
  CHECK_THROWS_AS(spectral::trainer::parse_device("tpu"), spectral::invalid_input);
  if (!spectral::torch_bridge::compat::built_with_cuda) {
    CHECK_THROWS_AS(spectral::trainer::parse_device("cuda"), spectral::invalid_input);
  }
  CHECK(spectral::trainer::parse_device("cpu").is_cpu());
}
