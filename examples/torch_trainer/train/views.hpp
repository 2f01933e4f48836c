// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The views of every training image: the recipe's (two, or the six of multi-crop), or the
/// per-view lists of the flags, and the augmentation each becomes in memory or in the
/// ImageFolder loader.

#include "data/augment.hpp"
#include "data/datasets.hpp"
#include "data/multi_crop.hpp"
#include "train/config.hpp"

#include <spectral/core/error.hpp>

#include <cstdint>
#include <vector>

namespace spectral::trainer {

/// The side of the images a data set's training views are cut from: the ImageFolder crop
/// size, or the in-memory data set's own (28 for Fashion-MNIST, 32 for CIFAR).
[[nodiscard]] inline std::int64_t view_image_size(const train_config& c) {
  if (c.dataset == "imagefolder") {
    return c.image_size;
  }
  return c.dataset == "fashion-mnist" ? 28 : 32;
}

/**
 * @brief The recipe's views: the reference's two (docs/trainer.md#cifar in memory: no blur,
 *        solarisation 0 / 0.2; docs/trainer.md#imagenet-pretraining on ImageFolder: blur 1.0 /
 *        0.1, solarisation 0 / 0.2), or with multi_crop the six of multi_crops() with blur 0.5
 *        and solarisation 0.1 each (docs/math.md#multi-crop).
 */
[[nodiscard]] inline std::vector<view_spec> default_views(const train_config& c) {
  const std::int64_t size = view_image_size(c);
  if (c.multi_crop) {
    std::vector<view_spec> views;
    for (const view_crop& crop : multi_crops(size)) {
      views.push_back({crop.size, crop.scale_min, crop.scale_max, 0.5, 0.1});
    }
    return views;
  }
  const bool image_folder = c.dataset == "imagefolder";
  return {{size, 0.08, 1.0, image_folder ? 1.0 : 0.0, 0.0},
          {size, 0.08, 1.0, image_folder ? 0.1 : 0.0, 0.2}};
}

/// The views a run trains on: c.views when set, else default_views(c).
[[nodiscard]] inline std::vector<view_spec> resolved_views(const train_config& c) {
  return c.views.empty() ? default_views(c) : c.views;
}

/**
 * @brief Per-view lists as the reference's flags give them: `sizes` sets the number of views
 *        (empty: the recipe's); each other list is empty (the recipe's value per view, which
 *        needs the recipe's number of views) or has one entry per view.
 * @throws invalid_input naming the flag whose list does not fit
 */
[[nodiscard]] inline std::vector<view_spec> views_from_lists(
    const train_config& c,
    const std::vector<std::int64_t>& sizes,
    const std::vector<double>& min_scales,
    const std::vector<double>& max_scales,
    const std::vector<double>& blur_probs,
    const std::vector<double>& solarize_probs) {
  std::vector<view_spec> views = default_views(c);
  if (sizes.empty() && min_scales.empty() && max_scales.empty() && blur_probs.empty() &&
      solarize_probs.empty()) {
    return {};  // the recipe's, resolved when the run starts
  }
  const std::size_t recipe_views = views.size();
  const std::size_t count = sizes.empty() ? recipe_views : sizes.size();
  const auto fill = [&](const char* flag, const auto& list, auto member) {
    if (list.empty()) {
      SPECTRAL_EXPECTS(count == recipe_views, flag, ": give one value per view (", count,
                       " from --crop-sizes); the recipe's values are for ", recipe_views, " views");
      return;
    }
    SPECTRAL_EXPECTS(list.size() == count, flag, ": ", list.size(), " values for ", count,
                     " views (one per view)");
    views.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      views[i].*member = list[i];
    }
  };
  fill("--min-scales", min_scales, &view_spec::scale_min);
  fill("--max-scales", max_scales, &view_spec::scale_max);
  fill("--blur-probs", blur_probs, &view_spec::blur_p);
  fill("--solarize-probs", solarize_probs, &view_spec::solarize_p);
  fill("--crop-sizes", sizes, &view_spec::size);
  return views;
}

/// The augmentation of every view (resolved_views(): the recipe's or the flags' crops and
/// probabilities) on the in-memory data sets.
inline std::vector<augment_config> make_view_configs(const train_config& c,
                                                     const image_dataset& train_set) {
  std::vector<augment_config> configs;
  for (const view_spec& view : resolved_views(c)) {
    // Training views carry each data set's own statistics; evaluation uses `data.mean/std`
    // (CIFAR-10's for both CIFAR sets, the reference's quirk).
    augment_config v = c.dataset == "fashion-mnist"
                           ? fashion_mnist_view(0, view.size)
                           : cifar_view(0, static_cast<int>(train_set.classes), view.size);
    v.scale_min = view.scale_min;
    v.scale_max = view.scale_max;
    v.blur_p = view.blur_p;
    v.solarize_p = view.solarize_p;
    configs.push_back(v);
  }
  return configs;
}

/// The views of ImageFolder training: the loader crops at decode time (image_folder_crops());
/// flip, colour, blur and solarisation follow here.
inline std::vector<augment_config> make_image_folder_view_configs(const train_config& c) {
  std::vector<augment_config> configs;
  for (const view_spec& view : resolved_views(c)) {
    augment_config v = imagenet_view(0, view.size);
    v.blur_p = view.blur_p;
    v.solarize_p = view.solarize_p;
    configs.push_back(v);
  }
  return configs;
}

/// The loader's decode-time crop of every view.
[[nodiscard]] inline std::vector<view_crop> image_folder_crops(const train_config& c) {
  std::vector<view_crop> crops;
  for (const view_spec& view : resolved_views(c)) {
    crops.push_back({view.size, view.scale_min, view.scale_max});
  }
  return crops;
}

}  // namespace spectral::trainer
