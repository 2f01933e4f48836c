// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The CUDA transforms against the CPU backend (parity), against central finite differences in
// double (gradients), and against the properties of docs/math.md#checks. All need a GPU.

#include "device_data.cuh"

#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace {

using namespace spectral_test;
using reference::axis;
using reference::config;
using reference::method;
using spectral_test::gpu::row_matrix;

struct shape {
  Eigen::Index n;
  Eigen::Index d;
};

/// K ≤ 16 and M ≥ 3K per group for groups ∈ {1, 2}: well conditioned, positive definite.
shape parity_shape(axis ax) { return ax == axis::features ? shape{64, 16} : shape{12, 96}; }

std::vector<config> every_instance() {
  std::vector<config> out;
  for (const axis ax : {axis::features, axis::samples}) {
    for (const int groups : {1, 2}) {
      const auto with = [&](method kind, double power, int iterations) {
        config c;
        c.kind = kind;
        c.power = power;
        c.iterations = iterations;
        c.ax = ax;
        c.groups = groups;
        out.push_back(c);
      };
      with(method::zca, 0.5, 4);
      with(method::pca, 0.5, 4);
      with(method::cholesky, 0.5, 4);
      with(method::power, 0.0, 4);
      with(method::power, 0.3, 4);
      with(method::power, 0.75, 4);
      with(method::iter_norm, 0.5, 1);
      with(method::iter_norm, 0.5, 4);
      with(method::iter_norm, 0.5, 7);
      with(method::iter_norm, 0.5, 4);
      out.back().eigen_route = true;  // the route the CPU takes from K = 512 on
    }
  }
  return out;
}

template <class T>
constexpr double parity_tolerance() {
  return std::is_same_v<T, double> ? 1e-10 : 1e-4;  // required GPU-vs-CPU relative error
}

}  // namespace

TEMPLATE_TEST_CASE("cuda: every instance matches the CPU backend, forward and backward",
                   "[cuda][gpu][parity]",
                   float,
                   double) {
  SPECTRAL_REQUIRE_GPU();
  using T = TestType;
  std::uint64_t seed = 20261128;
  for (const config& c : every_instance()) {
    const shape s = parity_shape(c.ax);
    CAPTURE(gpu::describe(c), s.n, s.d, seed);
    const row_matrix<T> z = make_embedding(s.n, s.d, c.ax, c.groups, 10.0, seed).cast<T>();
    const row_matrix<T> grad_out = randn(s.n, s.d, seed + 1).cast<T>();
    REQUIRE(z.cwiseAbs().maxCoeff() > T(0.1));
    const auto cpu = gpu::run_cpu<T>(c, z, grad_out);
    const auto dev = gpu::run_gpu<T>(c, z, grad_out);
    if constexpr (std::is_same_v<T, double>) {
      CHECK(rel_error(dev.output, cpu.output) <= parity_tolerance<T>());
      CHECK(rel_error(dev.grad_in, cpu.grad_in) <= parity_tolerance<T>());
    } else {
      // Against the double result: within the required 1e-4, or, where the instance's own
      // conditioning makes float miss that on any backend (PCA's 1/(λi − λj): the CPU's float
      // gradient is 4.6e-5 off here, so two float backends can differ by ~1e-4), no worse
      // than 4× the CPU backend's float error.
      const auto truth =
          gpu::run_cpu<double>(c, z.template cast<double>(), grad_out.template cast<double>());
      const double cpu_output = rel_error(cpu.output, truth.output);
      const double cpu_grad = rel_error(cpu.grad_in, truth.grad_in);
      CAPTURE(cpu_output, cpu_grad, rel_error(dev.grad_in, cpu.grad_in));
      CHECK(rel_error(dev.output, truth.output) <=
            std::max(parity_tolerance<T>(), 4.0 * cpu_output));
      CHECK(rel_error(dev.grad_in, truth.grad_in) <=
            std::max(parity_tolerance<T>(), 4.0 * cpu_grad));
    }
    seed += 7;
  }
}

TEMPLATE_TEST_CASE("cuda: the smaller side (M < K) matches the CPU, forward and backward",
                   "[cuda][gpu][parity][gram_side]",
                   float,
                   double) {
  SPECTRAL_REQUIRE_GPU();
  using T = TestType;
  // K = 24 from M = 10 observations per group: ZCA and power with eps, IterNorm without (both
  // routes) are solved on the 10×10 Gram on both backends.
  std::uint64_t seed = 20261202;
  for (const axis ax : {axis::features, axis::samples}) {
    for (const int groups : {1, 2}) {
      std::vector<config> cases(5);
      cases[0].kind = method::zca;
      cases[0].eps = 0.1;
      cases[1].kind = method::power;
      cases[1].power = 0.3;
      cases[1].eps = 0.05;
      cases[2].kind = method::iter_norm;
      cases[3].kind = method::iter_norm;
      cases[3].eigen_route = true;
      cases[4].kind = method::iter_norm;
      cases[4].iterations = 1;
      for (config& c : cases) {
        c.ax = ax;
        c.groups = groups;
        const shape s = ax == axis::features ? shape{10, 24L * groups} : shape{24, 10L * groups};
        CAPTURE(gpu::describe(c), seed);
        const row_matrix<T> z = randn(s.n, s.d, seed).cast<T>();
        const row_matrix<T> grad_out = randn(s.n, s.d, seed + 1).cast<T>();
        const auto cpu = gpu::run_cpu<T>(c, z, grad_out);
        const auto dev = gpu::run_gpu<T>(c, z, grad_out);
        REQUIRE(cpu.output.cwiseAbs().maxCoeff() > T(0.1));
        CHECK(rel_error(dev.output, cpu.output) <= parity_tolerance<T>());
        CHECK(rel_error(dev.grad_in, cpu.grad_in) <= 10.0 * parity_tolerance<T>());
        seed += 3;
      }
    }
  }
}

// Finite differences, reference parity and the properties run in the shared suite
// (transform_suite_test.cu); this file compares the GPU with the CPU.

TEST_CASE("cuda: whitening gives an identity covariance; p = 1/2 equals ZCA",
          "[cuda][gpu][properties]") {
  SPECTRAL_REQUIRE_GPU();
  for (const axis ax : {axis::features, axis::samples}) {
    const shape s = ax == axis::features ? shape{256, 32} : shape{24, 512};
    const Eigen::MatrixXd z = make_embedding(s.n, s.d, ax, 1, 100.0, 5);
    const row_matrix<double> grad_out = randn(s.n, s.d, 6);
    for (const method kind : {method::zca, method::pca, method::cholesky}) {
      config c;
      c.kind = kind;
      c.ax = ax;
      CAPTURE(gpu::describe(c));
      const Eigen::MatrixXd y = gpu::run_gpu<double>(c, z, grad_out).output;
      const Eigen::MatrixXd sigma_y = reference::covariance(y, ax, 1, 0, 0.0);
      CHECK(rel_error(sigma_y, Eigen::MatrixXd::Identity(sigma_y.rows(), sigma_y.cols())) <= 1e-9);
    }
    config zca;
    zca.ax = ax;
    config square_root = zca;
    square_root.kind = method::power;
    square_root.power = 0.5;
    const auto a = gpu::run_gpu<double>(zca, z, grad_out);
    const auto b = gpu::run_gpu<double>(square_root, z, grad_out);
    CHECK(rel_error(b.output, a.output) <= 1e-12);
    CHECK(rel_error(b.grad_in, a.grad_in) <= 1e-10);
  }
}

TEST_CASE("cuda: IterNorm's output spectrum is f_T(λ/τ)", "[cuda][gpu][properties]") {
  SPECTRAL_REQUIRE_GPU();
  const Eigen::VectorXd spectrum = log_spaced(16, 4.0, 50.0);
  const Eigen::MatrixXd z = make_embedding_with_spectrum(128, 16, axis::features, 1, spectrum, 11);
  const row_matrix<double> grad_out = randn(128, 16, 12);
  for (const int t : {1, 3, 5}) {
    config c;
    c.kind = method::iter_norm;
    c.iterations = t;
    CAPTURE(t);
    const Eigen::MatrixXd y = gpu::run_gpu<double>(c, z, grad_out).output;
    const Eigen::VectorXd got =
        symmetric_eigenvalues(reference::covariance(y, axis::features, 1, 0, 0.0));
    Eigen::VectorXd expected(spectrum.size());
    const double trace = spectrum.sum();
    for (Eigen::Index i = 0; i < spectrum.size(); ++i) {
      expected(i) = reference::iter_norm_output_eigenvalue(spectrum(i) / trace, t);
    }
    std::sort(expected.begin(), expected.end());
    CHECK(rel_error(got, expected) <= 1e-9);
  }
}

TEST_CASE("cuda: 64 groups run as one batch and match the CPU", "[cuda][gpu][parity]") {
  SPECTRAL_REQUIRE_GPU();
  config c;
  c.kind = method::zca;
  c.groups = 64;
  const Eigen::Index n = 96;
  const Eigen::Index d = 64 * 8;
  const row_matrix<double> z = make_embedding(n, d, axis::features, c.groups, 10.0, 3);
  const row_matrix<double> grad_out = randn(n, d, 4);
  const auto cpu = gpu::run_cpu<double>(c, z, grad_out);
  const auto dev = gpu::run_gpu<double>(c, z, grad_out);
  CHECK(rel_error(dev.output, cpu.output) <= 1e-10);
  CHECK(rel_error(dev.grad_in, cpu.grad_in) <= 1e-10);
}
