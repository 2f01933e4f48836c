// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels of the eigendecomposition-based methods: W = U g(Λ) Uᵀ with its Daleckii–Krein
// backward, and PCA whitening. Scalar functions come from the method itself (SPECTRAL_HOST_DEVICE),
// so the CPU and GPU evaluate the same g and g'.

#include <spectral/cuda/kernels/launch.cuh>

#include <cmath>
#include <cstdint>

namespace spectral::cuda::detail {

/// out(:, j) = U(:, j) · g(λ_j).
template <class Method, class T>
__global__ void scale_columns_kernel(Method method, const T* u, const T* values, T* out,
                                     std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t j = (idx % area) / k;
    out[idx] = static_cast<T>(static_cast<double>(u[idx]) *
                              method.value(static_cast<double>(values[b * k + j])));
  }
}

/// rotated ∘= Γ, the Loewner matrix of g: divided differences, or g' at the midpoint when the
/// relative gap is below `tie` (never divides by a tiny gap; spec §4.2).
template <class Method, class T>
__global__ void loewner_kernel(Method method, const T* values, T* rotated, std::int64_t k,
                               std::int64_t count, double tie) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    const double li = static_cast<double>(values[b * k + i]);
    const double lj = static_cast<double>(values[b * k + j]);
    const double gap = li - lj;
    const double entry = fabs(gap) > tie * fmax(fabs(li), fabs(lj))
                             ? (method.value(li) - method.value(lj)) / gap
                             : method.derivative(0.5 * (li + lj));
    rotated[idx] = static_cast<T>(static_cast<double>(rotated[idx]) * entry);
  }
}

/// Ascending eigenpairs → descending (PCA's order).
template <class T>
__global__ void reverse_eigenpairs_kernel(const T* values, const T* vectors, T* values_out,
                                          T* vectors_out, std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    vectors_out[idx] = vectors[b * area + (k - 1 - j) * k + i];
    if (i == 0) {
      values_out[b * k + j] = values[b * k + k - 1 - j];
    }
  }
}

/// PCA: W = Λ^{-1/2} Uᵀ, i.e. W(i, j) = U(j, i) / √λ_i.
template <class T>
__global__ void pca_transform_kernel(const T* u, const T* values, T* w, std::int64_t k,
                                     std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    w[idx] = u[b * area + i * k + j] / sqrt(values[b * k + i]);
  }
}

/// PCA backward: ∂L/∂U = G_Wᵀ Λ^{-1/2}, i.e. (i, j) = G_W(j, i) / √λ_j.
template <class T>
__global__ void pca_grad_u_kernel(const T* grad_w, const T* values, T* grad_u, std::int64_t k,
                                  std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    grad_u[idx] = grad_w[b * area + i * k + j] / sqrt(values[b * k + j]);
  }
}

/// PCA backward: inner = Uᵀ ∂L/∂U divided by the clamped gaps λ_j − λ_i off the diagonal, and
/// ∂L/∂λ_i = −½ λ_i^{-3/2} (G_W U)_ii on it (spec §4.3).
template <class T>
__global__ void pca_inner_kernel(T* inner, const T* grad_w_u, const T* values, std::int64_t k,
                                 std::int64_t count, double tie) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t b = idx / area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    const double li = static_cast<double>(values[b * k + i]);
    if (i == j) {
      inner[idx] = static_cast<T>(-0.5 * static_cast<double>(grad_w_u[idx]) / (li * sqrt(li)));
      continue;
    }
    const double lj = static_cast<double>(values[b * k + j]);
    const double gap = lj - li;
    const double clamped = copysign(fmax(fabs(gap), tie * fmax(fabs(li), fabs(lj))), gap);
    inner[idx] = static_cast<T>(static_cast<double>(inner[idx]) / clamped);
  }
}

/// Cholesky backward: sym(Φ(M)) with Φ = lower triangle, halved diagonal; equals ½ M(max, min).
template <class T>
__global__ void cholesky_phi_kernel(const T* m, T* out, std::int64_t k, std::int64_t count) {
  const std::int64_t area = k * k;
  for (std::int64_t idx = global_thread(); idx < count * area; idx += grid_threads()) {
    const std::int64_t base = (idx / area) * area;
    const std::int64_t i = (idx % area) % k;
    const std::int64_t j = (idx % area) / k;
    const std::int64_t row = i > j ? i : j;
    const std::int64_t col = i > j ? j : i;
    out[idx] = T(0.5) * m[base + row + col * k];
  }
}

}  // namespace spectral::cuda::detail
