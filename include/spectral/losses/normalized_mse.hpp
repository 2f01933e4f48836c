// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The normalised MSE between two views on host memory (INTL's alignment term).

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
#include <spectral/detail/checks.hpp>
#include <spectral/losses/loss_steps.hpp>

namespace spectral {

/**
 * @brief Normalised MSE between two views (the reference's `norm_mse_loss`;
 *        `docs/math.md#normalized-mse`):
 *        nMSE = 2 − (2/N) Σ_n ⟨a_n/‖a_n‖, b_n/‖b_n‖⟩ over the N rows, in [0, 4].
 *
 * Norms are clamped below at 1e-12 as in F.normalize. Both arguments receive gradient.
 * @param grad_a, grad_b if non-null, receive ∂nMSE/∂a and ∂nMSE/∂b (N×D)
 * @throws invalid_input for different shapes, empty or non-finite input
 */
template <real_scalar T>
T normalized_mse(embedding_cref<T> a,
                 embedding_cref<T> b,
                 embedding_ref<T>* grad_a = nullptr,
                 embedding_ref<T>* grad_b = nullptr);

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T>
T normalized_mse(embedding_cref<T> a,
                 embedding_cref<T> b,
                 embedding_ref<T>* grad_a,
                 embedding_ref<T>* grad_b) {
  SPECTRAL_EXPECTS(a.rows() >= 1 && a.cols() >= 1, "a: must be non-empty, got ", a.rows(), "x",
                   a.cols());
  detail::expect_shape(b, a.rows(), a.cols(), "b");
  detail::expect_finite(a, "a");
  detail::expect_finite(b, "b");
  if (grad_a != nullptr) {
    detail::expect_shape(*grad_a, a.rows(), a.cols(), "grad_a");
  }
  if (grad_b != nullptr) {
    detail::expect_shape(*grad_b, a.rows(), a.cols(), "grad_b");
  }
  cpu::backend be;
  T value{};
  const batch<T> columns_a = grad_a != nullptr ? detail::columns_of(*grad_a) : batch<T>{};
  const batch<T> columns_b = grad_b != nullptr ? detail::columns_of(*grad_b) : batch<T>{};
  detail::normalized_mse_steps(primitives<cpu::backend, T>{be}, detail::columns_of(a),
                               detail::columns_of(b), &value,
                               grad_a != nullptr ? &columns_a : nullptr,
                               grad_b != nullptr ? &columns_b : nullptr, T(1), false);
  return value;
}

}  // namespace spectral
