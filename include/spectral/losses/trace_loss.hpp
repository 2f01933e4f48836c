// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// INTL's trace loss on host memory, and the trade-off weight β of the reference code.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
#include <spectral/detail/checks.hpp>
#include <spectral/losses/loss_steps.hpp>

#include <cmath>

namespace spectral {

/**
 * @brief Trace loss of INTL (Weng et al., ICLR 2024, Sec. 4; `docs/math.md#trace-loss`):
 *        TL = Σ_k (d_k − 1)², with d_k the variance of row k of the whitening layout
 *        (divisor M − 1).
 *
 * Samples axis: k runs over the N samples (variance over the D features); features axis: k runs
 * over the D features (variance over the N samples). It pushes every diagonal entry of Σ_Y to 1.
 * @param y    N×D transformed embedding
 * @param a    the axis the transform ran on
 * @param grad if non-null, receives ∂TL/∂Y (N×D)
 * @return the loss value
 * @throws invalid_input for fewer than 2 observations, non-finite y or a mis-shaped grad
 */
template <real_scalar T>
T trace_loss(embedding_cref<T> y, axis a, embedding_ref<T>* grad = nullptr);

/// Allocating convenience: the value only.
template <real_scalar T>
[[nodiscard]] T trace_loss_value(embedding_cref<T> y, axis a) {
  return trace_loss<T>(y, a, nullptr);
}

/// The trace-loss weight of the reference code: β = 0.01·(log2 K − 3), K = N (samples axis) or D
/// (`docs/math.md#trade-off-beta`).
[[nodiscard]] inline double trade_off_beta(index_t covariance_size) {
  SPECTRAL_EXPECTS(covariance_size >= 2, "covariance_size: must be >= 2, got ", covariance_size);
  return 0.01 * (std::log2(static_cast<double>(covariance_size)) - 3.0);
}

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T>
T trace_loss(embedding_cref<T> y, axis a, embedding_ref<T>* grad) {
  const index_t observations = a == axis::features ? y.rows() : y.cols();
  SPECTRAL_EXPECTS(observations >= 2, "y: the trace loss on the ", to_string(a),
                   " axis needs at least 2 observations, got ", observations);
  detail::expect_finite(y, "y");
  if (grad != nullptr) {
    detail::expect_shape(*grad, y.rows(), y.cols(), "grad");
  }
  cpu::backend be;
  T value{};
  const batch<T> grad_columns = grad != nullptr ? detail::columns_of(*grad) : batch<T>{};
  detail::trace_loss_steps(primitives<cpu::backend, T>{be}, detail::columns_of(y), a, &value,
                           grad != nullptr ? &grad_columns : nullptr, T(1), false);
  return value;
}

}  // namespace spectral
