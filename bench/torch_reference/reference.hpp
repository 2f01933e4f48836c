// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The LibTorch peer: each method written the way the reference Python code writes it (INTL
/// `methods/whitening.py`, docs/math.md#common-quantities, docs/math.md#instances), with plain ops
/// and autograd for the backward.

#include "common/defaults.hpp"

#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace spectral::bench::torch_reference {

/// `whiten_matrix(sigma)`: Σ (K×K) → W (K×K), one formula per registered method (a method added
/// to the registry fails to compile here until it has one).
template <class Method>
[[nodiscard]] torch::Tensor whiten_matrix(const torch::Tensor& sigma,
                                          [[maybe_unused]] const Method& method) {
  const std::int64_t k = sigma.size(0);
  if constexpr (std::is_same_v<Method, zca_whitening> || std::is_same_v<Method, power_function>) {
    double p = 0.5;
    if constexpr (std::is_same_v<Method, power_function>) {
      p = method.power;
    }
    auto [lambda, u] = torch::linalg_eigh(sigma, "L");
    return u.mm(lambda.pow(-p).diag()).mm(u.t());  // U diag(λ^-p) Uᵀ
  } else if constexpr (std::is_same_v<Method, pca_whitening>) {
    auto [lambda, u] = torch::linalg_eigh(sigma, "L");
    lambda = lambda.flip(0);  // descending, as the library orders them
    u = u.flip(1);
    // The library's sign convention (largest-|entry| of each eigenvector positive), so
    // both sides return the same output.
    const auto largest = u.abs().argmax(0, /*keepdim=*/true);
    u = u * u.gather(0, largest).sign();
    return lambda.rsqrt().diag().mm(u.t());  // Λ^-1/2 Uᵀ
  } else if constexpr (std::is_same_v<Method, cholesky_whitening>) {
    const auto lower = torch::linalg_cholesky(sigma);
    const auto eye = torch::eye(k, sigma.options());
    return torch::linalg_solve_triangular(lower, eye, /*upper=*/false, /*left=*/true,
                                          /*unitriangular=*/false);  // L⁻¹
  } else {
    static_assert(std::is_same_v<Method, iter_norm>, "no LibTorch peer for this method");
    // Whitening2dIterNorm.whiten_matrix on a batch of one.
    const auto sigma3 = sigma.reshape({1, k, k});
    const auto trace = sigma.trace().reshape({1, 1, 1});
    const auto sigma_norm = sigma3 * trace.reciprocal();
    auto projection = torch::eye(k, sigma.options()).reshape({1, k, k});
    for (int step = 0; step < method.iterations; ++step) {
      projection = torch::baddbmm(projection, torch::matrix_power(projection, 3), sigma_norm,
                                  /*beta=*/1.5, /*alpha=*/-0.5);
    }
    const auto wm = projection.mul_(trace.reciprocal().sqrt());
    return wm.reshape({k, k});
  }
}

/// Y for an N×D embedding: X = Zᵀ on the features axis (Z on the samples axis),
/// `xn = x - m`, `sigma = xn @ xn.T / (m - 1)` (+ eps·I), `W @ xn`, back to N×D.
template <class Method>
[[nodiscard]] torch::Tensor forward(const torch::Tensor& z,
                                    axis ax,
                                    const Method& method,
                                    double eps) {
  const auto x = ax == axis::features ? z.t() : z;  // K×M
  const std::int64_t k = x.size(0);
  const std::int64_t m = x.size(1);
  const auto mean = x.mean(1, /*keepdim=*/true);
  const auto xn = x - mean;
  auto sigma = xn.mm(xn.t()) / static_cast<double>(m - 1);
  if (eps > 0.0) {
    sigma = sigma + eps * torch::eye(k, sigma.options());
  }
  const auto y = whiten_matrix(sigma, method).mm(xn);
  return ax == axis::features ? y.t() : y;
}

/// forward() for the registered method `spec` names, with its parameters.
/// @throws invalid_input for an unknown name or a parameter out of range
[[nodiscard]] inline torch::Tensor forward(const torch::Tensor& z,
                                           axis ax,
                                           const method_spec& spec,
                                           double eps) {
  return visit_method(spec, [&](const auto& method) { return forward(z, ax, method, eps); });
}

/// Both sides must use the same two threads: LibTorch from Debian starts with one intra-op
/// (OpenMP) thread; BLAS/LAPACK calls go to OpenBLAS's own pthreads on both sides.
inline int use_threads(int threads) {
  at::set_num_threads(threads);
  return at::get_num_threads();
}

/// A float32 tensor that owns a copy of an Eigen row-major matrix.
[[nodiscard]] inline torch::Tensor to_tensor(const row_matrix<float>& m) {
  return torch::from_blob(const_cast<float*>(m.data()), {m.rows(), m.cols()},  // NOLINT
                          torch::kFloat32)
      .clone();
}

/// ‖a − b‖ / ‖b‖ between a tensor and an Eigen matrix of the same shape.
[[nodiscard]] inline double relative_error(const torch::Tensor& a, const row_matrix<float>& b) {
  const auto tb = to_tensor(b).to(torch::kFloat64);
  const auto ta = a.detach().contiguous().to(torch::kFloat64);
  return (ta - tb).norm().item<double>() / tb.norm().item<double>();
}

}  // namespace spectral::bench::torch_reference
