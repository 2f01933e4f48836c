// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The multi-crop views of docs/math.md#multi-crop, shared by training, the in-memory datasets'
/// augmentation and the loader's throughput mode.

#include "data/crop_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace spectral::trainer {

/// The six crops of docs/math.md#multi-crop for images of `size`: 1, 1, 6/7, 5/7, 4/7 and 3/7 of
/// it (224 → 224, 224, 192, 160, 128, 96; at least 8), each with its RandomResizedCrop area range.
[[nodiscard]] inline std::vector<view_crop> multi_crops(std::int64_t size) {
  struct crop_spec {
    double fraction;
    double scale_min;
    double scale_max;
  };
  constexpr crop_spec specs[] = {{1.0, 0.2, 1.0},           {1.0, 0.2, 1.0},
                                 {6.0 / 7.0, 0.171, 0.857}, {5.0 / 7.0, 0.143, 0.714},
                                 {4.0 / 7.0, 0.114, 0.571}, {3.0 / 7.0, 0.086, 0.429}};
  std::vector<view_crop> crops;
  for (const crop_spec& spec : specs) {
    const auto crop = std::max<std::int64_t>(
        8, static_cast<std::int64_t>(std::lround(spec.fraction * static_cast<double>(size))));
    crops.push_back({crop, spec.scale_min, spec.scale_max});
  }
  return crops;
}

}  // namespace spectral::trainer
