// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The settings every method shares (options: axis, groups, shrinkage) and the per-group problem
/// shape they imply.

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <cmath>
#include <string_view>

namespace spectral {

/**
 * @brief Which dimension of an N×D embedding Z is transformed (the reference code's `--axis`).
 *
 * | axis     | reference | centring                  | covariance | divisor |
 * |----------|-----------|---------------------------|------------|---------|
 * | samples  | axis 0    | each sample over its D    | N×N        | D − 1   |
 * | features | axis 1    | each feature over the N   | D×D        | N − 1   |
 */
enum class axis {
  samples,  ///< N×N covariance of the samples (the reference's axis 0)
  features  ///< D×D covariance of the features (the reference's axis 1)
};

/// The axis's name, "samples" or "features" (for messages and command lines).
[[nodiscard]] constexpr std::string_view to_string(axis a) noexcept {
  return a == axis::samples ? "samples" : "features";
}

/**
 * @brief Settings shared by every method: the axis, the number of groups and the shrinkage.
 *
 * Groups split the D columns of Z into `groups` equal contiguous blocks; each block is an
 * independent N×(D/groups) embedding, transformed on its own (block-diagonal W on the
 * features axis, one N×N covariance per block on the samples axis).
 */
struct options {
  enum axis axis = axis::features;  ///< dimension whose covariance is transformed
  index_t groups = 1;               ///< number of equal contiguous column blocks of Z
  double eps = 0.0;                 ///< shrinkage: Σ + eps·I before the method sees it
  /// When M < K, let a matrix-function method (ZCA, power functions, IterNorm; see
  /// spectral_transform) solve on the M×M Gram XᵀX instead of the K×K covariance XXᵀ: the same
  /// Y, since F(XXᵀ)X = X F(XᵀX). false forces the K×K covariance. Every backend.
  bool smaller_side = true;

  /// @throws invalid_input when groups < 1 or eps is negative or not finite.
  void validate() const {
    SPECTRAL_EXPECTS(groups >= 1, "groups: must be >= 1, got ", groups);
    SPECTRAL_EXPECTS(std::isfinite(eps) && eps >= 0.0, "eps: must be finite and >= 0, got ", eps);
  }
};

/// The shape of one group's problem in the whitening layout X (K×M): K = covariance size,
/// M = observations per covariance entry.
struct group_shape {
  index_t size;          ///< K
  index_t observations;  ///< M
};

/**
 * @brief Checks an N×D embedding against the options and returns the per-group K×M shape.
 * @throws invalid_input for D not divisible by groups or fewer than 2 observations.
 */
[[nodiscard]] inline group_shape checked_group_shape(index_t rows,
                                                     index_t cols,
                                                     const options& opts) {
  SPECTRAL_EXPECTS(rows >= 1 && cols >= 1, "z: must be non-empty, got ", rows, "x", cols);
  SPECTRAL_EXPECTS(cols % opts.groups == 0, "groups: D=", cols,
                   " is not divisible by groups=", opts.groups);
  const index_t width = cols / opts.groups;
  const group_shape shape =
      opts.axis == axis::features ? group_shape{width, rows} : group_shape{rows, width};
  SPECTRAL_EXPECTS(shape.observations >= 2, "z: the ", to_string(opts.axis),
                   " axis needs at least 2 observations per covariance entry, got ",
                   shape.observations, " (z is ", rows, "x", cols, ", groups=", opts.groups, ")");
  return shape;
}

}  // namespace spectral
