// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The INTL pretraining loop (spec §5, §6.5) and its evaluation: data, two augmented views per
/// image, encoder + projector, the library's IterNorm through the bridge, SGD with warm-up and
/// cosine decay, INTL-M's momentum encoder, a checkpoint per epoch, metrics and plots.

#include "bridge/intl_loss.hpp"
#include "data/augment.hpp"
#include "data/datasets.hpp"
#include "models/ema.hpp"
#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "train/checkpoint.hpp"
#include "train/config.hpp"
#include "train/evaluate.hpp"
#include "train/report.hpp"
#include "train/schedule.hpp"

#include <spectral/spectral.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace spectral::trainer {

/// Both splits of the chosen dataset, with their normalisation constants.
struct dataset_pair {
  image_dataset train;
  image_dataset test;
  std::vector<double> mean;
  std::vector<double> std;
};

namespace detail {

/// The first `count` images after a seeded shuffle (0: all), so subsets are class-balanced in
/// expectation and the same for a given seed.
inline image_dataset subset(const image_dataset& full, std::int64_t count, std::uint64_t seed) {
  if (count <= 0 || count >= full.images.size(0)) {
    return full;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto order = torch::randperm(full.images.size(0), generator, torch::kInt64).slice(0, 0, count);
  return {full.images.index_select(0, order), full.labels.index_select(0, order), full.classes,
          full.name};
}

inline void validate(const train_config& c) {
  SPECTRAL_EXPECTS(c.epochs >= 1, "--epochs: must be >= 1, got ", c.epochs);
  SPECTRAL_EXPECTS(c.batch >= 4, "--batch: must be >= 4, got ", c.batch);
  SPECTRAL_EXPECTS(c.lr > 0.0 && std::isfinite(c.lr), "--lr: must be > 0, got ", c.lr);
  SPECTRAL_EXPECTS(c.weight_decay >= 0.0, "--wd: must be >= 0, got ", c.weight_decay);
  SPECTRAL_EXPECTS(c.depth == 18 || c.depth == 50, "--arch: resnet18 or resnet50, got depth ", c.depth);
  SPECTRAL_EXPECTS(c.width >= 4, "--width: must be >= 4, got ", c.width);
  SPECTRAL_EXPECTS(c.projector >= 2, "--projector: must be >= 2, got ", c.projector);
  SPECTRAL_EXPECTS(c.warmup_epochs >= 0, "--warmup-epochs: must be >= 0, got ", c.warmup_epochs);
  SPECTRAL_EXPECTS(c.device == "cpu" || c.device == "cuda", "--device: cpu or cuda, got '", c.device, "'");
  SPECTRAL_EXPECTS(c.device == "cpu",
                   "--device cuda: this trainer build runs the library's transform on the CPU "
                   "only (the CUDA bridge is not built); use --device cpu");
}

}  // namespace detail

/// @throws std::runtime_error / invalid_input naming the folder or file for a missing or
///         corrupt dataset, or an unknown dataset name.
inline dataset_pair load_dataset(const train_config& c) {
  dataset_pair d;
  if (c.dataset == "fashion-mnist") {
    d.train = load_fashion_mnist(c.data, true);
    d.test = load_fashion_mnist(c.data, false);
    d.mean = {0.2860};
    d.std = {0.3530};
  } else if (c.dataset == "cifar10" || c.dataset == "cifar100") {
    const int classes = c.dataset == "cifar10" ? 10 : 100;
    d.train = load_cifar(c.data, classes, true);
    d.test = load_cifar(c.data, classes, false);
    // The reference evaluates CIFAR-100 with CIFAR-10's statistics (spec §6.8 item 11).
    d.mean = {0.4914, 0.4822, 0.4465};
    d.std = {0.2470, 0.2435, 0.2616};
  } else {
    SPECTRAL_FAIL("--dataset: fashion-mnist, cifar10 or cifar100, got '", c.dataset, "'");
  }
  return d;
}

/// Evaluation of an encoder's backbone features: 5-NN always; with `full`, also 20/200-NN
/// (cosine) and the linear probe.
inline nlohmann::json evaluate_encoder(Encoder& encoder, const dataset_pair& data,
                                       const image_dataset& bank, const image_dataset& queries,
                                       bool full, std::int64_t linear_epochs, std::uint64_t seed) {
  encoder->eval();
  const auto features_of = [&](const torch::Tensor& images) {
    return encoder->features(to_normalized(images, data.mean, data.std));
  };
  const auto bank_features = extract_features(features_of, bank.images);
  const auto query_features = extract_features(features_of, queries.images);
  encoder->train();
  const auto classes = bank.classes;
  nlohmann::json r;
  const auto knn5 = knn_euclidean(bank_features, bank.labels, query_features, queries.labels, classes, 5);
  r["knn_top1"] = knn5.top1;
  r["knn_top5"] = knn5.top5;
  const auto report = feature_spectrum(query_features);
  r["effective_rank"] = report.effective_rank;
  r["condition_number"] = std::isfinite(report.condition_number) ? nlohmann::json(report.condition_number)
                                                                 : nlohmann::json(nullptr);
  if (full) {
    const auto knn20 = knn_cosine(bank_features, bank.labels, query_features, queries.labels, classes, 20);
    const auto knn200 = knn_cosine(bank_features, bank.labels, query_features, queries.labels, classes, 200);
    const auto linear = linear_probe(bank_features, bank.labels, query_features, queries.labels,
                                     classes, linear_epochs, seed);
    r["knn20_cosine_top1"] = knn20.top1;
    r["knn200_cosine_top1"] = knn200.top1;
    r["linear_top1"] = linear.top1;
    r["linear_top5"] = linear.top5;
  }
  return r;
}

/// The augmentation of every view: the reference's two views (spec §6.5), or with multi-crop
/// six crops whose sizes and scale ranges follow spec §5.4 (224, 224, 192, 160, 128, 96 scaled
/// to the image size), blur p = 0.5 and solarisation p = 0.1 on every crop.
inline std::vector<augment_config> make_view_configs(const train_config& c,
                                                     const image_dataset& train_set) {
  const std::int64_t size = train_set.images.size(2);
  const auto base = [&](int view, std::int64_t crop) {
    // Training views carry each data set's own statistics; evaluation uses `data.mean/std`
    // (CIFAR-10's for both CIFAR sets, the reference's quirk).
    return c.dataset == "fashion-mnist" ? fashion_mnist_view(view, crop)
                                        : cifar_view(view, static_cast<int>(train_set.classes), crop);
  };
  if (!c.multi_crop) {
    return {base(0, size), base(1, size)};
  }
  struct crop_spec {
    double fraction;
    double scale_min;
    double scale_max;
  };
  constexpr crop_spec crops[] = {{1.0, 0.2, 1.0},          {1.0, 0.2, 1.0},
                                 {6.0 / 7.0, 0.171, 0.857}, {5.0 / 7.0, 0.143, 0.714},
                                 {4.0 / 7.0, 0.114, 0.571}, {3.0 / 7.0, 0.086, 0.429}};
  std::vector<augment_config> views;
  for (std::size_t i = 0; i < std::size(crops); ++i) {
    const auto crop = std::max<std::int64_t>(
        8, static_cast<std::int64_t>(std::lround(crops[i].fraction * static_cast<double>(size))));
    augment_config v = base(i == 0 ? 0 : 1, crop);
    v.scale_min = crops[i].scale_min;
    v.scale_max = crops[i].scale_max;
    v.blur_p = 0.5;
    v.solarize_p = 0.1;
    views.push_back(v);
  }
  return views;
}

/**
 * @brief The training step alone on random views made on the device (no loader, no
 *        augmentation): the compute side of the throughput gap. The first 2 steps warm up.
 * @return images/s over the timed steps (2 views per image, as in training)
 */
inline nlohmann::json synthetic_throughput(const train_config& c, std::ostream& log) {
  SPECTRAL_EXPECTS(c.synthetic_steps >= 1, "--synthetic-steps: must be >= 1, got ",
                   c.synthetic_steps);
  SPECTRAL_EXPECTS(c.synthetic_size >= 8, "--synthetic-size: must be >= 8, got ", c.synthetic_size);
  SPECTRAL_EXPECTS(c.synthetic_channels == 1 || c.synthetic_channels == 3,
                   "--synthetic-channels: 1 or 3, got ", c.synthetic_channels);
  resnet_options backbone = resnet_options::reference(c.depth, c.cifar_stem);
  backbone.in_channels = c.synthetic_channels;
  backbone.width = c.width;
  Encoder encoder(backbone, c.projector, c.projector);
  const std::int64_t covariance_size = c.transform.opts.axis == axis::samples ? c.batch : c.projector;
  IntlLoss loss(c.transform, c.beta >= 0.0 ? c.beta : trade_off_beta(covariance_size));
  torch::optim::SGD optimizer(sgd_parameter_groups(*encoder, c.weight_decay, c.decay_1d),
                              torch::optim::SGDOptions(c.lr).momentum(0.9));
  set_learning_rate(optimizer, c.lr * static_cast<double>(c.batch) / 256.0);
  const auto shape = std::vector<std::int64_t>{c.batch, c.synthetic_channels, c.synthetic_size,
                                               c.synthetic_size};
  constexpr std::int64_t warmup = 2;
  std::chrono::steady_clock::time_point start;
  double last_loss = 0.0;
  for (std::int64_t step = 0; step < warmup + c.synthetic_steps; ++step) {
    if (step == warmup) {
      start = std::chrono::steady_clock::now();
    }
    const auto terms = loss->forward({encoder->forward(torch::randn(shape)),
                                      encoder->forward(torch::randn(shape))});
    last_loss = terms.total.item<double>();
    optimizer.zero_grad();
    terms.total.backward();
    optimizer.step();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double images_per_s = static_cast<double>(c.synthetic_steps * c.batch) / seconds;
  log << "synthetic: " << c.synthetic_steps << " steps of " << c.batch << " images ("
      << c.synthetic_channels << "x" << c.synthetic_size << "x" << c.synthetic_size
      << ", 2 views), " << seconds / static_cast<double>(c.synthetic_steps) * 1e3 << " ms/step, "
      << images_per_s << " images/s on " << c.device << " with " << torch::get_num_threads()
      << " threads\n";
  return {{"synthetic",
           {{"images_per_s", images_per_s},
            {"ms_per_step", seconds / static_cast<double>(c.synthetic_steps) * 1e3},
            {"steps", c.synthetic_steps},
            {"batch", c.batch},
            {"image_size", c.synthetic_size},
            {"last_loss", last_loss},
            {"threads", torch::get_num_threads()}}}};
}

/**
 * @brief Runs (or resumes) an INTL pretraining and returns the summary written to
 *        `<out>/summary.json`.
 * @throws invalid_input for bad settings, std::runtime_error for data and checkpoint problems,
 *         numerical_error when the loss becomes NaN (the last good checkpoint is kept).
 */
inline nlohmann::json train(const train_config& c, std::ostream& log) {
  detail::validate(c);
  // Debian's LibTorch starts with one intra-op thread; use every core unless told otherwise.
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  torch::set_num_threads(c.threads > 0 ? c.threads : static_cast<int>(cores));
  torch::manual_seed(c.seed);
  if (c.synthetic) {
    return synthetic_throughput(c, log);
  }
  const dataset_pair data = load_dataset(c);
  const image_dataset train_set = detail::subset(data.train, c.train_subset, c.seed + 1);
  const image_dataset bank = detail::subset(data.train, c.eval_train_subset, c.seed + 2);
  const image_dataset queries = detail::subset(data.test, c.eval_test_subset, c.seed + 3);
  const std::int64_t steps_per_epoch = train_set.images.size(0) / c.batch;  // drop_last
  SPECTRAL_EXPECTS(steps_per_epoch >= 1, "--batch: ", c.batch, " is larger than the ",
                   train_set.images.size(0), " training images");
  const std::int64_t total_steps = c.epochs * steps_per_epoch;
  // A warm-up longer than the run is cut to the run (short CPU runs keep the default of 2).
  const std::int64_t warmup_steps = std::min(c.warmup_epochs, c.epochs) * steps_per_epoch;

  resnet_options backbone = resnet_options::reference(c.depth, c.cifar_stem);
  backbone.in_channels = train_set.images.size(1);
  backbone.width = c.width;
  Encoder encoder(backbone, c.projector, c.projector);
  std::optional<Encoder> teacher;
  if (c.method == ssl_method::intl_m) {
    teacher.emplace(backbone, c.projector, c.projector);
    copy_state(**teacher, *encoder);
    for (auto& p : (*teacher)->parameters()) {
      p.set_requires_grad(false);
    }
  }
  const std::int64_t covariance_size = c.transform.opts.axis == axis::samples ? c.batch : c.projector;
  const double beta = c.beta >= 0.0 ? c.beta : trade_off_beta(covariance_size);
  IntlLoss loss(c.transform, beta);
  const double base_lr = c.lr * static_cast<double>(c.batch) / 256.0;
  torch::optim::SGD optimizer(sgd_parameter_groups(*encoder, c.weight_decay, c.decay_1d),
                              torch::optim::SGDOptions(base_lr).momentum(0.9));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 4);
  const std::vector<augment_config> view_configs = make_view_configs(c, train_set);
  std::filesystem::create_directories(c.out);
  const auto checkpoint_path = c.out / "checkpoint.pt";
  const auto metrics_path = c.out / "metrics.jsonl";
  checkpoint_state state;
  nlohmann::json summary;
  if (c.eval_only) {  // the evaluation protocol on a saved encoder, nothing else
    state = load_checkpoint(checkpoint_path, *encoder, teacher ? teacher->get() : nullptr, optimizer,
                            generator);
    nlohmann::json result = evaluate_encoder(encoder, data, bank, queries, true, c.linear_epochs, c.seed);
    result["epoch"] = state.epoch;
    log << "evaluated " << checkpoint_path.string() << " (epoch " << state.epoch << "): "
        << result.dump() << '\n';
    write_atomically(c.out / "evaluation.json", result.dump(2) + "\n");
    return {{"evaluation", result}};
  }
  if (c.resume) {
    state = load_checkpoint(checkpoint_path, *encoder, teacher ? teacher->get() : nullptr, optimizer,
                            generator);
    log << "resumed from " << checkpoint_path.string() << " at epoch " << state.epoch << ", step "
        << state.step << '\n';
    if (std::filesystem::exists(c.out / "summary.json")) {
      std::ifstream in(c.out / "summary.json");
      summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (summary.is_discarded()) {
        summary = nlohmann::json::object();
      }
    }
  } else {
    std::filesystem::remove(metrics_path);
    if (c.evaluate_random_init) {
      log << "evaluating the randomly initialised encoder ...\n";
      summary["random_init"] = evaluate_encoder(encoder, data, bank, queries, true, c.linear_epochs, c.seed);
      log << "random init: 5-NN top-1 " << summary["random_init"]["knn_top1"].get<double>()
          << "%, linear top-1 " << summary["random_init"]["linear_top1"].get<double>() << "%\n";
    }
  }
  summary["config"] = {{"dataset", c.dataset}, {"train_images", train_set.images.size(0)},
                       {"eval_bank", bank.images.size(0)}, {"eval_queries", queries.images.size(0)},
                       {"depth", c.depth}, {"width", c.width}, {"projector", c.projector},
                       {"method", c.method == ssl_method::intl ? "intl" : "intl_m"},
                       {"views", view_configs.size()},
                       {"transform", std::string(to_string(c.transform.kind))},
                       {"axis", std::string(to_string(c.transform.opts.axis))},
                       {"iterations", c.transform.iterations}, {"beta", beta},
                       {"epochs", c.epochs}, {"batch", c.batch}, {"base_lr", base_lr},
                       {"weight_decay", c.weight_decay}, {"seed", c.seed},
                       {"threads", torch::get_num_threads()}};

  progress_bar bar(total_steps, c.progress);
  double last_loss = std::nan("");
  bool stopped_early = false;
  encoder->train();
  for (std::int64_t epoch = state.epoch; epoch < c.epochs && !stopped_early; ++epoch) {
    auto order_generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 1000 + static_cast<std::uint64_t>(epoch));
    const auto order = torch::randperm(train_set.images.size(0), order_generator, torch::kInt64);
    double loss_sum = 0.0;
    std::int64_t loss_count = 0;
    double lr = base_lr;
    const auto epoch_start = std::chrono::steady_clock::now();
    for (std::int64_t s = 0; s < steps_per_epoch; ++s) {
      if (c.max_steps > 0 && state.step >= c.max_steps) {
        stopped_early = true;
        break;
      }
      const auto index = order.slice(0, s * c.batch, (s + 1) * c.batch);
      const auto images = train_set.images.index_select(0, index);
      std::vector<torch::Tensor> views;
      for (const auto& config : view_configs) {
        views.push_back(augment(images, config, generator));
      }
      lr = learning_rate(base_lr, state.step, warmup_steps, total_steps);
      set_learning_rate(optimizer, lr);
      const auto diverged = [&](const std::string& what) {
        bar.finish_line();
        SPECTRAL_FAIL("training diverged at step ", state.step, " (epoch ", epoch + 1, "): ", what,
                      "; stopped, the last good checkpoint is ",
                      std::filesystem::exists(checkpoint_path) ? checkpoint_path.string()
                                                               : std::string("(none yet)"));
      };
      intl_terms terms;
      try {
        if (teacher) {
          ema_update(**teacher, *encoder, ema_momentum(c.momentum0, state.step, total_steps));
          torch::Tensor anchor;
          {
            torch::NoGradGuard no_grad;
            anchor = (*teacher)->forward(views[0]);
          }
          std::vector<torch::Tensor> online;
          for (std::size_t v = 1; v < views.size(); ++v) {
            online.push_back(encoder->forward(views[v]));
          }
          terms = loss->forward_momentum(anchor, online);
        } else {
          std::vector<torch::Tensor> projections;
          for (const auto& view : views) {
            projections.push_back(encoder->forward(view));
          }
          terms = loss->forward(projections);
        }
      } catch (const spectral::invalid_input& e) {  // NaN/Inf embeddings reach the transform
        diverged(e.what());
      } catch (const spectral::numerical_error& e) {
        diverged(e.what());
      }
      last_loss = terms.total.item<double>();
      if (!std::isfinite(last_loss)) {
        diverged("the loss is " + std::to_string(last_loss));
      }
      optimizer.zero_grad();
      terms.total.backward();
      optimizer.step();
      ++state.step;
      loss_sum += last_loss;
      ++loss_count;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      bar.update(state.step, epoch + 1, loss_sum / static_cast<double>(loss_count), lr,
                 static_cast<double>(loss_count * c.batch) / std::max(seconds, 1e-9));
    }
    if (stopped_early && loss_count < steps_per_epoch) {
      break;  // a partial epoch is not checkpointed: resume restarts at an epoch boundary
    }
    bar.finish_line();
    state.epoch = epoch + 1;
    save_checkpoint(checkpoint_path, *encoder, teacher ? teacher->get() : nullptr, optimizer,
                    generator, state);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    nlohmann::json record = {{"epoch", state.epoch}, {"step", state.step},
                             {"loss", loss_sum / static_cast<double>(std::max<std::int64_t>(loss_count, 1))},
                             {"lr", lr},
                             {"images_per_s", static_cast<double>(loss_count * c.batch) / seconds}};
    const bool last = state.epoch == c.epochs;
    if (last || (c.knn_every > 0 && state.epoch % c.knn_every == 0)) {
      record.update(evaluate_encoder(encoder, data, bank, queries, last, c.linear_epochs, c.seed));
    }
    append_json_line(metrics_path, record);
    log << "epoch " << state.epoch << "/" << c.epochs << ": " << record.dump() << '\n';
    if (last) {
      summary["final"] = record;
    }
  }
  summary["steps"] = state.step;
  summary["last_step_loss"] = last_loss;
  summary["completed"] = state.epoch == c.epochs;
  write_atomically(c.out / "summary.json", summary.dump(2) + "\n");
  if (state.epoch > 0 && !plot_metrics(c.out)) {
    log << "warning: gnuplot is missing or failed; metrics.jsonl has the numbers, no PNG plots\n";
  }
  return summary;
}

}  // namespace spectral::trainer
