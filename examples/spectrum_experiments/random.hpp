// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Seeded random numbers whose values depend only on the seed: std::mt19937_64's output is fixed
/// by the standard, but std::normal_distribution's algorithm is not, so the distributions are
/// written out here (uniform from the top 53 bits, normal by Box–Muller).

#include <spectral/core/types.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace spectral::cli {

class random_source {
 public:
  /// Streams for different (seed, stream) pairs are decorrelated by a SplitMix-style mix.
  explicit random_source(std::uint64_t seed, std::uint64_t stream = 0)
      : engine_(mix(seed ^ mix(stream + 0x9E3779B97F4A7C15ULL))) {}

  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11U) * 0x1.0p-53; }

  /// Uniform integer in [0, n); the modulo bias is below 2^-40 for the n used here.
  index_t below(index_t n) {
    return static_cast<index_t>(engine_() % static_cast<std::uint64_t>(n));
  }

  /// Standard normal (Box–Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double radius = std::sqrt(-2.0 * std::log1p(-uniform()));  // 1 − u > 0: no log(0)
    const double angle = 2.0 * std::numbers::pi * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

  /// A rows×cols matrix of independent N(0, scale²) entries, filled row by row.
  row_matrix<double> normal_matrix(index_t rows, index_t cols, double scale = 1.0) {
    row_matrix<double> m(rows, cols);
    for (index_t r = 0; r < rows; ++r) {
      for (index_t c = 0; c < cols; ++c) {
        m(r, c) = scale * normal();
      }
    }
    return m;
  }

 private:
  static std::uint64_t mix(std::uint64_t x) {
    x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31U);
  }

  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace spectral::cli
