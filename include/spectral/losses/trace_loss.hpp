// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/types.hpp>
#include <spectral/detail/checks.hpp>

#include <cmath>

namespace spectral {

/**
 * @brief Trace loss of INTL (Weng et al., ICLR 2024, §4; spec §4.6): TL = Σ_k (d_k − 1)², with
 *        d_k the variance of row k of the whitening layout (divisor M − 1).
 *
 * Samples axis: k runs over the N samples (variance over the D features); features axis: k runs
 * over the D features (variance over the N samples). It pushes every diagonal entry of Σ_Y to 1.
 * @param y    N×D transformed embedding
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

/// The trace-loss weight of the reference code: β = 0.01·(log2 K − 3), K = N (samples axis) or D.
[[nodiscard]] inline double trade_off_beta(index_t covariance_size) {
  SPECTRAL_EXPECTS(covariance_size >= 2, "covariance_size: must be >= 2, got ", covariance_size);
  return 0.01 * (std::log2(static_cast<double>(covariance_size)) - 3.0);
}

// --- implementation -----------------------------------------------------------------------------

namespace detail {

/// TL on a K×M whitening-layout view (rows = the variances that must be 1); the gradient, in
/// the same layout, goes into grad_rows when it is non-null.
template <class View>
typename View::Scalar trace_loss_rows(const View& y, matrix<typename View::Scalar>* grad_rows) {
  using T = typename View::Scalar;
  const index_t m = y.cols();
  const matrix<T> centered = y.colwise() - y.rowwise().mean();
  const vector<T> excess =
      (centered.rowwise().squaredNorm() / static_cast<T>(m - 1)).array() - T(1);
  if (grad_rows != nullptr) {
    // ∂/∂y_kj of (d_k − 1)² = 4 (d_k − 1)(y_kj − ȳ_k)/(M − 1)
    *grad_rows = (T(4) / static_cast<T>(m - 1)) * (excess.asDiagonal() * centered);
  }
  return excess.squaredNorm();
}

}  // namespace detail

template <real_scalar T>
T trace_loss(embedding_cref<T> y, axis a, embedding_ref<T>* grad) {
  const index_t observations = a == axis::features ? y.rows() : y.cols();
  SPECTRAL_EXPECTS(observations >= 2, "y: the trace loss on the ", to_string(a),
                   " axis needs at least 2 observations, got ", observations);
  detail::expect_finite(y, "y");
  if (grad != nullptr) {
    detail::expect_shape(*grad, y.rows(), y.cols(), "grad");
  }
  matrix<T> grad_rows;
  matrix<T>* grad_target = grad != nullptr ? &grad_rows : nullptr;
  if (a == axis::features) {
    const T value = detail::trace_loss_rows(y.transpose(), grad_target);
    if (grad != nullptr) {
      *grad = grad_rows.transpose();
    }
    return value;
  }
  const T value = detail::trace_loss_rows(y, grad_target);
  if (grad != nullptr) {
    *grad = grad_rows;
  }
  return value;
}

}  // namespace spectral
