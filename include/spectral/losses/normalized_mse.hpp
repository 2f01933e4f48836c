// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/checks.hpp>

#include <algorithm>

namespace spectral {

/**
 * @brief Normalised MSE between two views (the reference's `norm_mse_loss`; spec §4.7):
 *        nMSE = 2 − (2/N) Σ_n ⟨a_n/‖a_n‖, b_n/‖b_n‖⟩ over the N rows, in [0, 4].
 *
 * Norms are clamped below at 1e-12 as in F.normalize. Both arguments receive gradient.
 * @param grad_a, grad_b if non-null, receive ∂nMSE/∂a and ∂nMSE/∂b (N×D)
 * @throws invalid_input for different shapes, empty or non-finite input
 */
template <real_scalar T>
T normalized_mse(embedding_cref<T> a, embedding_cref<T> b, embedding_ref<T>* grad_a = nullptr,
                 embedding_ref<T>* grad_b = nullptr);

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T>
T normalized_mse(embedding_cref<T> a, embedding_cref<T> b, embedding_ref<T>* grad_a,
                 embedding_ref<T>* grad_b) {
  SPECTRAL_EXPECTS(a.rows() >= 1 && a.cols() >= 1, "a: must be non-empty, got ", a.rows(), "x",
                   a.cols());
  detail::expect_shape(b, a.rows(), a.cols(), "b");
  detail::expect_finite(a, "a");
  detail::expect_finite(b, "b");
  const index_t n = a.rows();
  constexpr double min_norm = 1e-12;
  const vector<T> norm_a = a.rowwise().norm().cwiseMax(static_cast<T>(min_norm));
  const vector<T> norm_b = b.rowwise().norm().cwiseMax(static_cast<T>(min_norm));
  const row_matrix<T> u = norm_a.cwiseInverse().asDiagonal() * a;
  const row_matrix<T> v = norm_b.cwiseInverse().asDiagonal() * b;
  const vector<T> cosine = u.cwiseProduct(v).rowwise().sum();
  const T scale = T(2) / static_cast<T>(n);
  // ∂/∂a_n = −(2/N)(v_n − ⟨u_n, v_n⟩ u_n)/‖a_n‖; on a clamped row the divisor is the constant
  // 1e-12, so the projection term vanishes: −(2/N) v_n / 1e-12.
  const auto row_gradient = [&](const vector<T>& norm, const row_matrix<T>& self,
                                const row_matrix<T>& other) {
    row_matrix<T> grad = -scale * (norm.cwiseInverse().asDiagonal() *
                                   (other - cosine.asDiagonal() * self));
    for (index_t r = 0; r < n; ++r) {
      if (norm(r) <= static_cast<T>(min_norm)) {
        grad.row(r) = -scale * other.row(r) / norm(r);
      }
    }
    return grad;
  };
  if (grad_a != nullptr) {
    detail::expect_shape(*grad_a, n, a.cols(), "grad_a");
    *grad_a = row_gradient(norm_a, u, v);
  }
  if (grad_b != nullptr) {
    detail::expect_shape(*grad_b, n, a.cols(), "grad_b");
    *grad_b = row_gradient(norm_b, v, u);
  }
  return T(2) - scale * cosine.sum();
}

}  // namespace spectral
