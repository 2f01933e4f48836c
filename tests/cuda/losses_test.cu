// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// INTL's losses, the INTL objective, running statistics, spectrum diagnostics and low-precision
// inputs on the GPU, each against the CPU library on the same seeded data.

#include "device_data.cuh"

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <type_traits>
#include <vector>

#include <cuda_fp16.h>

namespace {

using namespace spectral_test;
using spectral_test::gpu::row_matrix;

template <class T>
constexpr double gpu_tolerance() {
  return std::is_same_v<T, double> ? 1e-10 : 1e-4;
}

template <class T>
T read_scalar(const spectral::cuda::device_buffer<T>& value) {
  return gpu::download(value.data(), 1, 1)(0, 0);
}

}  // namespace

TEMPLATE_TEST_CASE("cuda: trace loss and normalised MSE match the CPU, values and gradients",
                   "[cuda][gpu][losses]",
                   float,
                   double) {
  SPECTRAL_REQUIRE_GPU();
  using T = TestType;
  const row_matrix<T> a = (randn(48, 20, 1) * 1.3).cast<T>();
  const row_matrix<T> b = (randn(48, 20, 2) + randn(48, 20, 3)).cast<T>();
  const auto d_a = gpu::upload(a);
  const auto d_b = gpu::upload(b);
  spectral::cuda::device_buffer<T> value(1, nullptr);
  for (const spectral::axis ax : {spectral::axis::features, spectral::axis::samples}) {
    CAPTURE(spectral::to_string(ax));
    row_matrix<T> cpu_grad(48, 20);
    spectral::embedding_ref<T> cpu_ref(cpu_grad);
    const T cpu_value = spectral::trace_loss<T>(a, ax, &cpu_ref);
    auto d_grad = gpu::upload(row_matrix<T>(row_matrix<T>::Zero(48, 20)));
    const auto grad_view = d_grad.view();
    spectral::cuda::trace_loss<T>(d_a.view(), ax, value.data(), &grad_view);
    CHECK(std::abs(read_scalar(value) - cpu_value) <= gpu_tolerance<T>() * std::abs(cpu_value));
    CHECK(rel_error(gpu::download(d_grad), cpu_grad) <= gpu_tolerance<T>());
  }
  row_matrix<T> cpu_grad_a(48, 20);
  row_matrix<T> cpu_grad_b(48, 20);
  spectral::embedding_ref<T> ref_a(cpu_grad_a);
  spectral::embedding_ref<T> ref_b(cpu_grad_b);
  const T cpu_value = spectral::normalized_mse<T>(a, b, &ref_a, &ref_b);
  auto d_grad_a = gpu::upload(row_matrix<T>(row_matrix<T>::Zero(48, 20)));
  auto d_grad_b = gpu::upload(row_matrix<T>(row_matrix<T>::Zero(48, 20)));
  const auto view_a = d_grad_a.view();
  const auto view_b = d_grad_b.view();
  spectral::cuda::normalized_mse<T>(d_a.view(), d_b.view(), value.data(), &view_a, &view_b);
  CHECK(std::abs(read_scalar(value) - cpu_value) <= gpu_tolerance<T>() * std::abs(cpu_value));
  CHECK(rel_error(gpu::download(d_grad_a), cpu_grad_a) <= gpu_tolerance<T>());
  CHECK(rel_error(gpu::download(d_grad_b), cpu_grad_b) <= gpu_tolerance<T>());
}

TEST_CASE("cuda: the INTL objective matches the CPU for 3 views on both axes",
          "[cuda][gpu][losses]") {
  SPECTRAL_REQUIRE_GPU();
  for (const spectral::axis ax : {spectral::axis::samples, spectral::axis::features}) {
    CAPTURE(spectral::to_string(ax));
    spectral::options opts;
    opts.axis = ax;
    const Eigen::Index n = ax == spectral::axis::samples ? 16 : 64;
    const Eigen::Index d = ax == spectral::axis::samples ? 64 : 16;
    std::vector<row_matrix<double>> views;
    for (int v = 0; v < 3; ++v) {
      views.emplace_back(randn(n, d, 40 + static_cast<std::uint64_t>(v)));
    }
    const double beta = spectral::trade_off_beta(ax == spectral::axis::samples ? n : d);
    const spectral::intl_objective<double> cpu(
        spectral::iter_norm_transform<double>{spectral::iter_norm{4}, opts}, beta);
    std::vector<row_matrix<double>> cpu_grads;
    const auto cpu_terms = cpu.evaluate(views, &cpu_grads);

    std::vector<gpu::device_matrix<double>> d_views;
    std::vector<gpu::device_matrix<double>> d_grads;
    std::vector<spectral::cuda::embedding_view<const double>> view_list;
    std::vector<spectral::cuda::embedding_view<double>> grad_list;
    for (const auto& v : views) {
      d_views.push_back(gpu::upload(v));
      d_grads.push_back(gpu::allocate<double>(n, d));
    }
    for (std::size_t v = 0; v < views.size(); ++v) {
      view_list.push_back(std::as_const(d_views[v]).view());
      grad_list.push_back(d_grads[v].view());
    }
    spectral::cuda::intl_objective<double> dev(
        spectral::cuda::iter_norm_transform<double>{spectral::iter_norm{4}, opts}, beta);
    const auto terms = dev.evaluate(view_list, grad_list);
    CHECK(std::abs(terms.total - cpu_terms.total) <= 1e-10 * std::abs(cpu_terms.total));
    CHECK(std::abs(terms.alignment - cpu_terms.alignment) <= 1e-10 * std::abs(cpu_terms.alignment));
    CHECK(std::abs(terms.trace - cpu_terms.trace) <= 1e-10 * std::abs(cpu_terms.trace));
    for (std::size_t v = 0; v < views.size(); ++v) {
      CHECK(rel_error(gpu::download(d_grads[v]), cpu_grads[v]) <= 1e-10);
    }
  }
}

TEST_CASE("cuda: running statistics and spectrum diagnostics match the CPU",
          "[cuda][gpu][statistics]") {
  SPECTRAL_REQUIRE_GPU();
  spectral::options opts;
  opts.groups = 2;
  const row_matrix<double> z1 = make_embedding(64, 16, reference::axis::features, 2, 10.0, 8);
  const row_matrix<double> z2 = make_embedding(64, 16, reference::axis::features, 2, 10.0, 9);
  const row_matrix<double> probe = randn(10, 16, 10);
  spectral::zca_transform<double> cpu_transform({}, opts);
  spectral::running_statistics<double> cpu_stats(0.3);
  cpu_stats.update(cpu_transform.forward(z1).context);
  cpu_stats.update(cpu_transform.forward(z2).context);
  row_matrix<double> cpu_out(10, 16);
  cpu_stats.apply(probe, cpu_out);

  spectral::cuda::zca_transform<double> transform({}, opts);
  spectral::cuda::running_statistics<double> stats(0.3);
  auto d_y = gpu::allocate<double>(64, 16);
  const auto d_z1 = gpu::upload(z1);
  const auto d_z2 = gpu::upload(z2);
  stats.update(transform.forward(d_z1.view(), d_y.view()));
  stats.update(transform.forward(d_z2.view(), d_y.view()));
  const auto d_probe = gpu::upload(probe);
  auto d_out = gpu::allocate<double>(10, 16);
  stats.apply(d_probe.view(), d_out.view());
  CHECK(rel_error(gpu::download(d_out), cpu_out) <= 1e-10);

  for (const int group : {0, 1}) {
    const auto cpu_report = spectral::spectrum<double>(z1, opts, group);
    const auto report = spectral::cuda::spectrum<double>(d_z1.view(), opts, group);
    CHECK(rel_error(report.eigenvalues, cpu_report.eigenvalues) <= 1e-10);
    CHECK(std::abs(report.effective_rank - cpu_report.effective_rank) <= 1e-9);
    CHECK(std::abs(report.trace - cpu_report.trace) <= 1e-10 * cpu_report.trace);
  }
}

TEST_CASE("cuda: half inputs are computed in float32", "[cuda][gpu][precision]") {
  SPECTRAL_REQUIRE_GPU();
  const row_matrix<float> z =
      make_embedding(128, 32, reference::axis::samples, 1, 10.0, 12).cast<float>();
  spectral::row_matrix<__half> z_half(z.rows(), z.cols());
  row_matrix<float> z_rounded(z.rows(), z.cols());
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    z_half.data()[i] = __float2half(z.data()[i]);
    z_rounded.data()[i] = __half2float(z_half.data()[i]);
  }
  spectral::options opts;
  opts.axis = spectral::axis::samples;
  spectral::cuda::iter_norm_transform<float> transform(spectral::iter_norm{4}, opts);
  spectral::cuda::device_buffer<__half> d_half(static_cast<std::size_t>(z.size()), nullptr);
  SPECTRAL_CUDA_TRY(cudaMemcpy(d_half.data(), z_half.data(),
                               static_cast<std::size_t>(z.size()) * sizeof(__half),
                               cudaMemcpyHostToDevice));
  auto d_y_half = gpu::allocate<float>(z.rows(), z.cols());
  auto d_y_float = gpu::allocate<float>(z.rows(), z.cols());
  const auto d_rounded = gpu::upload(z_rounded);
  (void)transform.forward(
      spectral::cuda::embedding_view<const __half>(d_half.data(), z.rows(), z.cols()),
      d_y_half.view());
  (void)transform.forward(d_rounded.view(), d_y_float.view());
  const row_matrix<float> from_half = gpu::download(d_y_half);
  REQUIRE(from_half.allFinite());
  CHECK(rel_error(from_half, gpu::download(d_y_float)) == 0.0);
}

TEST_CASE("cuda: TF32 IterNorm stays within 1e-2 of strict float32", "[cuda][gpu][precision]") {
  SPECTRAL_REQUIRE_GPU();
  const row_matrix<float> z =
      make_embedding(256, 64, reference::axis::features, 1, 10.0, 13).cast<float>();
  const auto d_z = gpu::upload(z);
  spectral::cuda::settings tf32;
  tf32.tf32 = true;
  spectral::cuda::iter_norm_transform<float> strict;
  spectral::cuda::iter_norm_transform<float> fast(spectral::iter_norm{4}, {}, tf32);
  auto d_strict = gpu::allocate<float>(256, 64);
  auto d_fast = gpu::allocate<float>(256, 64);
  (void)strict.forward(d_z.view(), d_strict.view());
  (void)fast.forward(d_z.view(), d_fast.view());
  const double error = rel_error(gpu::download(d_fast), gpu::download(d_strict));
  CAPTURE(error);
  CHECK(error <= 1e-2);
}
