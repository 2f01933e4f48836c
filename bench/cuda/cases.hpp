// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The GPU benchmark rows (those with a speed-up target first), their seeded data and the names
/// both sides register under: BM_spectral/<tail> (spectral_cuda_bench.cu) and BM_torch/<tail>
/// (torch_cuda_peer.cpp, built only against a CUDA LibTorch). Host-only: no CUDA headers.

#include "common/defaults.hpp"

#include <spectral/spectral.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace spectral::bench::gpu {

struct cuda_case {
  method_spec method;  ///< a registered method with the benchmarks' parameters (bench_method)
  axis ax;
  pass_id pass;
  index_t n;
  index_t d;
  index_t groups = 1;
  bool tf32 = false;

  [[nodiscard]] index_t covariance_size() const noexcept {
    return ax == axis::features ? d / groups : n;
  }
  [[nodiscard]] index_t observations() const noexcept {
    return ax == axis::features ? n : d / groups;
  }
  [[nodiscard]] bool needs_eps() const noexcept {
    return method.name != iter_norm::name() && covariance_size() >= observations();
  }
  [[nodiscard]] std::string tail() const {
    std::string out = method.name + "/" + std::string(spectral::to_string(ax)) + "/" +
                      std::string(to_string(pass)) + "/N:" + std::to_string(n) +
                      "/D:" + std::to_string(d);
    if (groups > 1) {
      out += "/G:" + std::to_string(groups);
    }
    if (tf32) {
      out += "/tf32";
    }
    return out;
  }
};

/// The rows: the shapes with a speed-up target (scripts/gpu_bench_table.py's target(): IterNorm
/// samples N=256 D=8192; features D=2048 strict and TF32; ZCA and power over features at D=2048;
/// 64 groups of 128), each forward and forward+backward, plus a few smaller shapes.
[[nodiscard]] inline std::vector<cuda_case> all_cases() {
  const method_spec iternorm = bench_method<iter_norm>();
  const method_spec zca = bench_method<zca_whitening>();
  const method_spec power = bench_method<power_function>();
  const method_spec pca = bench_method<pca_whitening>();
  const method_spec cholesky = bench_method<cholesky_whitening>();
  std::vector<cuda_case> out;
  for (const pass_id pass : {pass_id::forward, pass_id::forward_backward}) {
    out.push_back({iternorm, axis::samples, pass, 256, 8192});
    out.push_back({iternorm, axis::samples, pass, 1024, 8192});
    out.push_back({iternorm, axis::features, pass, 256, 2048});
    out.push_back({iternorm, axis::features, pass, 256, 2048, 1, true});
    out.push_back({zca, axis::features, pass, 256, 2048});
    out.push_back({power, axis::features, pass, 256, 2048});
    out.push_back({zca, axis::features, pass, 256, 8192, 64});
    out.push_back({pca, axis::features, pass, 1024, 256});
    out.push_back({cholesky, axis::features, pass, 1024, 256});
    out.push_back({iternorm, axis::features, pass, 1024, 256});
  }
  return out;
}

/// Seeded input and output gradient, as the CPU benchmarks make them (bench/common/defaults.hpp).
struct host_problem {
  row_matrix<float> z;
  row_matrix<float> grad_out;
  double eps = 0.0;
};

[[nodiscard]] inline host_problem make_host_problem(const cuda_case& c) {
  const bench_case shape{c.method, c.ax, c.pass, c.n, c.d};
  problem p = make_problem(shape);
  host_problem out{std::move(p.z), std::move(p.grad_out), 0.0};
  if (c.needs_eps()) {
    // relative_eps of the mean eigenvalue of the first group (all groups are alike here).
    const options opts{.axis = c.ax, .groups = c.groups};
    const matrix<float> sigma = covariance<float>(out.z, opts, 0);
    out.eps = relative_eps * static_cast<double>(sigma.trace()) / static_cast<double>(sigma.rows());
  }
  return out;
}

/// The library's GPU output (and input gradient on forward_backward), computed by the .cu side;
/// the torch peer checks itself against it before timing.
struct device_result {
  row_matrix<float> y;
  row_matrix<float> grad;
};
[[nodiscard]] device_result spectral_cuda_result(const cuda_case& c, const host_problem& p);

}  // namespace spectral::bench::gpu
