// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Element-wise steps of IterNorm's forward and hand-unrolled backward (methods/iter_norm.hpp
// holds the derivation). Per-group scalars (τ, dot products) stay on the device: no host sync.

#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cmath>
#include <cstdint>

namespace spectral::cuda::detail {

/// S = Σ/τ and P_1 = 1.5 I − 0.5 S; records a trace that is not positive and finite.
template <class T>
__global__ void iter_norm_start_kernel(T* sigma_to_s, const T* trace, T* p, std::int64_t k,
                                       std::int64_t count, device_status* status) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t r = idx % area;
    const T tau = trace[b];
    if (r == 0 && !(tau > T(0) && isfinite(static_cast<double>(tau)))) {
      report(status, status_trace_not_positive, static_cast<int>(b), static_cast<double>(tau), 0.0);
    }
    const T s = sigma_to_s[idx] / tau;
    sigma_to_s[idx] = s;
    p[idx] = T(-0.5) * s + ((r % k == r / k) ? T(1.5) : T(0));
  }
}

/// W = P_T / √τ.
template <class T>
__global__ void iter_norm_scale_kernel(const T* p, const T* trace, T* w, std::int64_t k,
                                       std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    w[idx] = p[idx] / sqrt(trace[idx / area]);
  }
}

/// B = (G_W + G_Wᵀ) / (2√τ): the symmetric adjoint of P_T (W = P_T/√τ).
template <class T>
__global__ void iter_norm_seed_kernel(const T* grad_w, const T* trace, T* b, std::int64_t k,
                                      std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t base = (idx / area) * area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    b[idx] = (grad_w[base + i + j * k] + grad_w[base + j + i * k]) /
             (T(2) * sqrt(trace[idx / area]));
  }
}

/// B ← 1.5 B − ¼ (P²N + (P²N)ᵀ + P N P), with P N P symmetrised; B stays exactly symmetric.
template <class T>
__global__ void iter_norm_adjoint_step_kernel(T* b, const T* square_n, const T* sandwich,
                                              std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t base = (idx / area) * area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    if (i <= j) {
      const std::int64_t ij = base + i + j * k;
      const std::int64_t ji = base + j + i * k;
      const T v = T(1.5) * b[ij] - T(0.25) * (square_n[ij] + square_n[ji] +
                                               T(0.5) * (sandwich[ij] + sandwich[ji]));
      b[ij] = v;
      b[ji] = v;
    }
  }
}

/// ∂L/∂Σ = G_S/τ + g_τ I with g_τ = −⟨G_S, S⟩/τ − ⟨G_W, W⟩/(2τ); G_S is already symmetric.
template <class T>
__global__ void iter_norm_finish_kernel(const T* grad_s, const T* trace, const T* dot_s,
                                        const T* dot_w, T* grad_sigma, std::int64_t k,
                                        std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t r = idx % area;
    const T tau = trace[b];
    const T grad_tau = -dot_s[b] / tau - dot_w[b] / (T(2) * tau);
    grad_sigma[idx] = grad_s[idx] / tau + ((r % k == r / k) ? grad_tau : T(0));
  }
}

}  // namespace spectral::cuda::detail
