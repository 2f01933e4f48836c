// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The random numbers of the loaders. Every random number of a sample comes from a generator
/// seeded by (seed, epoch, file index), and an epoch's order from its own seed, so that a batch
/// does not depend on the number of threads or their timing. The distributions are written
/// here (the standard library's differ between implementations), and so is torchvision's
/// RandomResizedCrop box.

#include <spectral/core/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// One view's crop: its output size and RandomResizedCrop area range (multi-crop,
/// docs/math.md#multi-crop).
struct view_crop {
  std::int64_t size = 224;
  double scale_min = 0.08, scale_max = 1.0;
};

namespace detail {

/// splitmix64 finaliser: decorrelates nearby seeds.
[[nodiscard]] inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Seed of the generator of file `index` in `epoch`: the same whatever thread decodes it.
[[nodiscard]] inline std::uint64_t sample_seed(std::uint64_t seed,
                                               std::int64_t epoch,
                                               std::int64_t index) {
  return mix64(mix64(mix64(seed) ^ static_cast<std::uint64_t>(epoch)) ^
               static_cast<std::uint64_t>(index));
}

/// Seed of the permutation of `epoch`; distinct from every sample seed's stream.
[[nodiscard]] inline std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch) {
  return mix64(mix64(seed ^ 0x5851F42D4C957F2DULL) + static_cast<std::uint64_t>(epoch));
}

// Own distributions: std::uniform_*_distribution differ between standard libraries, and the
// crops must be reproducible from the seed alone.
[[nodiscard]] inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

[[nodiscard]] inline double uniform_between(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform01(rng);
}

/// Uniform integer in [0, n), n ≥ 1.
[[nodiscard]] inline std::int64_t uniform_below(std::mt19937_64& rng, std::int64_t n) {
  const auto k = static_cast<std::int64_t>(uniform01(rng) * static_cast<double>(n));
  return std::min(k, n - 1);
}

/// Fisher–Yates permutation of 0..n-1.
[[nodiscard]] inline std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    p[static_cast<std::size_t>(i)] = i;
  }
  std::mt19937_64 rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    const std::int64_t j = uniform_below(rng, i + 1);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

/// A crop box in pixels of the full image.
struct crop_box {
  std::int64_t top = 0, left = 0, height = 0, width = 0;
};

/// torchvision's RandomResizedCrop.get_params (Python's round() is half-to-even, as nearbyint).
[[nodiscard]] inline crop_box random_resized_crop_box(std::int64_t height,
                                                      std::int64_t width,
                                                      double scale_min,
                                                      double scale_max,
                                                      double ratio_min,
                                                      double ratio_max,
                                                      std::mt19937_64& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(ratio_min);
  const double log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform_between(rng, scale_min, scale_max);
    const double aspect = std::exp(uniform_between(rng, log_lo, log_hi));
    const auto w = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target_area * aspect)));
    const auto h = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target_area / aspect)));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const std::int64_t top = uniform_below(rng, height - h + 1);
      const std::int64_t left = uniform_below(rng, width - w + 1);
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width;
  std::int64_t h = height;
  if (in_ratio < ratio_min) {
    h = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(w) / ratio_min));
  } else if (in_ratio > ratio_max) {
    w = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(h) * ratio_max));
  }
  h = std::clamp<std::int64_t>(h, 1, height);
  w = std::clamp<std::int64_t>(w, 1, width);
  return {(height - h) / 2, (width - w) / 2, h, w};
}

inline void expect_crop_params(
    std::int64_t out_size, double scale_min, double scale_max, double ratio_min, double ratio_max) {
  SPECTRAL_EXPECTS(out_size >= 1 && out_size <= 65535, "image size: expected 1-65535, got ",
                   out_size);
  SPECTRAL_EXPECTS(std::isfinite(scale_min) && std::isfinite(scale_max) && scale_min > 0.0 &&
                       scale_min <= scale_max,
                   "crop scale: expected 0 < min <= max, got (", scale_min, ", ", scale_max, ")");
  SPECTRAL_EXPECTS(std::isfinite(ratio_min) && std::isfinite(ratio_max) && ratio_min > 0.0 &&
                       ratio_min <= ratio_max,
                   "crop ratio: expected 0 < min <= max, got (", ratio_min, ", ", ratio_max, ")");
}

}  // namespace detail
}  // namespace spectral::trainer
