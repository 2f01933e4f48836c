// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Recipes, per-view lists, the run configuration a run saves and --resume's comparison, and the
// backbone weights that leave (intl_export) and enter (intl_eval) the trainer.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "train/run_config.hpp"

#include "models/resnet.hpp"
#include "train/recipes.hpp"
#include "train/views.hpp"
#include "train/weights.hpp"

#include <spectral/core/error.hpp>

#include <common/temp_folder.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

namespace {

namespace st = spectral::trainer;
using Catch::Matchers::ContainsSubstring;

}  // namespace

TEST_CASE("recipes: every one validates, and the reference's values are where they belong",
          "[trainer][recipes]") {
  for (const auto& recipe : st::recipes) {
    for (const bool cuda : {false, true}) {
      const st::train_config c = st::recipe_config(recipe.name, cuda);
      CHECK(c.recipe == recipe.name);
      CHECK_NOTHROW(st::validate_settings(c));
      CHECK(st::resolved_views(c).size() == (c.multi_crop ? 6U : 2U));
      CHECK(c.amp == (cuda && c.dataset == "imagefolder"));
    }
  }
  const st::train_config imagenet = st::recipe_config("imagenet", false);
  CHECK(imagenet.depth == 50);
  CHECK_FALSE(imagenet.cifar_stem);
  CHECK(imagenet.projector == 8192);
  CHECK(st::projector_hidden_width(imagenet) == 8192);
  CHECK(imagenet.lr == 0.5);
  CHECK(imagenet.weight_decay == 1e-5);
  CHECK_FALSE(imagenet.decay_1d);
  CHECK(imagenet.epochs == 100);
  CHECK(st::default_recipe("imagefolder") == "imagenet");
  CHECK(st::default_recipe("cifar10") == "cifar10");
  const st::train_config in100 = st::recipe_config("imagenet100", false);
  CHECK(st::projector_hidden_width(in100) == 4096);
  CHECK(in100.projector == 8192);
  CHECK_THROWS_AS(st::recipe_config("imagenet-1ep", false), spectral::invalid_input);
  CHECK_THROWS_WITH(st::recipe_config("imagenet-1ep", false),
                    ContainsSubstring("imagenet-1ep") && ContainsSubstring("imagenet100"));
}

TEST_CASE("views_from_lists: the reference's per-view flags over the recipe's views",
          "[trainer][recipes]") {
  st::train_config c;                                          // fashion-mnist: two 28-pixel views
  CHECK(st::views_from_lists(c, {}, {}, {}, {}, {}).empty());  // the recipe's, resolved later
  const auto blurred = st::views_from_lists(c, {}, {}, {}, {0.5, 0.25}, {});
  REQUIRE(blurred.size() == 2);
  CHECK(blurred[0].blur_p == 0.5);
  CHECK(blurred[1].blur_p == 0.25);
  CHECK(blurred[1].solarize_p == 0.2);  // the recipe's
  CHECK(blurred[1].size == 28);
  const auto three = st::views_from_lists(c, {28, 20, 14}, {0.2, 0.1, 0.05}, {1, 0.5, 0.3},
                                          {0, 0, 0}, {0, 0.2, 0.1});
  REQUIRE(three.size() == 3);
  CHECK(three[2] == st::view_spec{14, 0.05, 0.3, 0.0, 0.1});
  CHECK_THROWS_AS(st::views_from_lists(c, {28, 20, 14}, {}, {}, {}, {}), spectral::invalid_input);
  CHECK_THROWS_WITH(st::views_from_lists(c, {28, 20, 14}, {}, {}, {}, {}),
                    ContainsSubstring("--min-scales") && ContainsSubstring("one value per view"));
  // Three views need every list, even after another list was given.
  CHECK_THROWS_WITH(st::views_from_lists(c, {28, 20, 14}, {0.2, 0.1, 0.05}, {}, {}, {}),
                    ContainsSubstring("--max-scales"));
  CHECK_THROWS_AS(st::views_from_lists(c, {}, {}, {}, {0.5, 0.5, 0.5}, {}),
                  spectral::invalid_input);
  CHECK_THROWS_WITH(st::views_from_lists(c, {}, {}, {}, {0.5, 0.5, 0.5}, {}),
                    ContainsSubstring("--blur-probs: 3 values"));
  c.views = three;
  c.views[1].scale_min = 0.9;  // above its maximum 0.5
  CHECK_THROWS_WITH(st::validate_settings(c), ContainsSubstring("--min-scales"));
}

TEST_CASE("run configuration: saved, compared key by key, operational settings free",
          "[trainer][run_config]") {
  spectral_test::temp_folder tmp;
  st::train_config c;
  c.out = tmp.path;
  c.command_line = {"intl_train", "--lr", "0.3"};
  const nlohmann::json record = st::run_config_record(c);
  CHECK(record["command_line"].size() == 3);
  CHECK(record["config"]["lr"] == 0.3);
  CHECK(record["config"]["crop_sizes"] == nlohmann::json::array({28, 28}));
  CHECK_THROWS_WITH(st::check_resume_matches(c),
                    ContainsSubstring("run_config.json") && ContainsSubstring("is missing"));
  std::ofstream(st::run_config_path(tmp.path)) << record.dump();

  st::train_config same = c;
  same.resume = true;
  same.threads = 7;  // operational
  same.epochs = 60;  // a longer run
  same.device = "cuda";
  CHECK_NOTHROW(st::check_resume_matches(same));

  st::train_config other = same;
  other.lr = 0.2;
  other.transform.method.iterations = 5;
  other.multi_crop = true;
  CHECK_THROWS_AS(st::check_resume_matches(other), spectral::invalid_input);
  CHECK_THROWS_WITH(st::check_resume_matches(other),
                    ContainsSubstring("lr: 0.3 -> 0.2") && ContainsSubstring("iters: 4 -> 5") &&
                        ContainsSubstring("multi_crop: false -> true") &&
                        ContainsSubstring("crop_sizes: [28,28] -> [28,28,24"));
  std::ofstream(st::run_config_path(tmp.path)) << "{ not json";
  CHECK_THROWS_WITH(st::check_resume_matches(same), ContainsSubstring("not a run configuration"));
}

TEST_CASE("weights: a state dict round trip and every mismatch named", "[trainer][weights]") {
  spectral_test::temp_folder tmp;
  st::resnet_options options = st::resnet_options::reference(18, /*cifar=*/false);
  options.width = 8;
  torch::manual_seed(3);
  st::ResNet source(options);
  st::named_tensor_map tensors;
  for (const auto& p : source->named_parameters()) {
    tensors.emplace(p.key(), p.value());
  }
  for (const auto& b : source->named_buffers()) {
    tensors.emplace(b.key(), b.value());
  }
  const auto file = tmp.path / "backbone.pth";
  st::write_state_dict(tensors, file);
  CHECK_THROWS_WITH(st::write_state_dict(tensors, file), ContainsSubstring("exists"));
  CHECK_NOTHROW(st::write_state_dict(tensors, file, /*replace=*/true));

  // The file is torch.save's format: this LibTorch reads it back as a plain state dict.
  const st::named_tensor_map read = st::pretrained_backbone(file);
  REQUIRE(read.size() == tensors.size());
  torch::manual_seed(4);
  st::ResNet target(options);
  CHECK_FALSE(torch::equal(target->named_parameters()["conv1.weight"],
                           source->named_parameters()["conv1.weight"]));
  st::load_backbone(target, read, file);
  for (const auto& [name, tensor] : tensors) {
    const auto params = target->named_parameters();
    const auto buffers = target->named_buffers();
    const torch::Tensor loaded = params.contains(name) ? params[name] : buffers[name];
    CHECK(torch::equal(loaded, tensor));
  }

  st::named_tensor_map wrong = tensors;
  wrong["conv1.weight"] = torch::zeros({8, 3, 3, 3});
  CHECK_THROWS_WITH(
      st::load_backbone(target, wrong, file),
      ContainsSubstring("backbone.conv1.weight") && ContainsSubstring("[8, 3, 7, 7]"));
  wrong = tensors;
  wrong.erase("bn1.running_var");
  CHECK_THROWS_WITH(st::load_backbone(target, wrong, file),
                    ContainsSubstring("backbone.bn1.running_var is missing"));
  wrong = tensors;
  wrong.emplace("fc.weight", torch::zeros({2, 64}));
  CHECK_THROWS_WITH(st::load_backbone(target, wrong, file),
                    ContainsSubstring("fc.weight is in the file but not in this model"));
  std::ofstream(tmp.path / "junk.pth") << "junk";
  CHECK_THROWS_WITH(st::pretrained_backbone(tmp.path / "junk.pth"),
                    ContainsSubstring("scripts/convert_checkpoint.py"));
}
