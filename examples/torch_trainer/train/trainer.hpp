// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The INTL pretraining loop (docs/math.md#losses, docs/trainer.md#cifar) and its evaluation:
/// data, the augmented views of each image (two, six with multi-crop, or the flags' list),
/// encoder + projector, the library's IterNorm through the bridge, SGD with warm-up and cosine
/// decay, INTL-M's momentum encoder, a checkpoint per epoch, metrics and plots.
///
/// Multi-process (docs/math.md#distributed-gather, docs/trainer.md#architecture): one process per
/// device over c10d. Every rank builds the same permutation and takes its contiguous block of each
/// global batch, augments it with the random numbers one process would use for those rows,
/// gathers the projections before the transform (so the loss is the global one everywhere), syncs
/// BN statistics, and averages gradients; the result equals the one-process run on the global
/// batch up to float rounding. Rank 0 alone evaluates and writes files.
///
/// On a GPU (--device cuda, a LibTorch with CUDA): model, optimizer state, augmentation and the
/// transform (spectral::cuda through the bridge) run on the device; --amp adds fp16 autocast with
/// dynamic loss scaling (or bf16 without, --amp-dtype bf16) and --channels-last the NHWC layout;
/// evaluation extracts features on the device and runs k-NN and the linear probe on the CPU.

#include "data/augment.hpp"
#include "data/datasets.hpp"
#include "data/image_folder_loader.hpp"
#include "data/multi_crop.hpp"
#include "distributed/data_parallel.hpp"
#include "distributed/gather.hpp"
#include "distributed/process_group.hpp"
#include "models/ema.hpp"
#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "torch_bridge.hpp"
#include "train/checkpoint.hpp"
#include "train/config.hpp"
#include "train/device.hpp"
#include "train/evaluate.hpp"
#include "train/optimizer.hpp"
#include "train/recipes.hpp"
#include "train/report.hpp"
#include "train/run_config.hpp"
#include "train/run_lock.hpp"
#include "train/schedule.hpp"
#include "train/step.hpp"
#include "train/throughput.hpp"
#include "train/views.hpp"

#include <spectral/spectral.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/DeviceGuard.h>
#include <nlohmann/json.hpp>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
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
  const auto order =
      torch::randperm(full.images.size(0), generator, torch::kInt64).slice(0, 0, count);
  return {full.images.index_select(0, order), full.labels.index_select(0, order), full.classes,
          full.name};
}

/// The settings of a training run beyond the numeric ranges (validate_settings(), which train()
/// runs first), before any data is read or file written.
inline void validate(const train_config& c) {
  SPECTRAL_EXPECTS(c.device == "cpu" || c.device.rfind("cuda", 0) == 0,
                   "--device: cpu or cuda[:N], got '", c.device, "'");
  SPECTRAL_EXPECTS(c.device == "cpu" || compat::built_with_cuda,
                   "--device cuda: this trainer build runs the library's transform on the CPU "
                   "only (the CUDA bridge is not built); use --device cpu");
  SPECTRAL_EXPECTS(!c.amp || c.device != "cpu",
                   "--amp: fp16 autocast needs --device cuda (got --device ", c.device, ")");
  // distributed training and ImageFolder input
  SPECTRAL_EXPECTS(c.batch % c.world_size == 0, "--batch ", c.batch,
                   " is not divisible by --world-size ", c.world_size,
                   " (the global batch is split evenly over the ranks)");
  SPECTRAL_EXPECTS(!c.data.empty(), "--data: the ", c.recipe,
                   " recipe has no default data folder; give --data");
  if (c.dataset == "imagefolder") {
    SPECTRAL_EXPECTS(!c.eval_only,
                     "--eval-only: not available with --dataset imagefolder "
                     "(ImageNet is evaluated by its own program)");
  }
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
    // The reference evaluates CIFAR-100 with CIFAR-10's statistics
    // (docs/trainer.md#reference-quirks).
    d.mean = {0.4914, 0.4822, 0.4465};
    d.std = {0.2470, 0.2435, 0.2616};
  } else {
    SPECTRAL_FAIL("--dataset: fashion-mnist, cifar10 or cifar100, got '", c.dataset, "'");
  }
  return d;
}

/// Evaluation of an encoder's backbone features: 5-NN always; with `full`, also 20/200-NN
/// (cosine) and the linear probe.
inline nlohmann::json evaluate_encoder(Encoder& encoder,
                                       const dataset_pair& data,
                                       const image_dataset& bank,
                                       const image_dataset& queries,
                                       bool full,
                                       std::int64_t linear_epochs,
                                       std::uint64_t seed) {
  encoder->eval();
  const torch::Tensor first = encoder->parameters().front();  // float64 and GPU runs too
  const auto dtype = first.scalar_type();
  const auto device = first.device();
  const auto features_of = [&](const torch::Tensor& images) {
    return encoder->features(to_normalized(images, data.mean, data.std).to(device, dtype));
  };
  const auto bank_features = extract_features(features_of, bank.images);
  const auto query_features = extract_features(features_of, queries.images);
  encoder->train();
  const auto classes = bank.classes;
  nlohmann::json r;
  const auto knn5 =
      knn_euclidean(bank_features, bank.labels, query_features, queries.labels, classes, 5);
  r["knn_top1"] = knn5.top1;
  r["knn_top5"] = knn5.top5;
  const auto report = feature_spectrum(query_features);
  r["effective_rank"] = report.effective_rank;
  r["condition_number"] = std::isfinite(report.condition_number)
                              ? nlohmann::json(report.condition_number)
                              : nlohmann::json(nullptr);
  if (full) {
    const auto knn20 =
        knn_cosine(bank_features, bank.labels, query_features, queries.labels, classes, 20);
    const auto knn200 =
        knn_cosine(bank_features, bank.labels, query_features, queries.labels, classes, 200);
    const auto linear = linear_probe(bank_features, bank.labels, query_features, queries.labels,
                                     classes, linear_epochs, seed);
    r["knn20_cosine_top1"] = knn20.top1;
    r["knn200_cosine_top1"] = knn200.top1;
    r["linear_top1"] = linear.top1;
    r["linear_top5"] = linear.top5;
  }
  return r;
}

namespace detail {

/// How this process joins the job: Gloo for CPU tensors, NCCL for CUDA ones.
[[nodiscard]] inline dist_config process_group_config(const train_config& c) {
  dist_config d;
  d.rank = c.rank;
  d.world_size = c.world_size;
  d.master_addr = c.master_addr;
  d.master_port = c.master_port;
  d.backend = c.device == "cpu" ? "gloo" : "nccl";  // NCCL reduces on the current GPU
  // Start-up fails fast when a peer does not come; the collectives wait longer, as rank 0
  // evaluates alone between epochs while the others wait in their next collective.
  d.rendezvous_timeout_seconds = c.rendezvous_timeout;
  d.timeout_seconds = 3600;
  d.log = &std::cerr;  // says what it waits for, before it blocks
  return d;
}

/// Seed of the augmentation of global step `step` (splitmix64 of the pair): every rank draws
/// the whole global batch's random numbers from it and keeps its own rows.
[[nodiscard]] inline std::uint64_t augment_step_seed(std::uint64_t seed, std::int64_t step) {
  std::uint64_t x =
      seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(step) + 0x632BE59BD9B4E019ULL;
  x = (x ^ (x >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27U)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31U);
}

/// augment() of rows [rank·n, (rank+1)·n) of a global batch of world·n images, n = local's rows:
/// the generator steps over the other ranks' draws (a fixed number per sample), so the result
/// equals the same rows of one process augmenting the whole batch.
[[nodiscard]] inline torch::Tensor augment_rows(const torch::Tensor& local,
                                                const augment_config& config,
                                                at::Generator& generator,
                                                int rank,
                                                int world) {
  const std::int64_t n = local.size(0);
  const auto skip = [&](std::int64_t rows) {
    if (rows > 0) {
      (void)torch::rand({rows, augment_draws_per_sample}, generator,
                        torch::TensorOptions().dtype(torch::kFloat64));
    }
  };
  skip(n * rank);
  torch::Tensor x = augment(local, config, generator);
  skip(n * (world - 1 - rank));
  return x;
}

/// This rank's ImageFolder loader over ROOT/train: two decode-time crops per image (six with
/// --multi-crop), sharded as the in-memory sampler (rank r decodes only its block of every
/// global batch).
/// @throws invalid_input naming --data for a missing root or train/ folder, or no images
[[nodiscard]] inline std::unique_ptr<image_folder_loader> make_image_folder_loader(
    const train_config& c, int cores) {
  std::error_code ec;
  SPECTRAL_EXPECTS(std::filesystem::is_directory(c.data, ec), "--data ", c.data.string(),
                   ": no such ImageFolder root (expected ROOT/train/<class>/*.JPEG)");
  const auto root = c.data / "train";
  SPECTRAL_EXPECTS(std::filesystem::is_directory(root, ec), "--data ", c.data.string(),
                   ": the ImageFolder root has no train/ folder (expected "
                   "ROOT/train/<class>/*.JPEG)");
  image_folder folder;
  try {
    folder = scan_image_folder(root);
  } catch (const invalid_input& e) {
    SPECTRAL_EXPECTS(false, "--data ", c.data.string(), ": ", e.what());
  }
  image_folder_loader_options options;
  options.batch_size = c.batch / c.world_size;
  options.image_size = c.image_size;
  options.threads = c.loader_threads > 0 ? c.loader_threads : cores;
  options.seed = c.seed;
  options.crops = image_folder_crops(c);
  options.shard_rank = c.rank;
  options.shard_count = c.world_size;
  options.pin_memory = c.device != "cpu";  // so the copy to the GPU can overlap
  return std::make_unique<image_folder_loader>(std::move(folder), options);
}

}  // namespace detail

/**
 * @brief Runs (or resumes) an INTL pretraining and returns the summary written to
 *        `<out>/summary.json`.
 * @return on ranks other than 0, only {rank, steps, last_step_loss}
 * @throws invalid_input for bad settings, std::runtime_error for data and checkpoint problems,
 *         numerical_error when the loss becomes NaN (the last good checkpoint is kept); c10::Error
 *         when the ranks cannot meet or a collective times out.
 */
[[nodiscard]] nlohmann::json train(const train_config& c, std::ostream& log);

}  // namespace spectral::trainer
