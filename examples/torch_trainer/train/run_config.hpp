// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// A run's configuration as JSON: what --print-config prints, what a run saves beside its
/// checkpoint (run_config.json, with the command line and the library version) and what
/// --resume compares. Keys are the long flag names without the leading dashes, '-' written
/// '_'; a flag with a --no- form appears under its positive name ("decay_1d", "progress").

#include "train/config.hpp"
#include "train/views.hpp"

#include <spectral/core/error.hpp>
#include <spectral/losses/trace_loss.hpp>
#include <spectral/version.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace spectral::trainer {

/// The effective configuration (views and β resolved), one key per flag.
[[nodiscard]] inline nlohmann::json config_json(const train_config& c) {
  const std::vector<view_spec> views = resolved_views(c);
  const auto per_view = [&](auto member) {
    nlohmann::json list = nlohmann::json::array();
    for (const view_spec& v : views) {
      list.push_back(v.*member);
    }
    return list;
  };
  nlohmann::json beta = nullptr;  // none for a covariance too small for the automatic β
  if (c.beta.has_value() || covariance_size(c) >= 2) {
    beta = trace_loss_weight(c);
  }
  return {
      {"recipe", c.recipe},
      {"dataset", c.dataset},
      {"data", c.data.string()},
      {"out", c.out.string()},
      {"epochs", c.epochs},
      {"batch", c.batch},
      {"lr", c.lr},
      {"wd", c.weight_decay},
      {"decay_1d", c.decay_1d},
      {"warmup_epochs", c.warmup_epochs},
      {"arch", c.depth == 50 ? "resnet50" : "resnet18"},
      {"width", c.width},
      {"imagenet_stem", !c.cifar_stem},
      {"projector", c.projector},
      {"projector_hidden", projector_hidden_width(c)},
      {"method", c.method == ssl_method::intl ? "intl" : "intl_m"},
      {"multi_crop", c.multi_crop},
      {"crop_sizes", per_view(&view_spec::size)},
      {"min_scales", per_view(&view_spec::scale_min)},
      {"max_scales", per_view(&view_spec::scale_max)},
      {"blur_probs", per_view(&view_spec::blur_p)},
      {"solarize_probs", per_view(&view_spec::solarize_p)},
      {"momentum", c.momentum0},
      {"transform", c.transform.method.name},
      {"iters", c.transform.method.iterations},
      {"power", c.transform.method.power},
      {"axis", std::string(to_string(c.transform.opts.axis))},
      {"eps", c.transform.opts.eps},
      {"beta", beta},
      {"engine", c.transform.engine == transform_engine::library ? "library" : "reference"},
      {"train_subset", c.train_subset},
      {"eval_train_subset", c.eval_train_subset},
      {"eval_test_subset", c.eval_test_subset},
      {"knn_every", c.knn_every},
      {"linear_epochs", c.linear_epochs},
      {"random_baseline", c.evaluate_random_init},
      {"seed", c.seed},
      {"resume", c.resume},
      {"eval_only", c.eval_only},
      {"device", c.device},
      {"threads", c.threads},
      {"max_steps", c.max_steps},
      {"progress", c.progress},
      {"synthetic", c.synthetic},
      {"synthetic_steps", c.synthetic_steps},
      {"synthetic_size", c.synthetic_size},
      {"synthetic_channels", c.synthetic_channels},
      {"amp", c.amp},
      {"amp_dtype", c.amp_bf16 ? "bf16" : "fp16"},
      {"channels_last", c.channels_last},
      {"compare_reference", c.compare_reference},
      {"phases", c.phases},
      {"loader_only", c.loader_only},
      {"pipeline", c.pipeline},
      {"image_size", c.image_size},
      {"loader_threads", c.loader_threads},
      {"world_size", c.world_size},
      {"rank", c.rank},
      {"master_addr", c.master_addr},
      {"master_port", c.master_port},
      {"rendezvous_timeout", c.rendezvous_timeout},
      {"float64", c.float64},
  };
}

/// Settings that say how a run is carried out, not what it computes, and --epochs (a resumed
/// run may be extended; its learning-rate and momentum schedules follow the new total): --resume
/// may change these. Every other key of config_json() must equal the saved run's.
inline constexpr std::array<std::string_view, 25> operational_settings{"recipe",
                                                                       "data",
                                                                       "out",
                                                                       "resume",
                                                                       "eval_only",
                                                                       "device",
                                                                       "threads",
                                                                       "max_steps",
                                                                       "progress",
                                                                       "engine",
                                                                       "channels_last",
                                                                       "loader_threads",
                                                                       "world_size",
                                                                       "rank",
                                                                       "master_addr",
                                                                       "master_port",
                                                                       "rendezvous_timeout",
                                                                       "knn_every",
                                                                       "linear_epochs",
                                                                       "random_baseline",
                                                                       "eval_train_subset",
                                                                       "eval_test_subset",
                                                                       "compare_reference",
                                                                       "phases",
                                                                       "epochs"};

/// The file beside the checkpoint that holds the run's configuration.
[[nodiscard]] inline std::filesystem::path run_config_path(const std::filesystem::path& out) {
  return out / "run_config.json";
}

/// What run_config.json holds: the library version, the command line and config_json().
[[nodiscard]] inline nlohmann::json run_config_record(const train_config& c) {
  return {{"spectral_version", version_string},
          {"command_line", c.command_line},
          {"config", config_json(c)}};
}

/**
 * @brief The settings of `current` that differ from `saved` (a config_json() object), one
 *        "key: saved -> current" entry each, operational settings left out.
 */
[[nodiscard]] inline std::vector<std::string> differing_settings(const nlohmann::json& saved,
                                                                 const nlohmann::json& current) {
  std::vector<std::string> differences;
  for (const auto& [key, value] : current.items()) {
    if (std::find(operational_settings.begin(), operational_settings.end(), key) !=
        operational_settings.end()) {
      continue;
    }
    const auto found = saved.find(key);
    const std::string before = found == saved.end() ? "(not saved)" : found->dump();
    if (found == saved.end() || *found != value) {
      differences.push_back(key + ": " + before + " -> " + value.dump());
    }
  }
  return differences;
}

/**
 * @brief --resume's check: the run in `c.out` was started with the settings `c` has now.
 * @throws invalid_input naming every differing setting, or a missing or unreadable
 *         run_config.json
 */
inline void check_resume_matches(const train_config& c) {
  const auto path = run_config_path(c.out);
  std::ifstream in(path);
  SPECTRAL_EXPECTS(in.good(), "--resume: ", path.string(),
                   " is missing, so the run's settings cannot be checked (start a new run)");
  const nlohmann::json record = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  SPECTRAL_EXPECTS(!record.is_discarded() && record.is_object() && record.contains("config") &&
                       record["config"].is_object(),
                   "--resume: ", path.string(), " is not a run configuration");
  const std::vector<std::string> differences = differing_settings(record["config"], config_json(c));
  if (!differences.empty()) {
    std::ostringstream message;
    for (std::size_t i = 0; i < differences.size(); ++i) {
      message << (i == 0 ? "" : "; ") << differences[i];
    }
    SPECTRAL_EXPECTS(false, "--resume: the run in ", c.out.string(),
                     " was started with other settings (", message.str(),
                     "); give the saved values or start a new run");
  }
}

}  // namespace spectral::trainer
