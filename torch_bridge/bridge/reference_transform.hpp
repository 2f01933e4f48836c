// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The peer of the throughput runs: each transform written with LibTorch ops the way the
/// reference Python code writes it (INTL `methods/whitening.py`, docs/math.md#instances),
/// backward by autograd, and — under autocast — its products in fp16 as in the reference.

#include "bridge/transform_spec.hpp"

#include <torch/types.h>

#include <type_traits>

namespace spectral::torch_bridge {

/// W = f(Σ) for one K×K covariance.
[[nodiscard]] inline torch::Tensor reference_whitening_matrix(const torch::Tensor& sigma,
                                                              const transform_spec& spec) {
  const std::int64_t k = sigma.size(0);
  // The decompositions have no half-precision kernels: under autocast they get Σ in float32.
  const bool half = sigma.scalar_type() == torch::kHalf || sigma.scalar_type() == torch::kBFloat16;
  const torch::Tensor sigma_wide = half ? sigma.to(torch::kFloat32) : sigma;
  // One formula per registered method: a method added to the registry fails to compile here
  // until it has one.
  const auto formula = [&]<class Method>([[maybe_unused]] const Method& method) -> torch::Tensor {
    if constexpr (std::is_same_v<Method, zca_whitening> || std::is_same_v<Method, power_function>) {
      double p = 0.5;
      if constexpr (std::is_same_v<Method, power_function>) {
        p = method.power;
      }
      auto [lambda, u] = torch::linalg_eigh(sigma_wide, "L");
      return u.mm(lambda.pow(-p).diag()).mm(u.t());
    } else if constexpr (std::is_same_v<Method, pca_whitening>) {
      auto [lambda, u] = torch::linalg_eigh(sigma_wide, "L");
      return lambda.flip(0).rsqrt().diag().mm(u.flip(1).t());
    } else if constexpr (std::is_same_v<Method, cholesky_whitening>) {
      const auto lower = torch::linalg_cholesky(sigma_wide);
      return torch::linalg_solve_triangular(lower, torch::eye(k, sigma_wide.options()),
                                            /*upper=*/false, /*left=*/true,
                                            /*unitriangular=*/false);
    } else {
      static_assert(std::is_same_v<Method, iter_norm>, "no reference formula for this method");
      // Whitening2dIterNorm.whiten_matrix: Newton iterations on Σ/tr Σ, batch of one.
      const auto sigma3 = sigma.reshape({1, k, k});
      const auto trace = sigma.trace().reshape({1, 1, 1});
      const auto sigma_norm = sigma3 * trace.reciprocal();
      auto projection = torch::eye(k, sigma.options()).reshape({1, k, k});
      for (int step = 0; step < method.iterations; ++step) {
        projection = torch::baddbmm(projection, torch::matrix_power(projection, 3), sigma_norm,
                                    /*beta=*/1.5, /*alpha=*/-0.5);
      }
      return (projection * trace.reciprocal().sqrt()).reshape({k, k});
    }
  };
  return visit_method(spec.method, formula);
}

/// Y for an N×D embedding (one group): X = Zᵀ on the features axis, Z on the samples axis;
/// xn = x − mean, Σ = xn xnᵀ/(m−1) (+ eps·I), Y = W xn, back to N×D.
/// @throws invalid_input for groups ≠ 1 (the reference code has a single group)
[[nodiscard]] inline torch::Tensor reference_transform(const torch::Tensor& z,
                                                       const transform_spec& spec) {
  SPECTRAL_EXPECTS(spec.opts.groups == 1, "groups: the reference engine has one group, got ",
                   spec.opts.groups);
  const auto x = spec.opts.axis == axis::features ? z.t() : z;
  const auto xn = x - x.mean(1, /*keepdim=*/true);
  auto sigma = xn.mm(xn.t()) / static_cast<double>(x.size(1) - 1);
  if (spec.opts.eps > 0.0) {
    sigma = sigma + spec.opts.eps * torch::eye(x.size(0), sigma.options());
  }
  const auto y = reference_whitening_matrix(sigma, spec).mm(xn);
  return spec.opts.axis == axis::features ? y.t() : y;
}

}  // namespace spectral::torch_bridge
