// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// power_function: the spectral transformation W = Σ^{-p}.

#include <spectral/core/config.hpp>
#include <spectral/core/error.hpp>

#include <cmath>
#include <string_view>

namespace spectral {

/**
 * @brief Power-function spectral transformation W = Σ^{-p} = U Λ^{-p} Uᵀ (Weng et al., ICLR 2024,
 *        "Modulate Your Spectrum in Self-Supervised Learning", Sec. 3: ST with power functions;
 *        `docs/math.md#power-function`).
 *
 * Output covariance Σ_Y = Σ^{1−2p}: p = 0 is centring only, p = 1/2 is ZCA whitening, p > 1/2
 * reverses the eigenvalue order. Backward: Daleckii–Krein
 * (`docs/math.md#backward-spectral-function`).
 * @note Any p > 0 needs a positive-definite covariance (use eps when M ≤ K).
 */
struct power_function {
  double power = 0.5;  ///< the exponent p of W = Σ^{-p}

  /// @param p the exponent (0.5: ZCA whitening)
  /// @throws invalid_input when p is negative or not finite.
  explicit power_function(double p = 0.5) : power(p) {
    SPECTRAL_EXPECTS(std::isfinite(p) && p >= 0.0, "power: p must be finite and >= 0, got ", p);
  }

  /// The method's name in messages and the registry.
  [[nodiscard]] static constexpr std::string_view name() noexcept { return "power"; }
  /// g(λ) = λ^{-p} (1 for p = 0).
  [[nodiscard]] SPECTRAL_HOST_DEVICE double value(double lambda) const {
    return power == 0.0 ? 1.0 : std::pow(lambda, -power);
  }
  /// g'(λ) = −p λ^{-p-1} (0 for p = 0).
  [[nodiscard]] SPECTRAL_HOST_DEVICE double derivative(double lambda) const {
    return power == 0.0 ? 0.0 : -power * std::pow(lambda, -power - 1.0);
  }
  /// Whether Σ must be positive definite: for every p > 0 (λ^{-p} needs λ > 0).
  [[nodiscard]] bool requires_positive_definite() const noexcept { return power > 0.0; }
  /// ψ(λ) = λ g(λ)² = λ^{1−2p}: the eigenvalue of Σ_Y that λ becomes.
  [[nodiscard]] double output_eigenvalue(double lambda, double /*trace*/) const {
    return lambda * value(lambda) * value(lambda);
  }
};

}  // namespace spectral
