// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The reference's training recipes as named presets (docs/trainer.md): its cfg.py defaults
/// and scripts for ImageNet, ImageNet-100 and CIFAR, and the Fashion-MNIST main job. A recipe
/// is a whole train_config; flags given on the command line override its fields.

#include "train/config.hpp"

#include <spectral/core/error.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace spectral::trainer {

struct recipe_info {
  std::string_view name;
  std::string_view summary;  ///< one line for --help
};

/// Every recipe, in the order --help lists them.
inline constexpr std::array<recipe_info, 10> recipes{{
    {"fashion-mnist", "the CPU main job: ResNet-18 (CIFAR stem), projector 2048, 30 epochs"},
    {"cifar10", "ResNet-18 (CIFAR stem), projector 2048, lr 0.3, wd 1e-4 on all, 1000 epochs"},
    {"cifar100", "as cifar10 on CIFAR-100"},
    {"imagenet",
     "cfg.py: ResNet-50, projector 8192, lr 0.5, wd 1e-5 (not on 1-D), 100 epochs, "
     "AMP on CUDA"},
    {"imagenet-100ep-multicrop", "imagenet with intl_m and 6 crops (ep100_multi-crop_ema.sh)"},
    {"imagenet-200ep-multicrop", "the same, 200 epochs, lr 0.4"},
    {"imagenet-400ep-multicrop", "the same, 400 epochs, lr 0.4"},
    {"imagenet-800ep-multicrop", "the same, 800 epochs, lr 0.3"},
    {"imagenet-800ep", "imagenet with intl and 2 crops, 800 epochs, lr 0.3 (ep800.sh)"},
    {"imagenet100",
     "in100.sh: ResNet-18, batch 128, projector 4096 -> 8192, 400 epochs, lr 0.5, "
     "wd 2.5e-5"},
}};

/// The recipe a data set gets when --recipe is not given.
[[nodiscard]] inline std::string_view default_recipe(std::string_view dataset) {
  return dataset == "imagefolder" ? std::string_view("imagenet") : dataset;
}

/**
 * @brief The configuration of a recipe.
 * @param cuda whether the run is on a GPU: the ImageNet recipes then use fp16 autocast, as the
 *        reference does (on the CPU they run in float32)
 * @throws invalid_input naming an unknown recipe and listing the known ones
 */
[[nodiscard]] inline train_config recipe_config(std::string_view name, bool cuda) {
  train_config c;  // the fashion-mnist recipe
  c.recipe = std::string(name);
  if (name == "fashion-mnist") {
    return c;
  }
  if (name == "cifar10" || name == "cifar100") {  // docs/trainer.md#cifar, scripts/cifar10.sh
    c.dataset = std::string(name);
    c.data.clear();  // no default location: --data is required
    c.epochs = 1000;
    c.knn_every = 5;
    c.linear_epochs = 500;
    return c;
  }
  // ImageNet and ImageNet-100 (docs/trainer.md#architecture, docs/trainer.md#imagenet-pretraining,
  // docs/trainer.md#imagenet-100): ImageNet stem, no weight decay on biases and BN parameters,
  // 224-pixel crops, mixed precision on GPUs.
  const auto imagenet_family = [&] {
    c.dataset = "imagefolder";
    c.data.clear();
    c.cifar_stem = false;
    c.decay_1d = false;
    c.image_size = 224;
    c.amp = cuda;
  };
  if (name == "imagenet100") {
    imagenet_family();
    c.depth = 18;
    c.batch = 128;
    c.projector_hidden = 4096;
    c.projector = 8192;
    c.epochs = 400;
    c.lr = 0.5;
    c.weight_decay = 2.5e-5;
    return c;
  }
  struct imagenet_variant {
    std::string_view name;
    std::int64_t epochs;
    double lr;
    bool momentum_and_multi_crop;
  };
  constexpr std::array<imagenet_variant, 6> variants{{{"imagenet", 100, 0.5, false},
                                                      {"imagenet-100ep-multicrop", 100, 0.5, true},
                                                      {"imagenet-200ep-multicrop", 200, 0.4, true},
                                                      {"imagenet-400ep-multicrop", 400, 0.4, true},
                                                      {"imagenet-800ep-multicrop", 800, 0.3, true},
                                                      {"imagenet-800ep", 800, 0.3, false}}};
  for (const imagenet_variant& v : variants) {
    if (name == v.name) {
      imagenet_family();
      c.depth = 50;
      c.projector = 8192;  // hidden layers of the same width
      c.weight_decay = 1e-5;
      c.epochs = v.epochs;
      c.lr = v.lr;
      c.method = v.momentum_and_multi_crop ? ssl_method::intl_m : ssl_method::intl;
      c.multi_crop = v.momentum_and_multi_crop;
      c.momentum0 = 0.996;
      return c;
    }
  }
  std::string known;
  for (const recipe_info& r : recipes) {
    known += (known.empty() ? "" : ", ") + std::string(r.name);
  }
  throw invalid_input(
      spectral::detail::concat("--recipe: unknown recipe '", name, "' (known: ", known, ")"));
}

}  // namespace spectral::trainer
