// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Everything a training run is told. The defaults are the `fashion-mnist` recipe (the
/// reference CIFAR recipe, docs/trainer.md#cifar, scaled to a few CPU minutes on Fashion-MNIST);
/// the other recipes are in train/recipes.hpp.

#include "models/resnet.hpp"
#include "torch_bridge.hpp"

#include <spectral/losses/trace_loss.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace spectral::trainer {

enum class ssl_method { intl, intl_m };

/// Upper bounds of the numeric settings, far above every recipe: they keep a run's memory and
/// time finite (a typo such as --width 6400 fails at once instead of exhausting the machine).
/// --help prints them.
namespace limits {
inline constexpr std::int64_t epochs = 10'000;
inline constexpr std::int64_t batch = 8'192;
inline constexpr double lr = 100.0;
inline constexpr double weight_decay = 1.0;
inline constexpr std::int64_t width = 256;
inline constexpr std::int64_t projector = 16'384;
/// --iters (the library itself takes up to iter_norm::max_iterations).
inline constexpr int iterations = 64;
inline constexpr double power = 2.0;
inline constexpr double eps = 100.0;
inline constexpr double beta = 10.0;
inline constexpr std::int64_t images = 100'000'000;  ///< subsets (larger ones mean "all")
inline constexpr std::int64_t linear_epochs = 1'000;
inline constexpr int threads = 1'024;
inline constexpr int loader_threads = 256;
inline constexpr std::int64_t steps = 1'000'000'000;  ///< --max-steps
inline constexpr std::int64_t synthetic_steps = 100'000;
inline constexpr std::int64_t image_size = 1'024;
inline constexpr int world_size = 1'024;
inline constexpr int rendezvous_timeout = 3'600;  ///< seconds
/// The automatic β = 0.01·(log2 K − 3) is negative below this covariance size K.
inline constexpr std::int64_t automatic_beta_min_size = 8;
/// Views per image (the reference's crop lists); the loader decodes at most this many.
inline constexpr std::size_t views = 16;
}  // namespace limits

/// One view of every training image: its crop and the random steps whose probability the
/// reference's multi-crop flags set per view (--crops_size, --min_scale_crops,
/// --max_scale_crops, --gaussian_prob, --solarization_prob).
struct view_spec {
  std::int64_t size = 28;                    ///< output height and width
  double scale_min = 0.08, scale_max = 1.0;  ///< RandomResizedCrop area range
  double blur_p = 0.0;
  double solarize_p = 0.0;
  friend bool operator==(const view_spec&, const view_spec&) = default;
};

struct train_config {
  std::string recipe = "fashion-mnist";  ///< the recipe the other defaults came from
  // data
  std::string dataset = "fashion-mnist";  ///< fashion-mnist | cifar10 | cifar100 | imagefolder
  std::filesystem::path data = "/usr/share/datasets/fashion-mnist";
  std::int64_t train_subset = 0;       ///< 0: the whole training split
  std::int64_t eval_train_subset = 0;  ///< kNN / linear-probe bank size; 0: whole split
  std::int64_t eval_test_subset = 0;   ///< 0: the whole test split
  // model
  int depth = 18;
  std::int64_t width = 64;  ///< channels of the first stage (64 = torchvision)
  bool cifar_stem = true;
  std::int64_t projector = 2048;      ///< output size of the 3-layer projector
  std::int64_t projector_hidden = 0;  ///< its two hidden layers' size; 0: `projector`
  // method
  ssl_method method = ssl_method::intl;
  transform_spec transform{};  ///< IterNorm T=4 over samples (docs/trainer.md#cifar)
  std::optional<double> beta;  ///< unset: 0.01·(log2 K − 3) from the batch
                               ///< (docs/math.md#trade-off-beta)
  double momentum0 = 0.996;    ///< INTL-M EMA start (docs/math.md#intl-m)
  bool multi_crop = false;     ///< 6 crops at 1, 1, 6/7, 5/7, 4/7, 3/7 of the size
                               ///< (docs/math.md#multi-crop)
  /// Every view's crop and probabilities; empty: the recipe's (default_views(): two views, or
  /// the six of multi_crop, at the data set's image size).
  std::vector<view_spec> views;
  // optimisation
  std::int64_t epochs = 30;
  std::int64_t batch = 256;
  double lr = 0.3;  ///< base_lr = lr · batch / 256
  double weight_decay = 1e-4;
  bool decay_1d = true;  ///< CIFAR recipe: weight decay on every parameter
  std::int64_t warmup_epochs = 2;
  // evaluation
  std::int64_t knn_every = 1;        ///< epochs between kNN evaluations (0: only at the end)
  std::int64_t linear_epochs = 100;  ///< linear-probe epochs on frozen features
  bool evaluate_random_init = true;  ///< also evaluate the untrained encoder, for contrast
  // run
  std::filesystem::path out = "runs/intl";
  std::uint64_t seed = 0;
  bool resume = false;
  bool eval_only = false;  ///< evaluate <out>/checkpoint.pt, no training
  std::string device = "cpu";
  std::int64_t max_steps = 0;  ///< stop after this many steps (tests); 0: no limit
  /// Throughput mode: random views of synthetic_size² pixels made on the device, no data, no
  /// augmentation, no evaluation; reports images/s of the training step alone.
  bool synthetic = false;
  std::int64_t synthetic_steps = 20;
  std::int64_t synthetic_size = 224;
  std::int64_t synthetic_channels = 3;
  // device and throughput
  bool amp = false;                ///< autocast (CUDA): fp16 + loss scaling, as the reference
  bool amp_bf16 = false;           ///< --amp-dtype bf16: bfloat16 autocast, no loss scaling
  bool channels_last = false;      ///< NHWC convolutions (CUDA)
  bool compare_reference = false;  ///< throughput modes: also time the reference engine
  bool phases = false;             ///< --synthetic: also time each phase of the step
  bool loader_only = false;        ///< throughput of the ImageFolder loader alone
  bool pipeline = false;           ///< throughput of loader + augmentation + step
  std::int64_t image_size = 224;   ///< ImageFolder crop size
  int loader_threads = 0;          ///< ImageFolder decoding threads; 0: every core
  // distributed training: one process per device over c10d (Gloo on CPU, NCCL on
  // CUDA); `batch` stays the global batch, each rank takes batch / world_size of it
  int world_size = 1;                     ///< processes; 1: no process group
  int rank = 0;                           ///< this process, in [0, world_size)
  std::string master_addr = "127.0.0.1";  ///< rank 0's host, which serves the rendezvous store
  int master_port = 29500;
  int rendezvous_timeout = 300;  ///< seconds to wait for every rank to join at start-up
  bool float64 = false;          ///< model and transform in float64 (verification runs)
  bool progress = true;
  int threads = 0;  ///< intra-op threads; 0: every core
  /// The command line that made this configuration, saved with the run (not a setting).
  std::vector<std::string> command_line;
};

namespace detail {

/// value ∈ [lo, hi] (NaN and infinities fail every comparison), else invalid_input naming the flag.
template <class T>
void expect_range(const char* flag, T value, T lo, T hi) {
  SPECTRAL_EXPECTS(value >= lo && value <= hi, flag, ": must be in [", lo, ", ", hi, "], got ",
                   value);
}

}  // namespace detail

/// The projector's hidden width: --projector-hidden, or the output width when that is 0.
[[nodiscard]] inline std::int64_t projector_hidden_width(const train_config& c) {
  return c.projector_hidden > 0 ? c.projector_hidden : c.projector;
}

/// K, the size of the covariance the transform whitens: the global batch (samples axis; the
/// transform sees the gathered batch, docs/trainer.md#reference-quirks) or the projector's output
/// (features).
[[nodiscard]] inline std::int64_t covariance_size(const train_config& c) {
  return c.transform.opts.axis == axis::samples ? c.batch : c.projector;
}

/// β: --beta, or the reference's 0.01·(log2 K − 3) with K = covariance_size()
/// (docs/math.md#trade-off-beta).
/// @throws invalid_input for K < 2 without --beta
[[nodiscard]] inline double trace_loss_weight(const train_config& c) {
  return c.beta ? *c.beta : trade_off_beta(covariance_size(c));
}

/// The backbone a run builds: the reference's options for --arch and the stem, --width, and
/// the data's channels.
[[nodiscard]] inline resnet_options run_backbone(const train_config& c, std::int64_t in_channels) {
  resnet_options backbone = resnet_options::reference(c.depth, c.cifar_stem);
  backbone.in_channels = in_channels;
  backbone.width = c.width;
  return backbone;
}

/**
 * @brief Checks every numeric setting against its range, for every mode (training, evaluation,
 *        throughput): cheap, touches no file, so callers run it before any work.
 * @throws invalid_input naming the flag and the value
 */
inline void validate_settings(const train_config& c) {
  using detail::expect_range;
  expect_range<std::int64_t>("--epochs", c.epochs, 1, limits::epochs);
  expect_range<std::int64_t>("--batch", c.batch, 4, limits::batch);
  SPECTRAL_EXPECTS(c.lr > 0.0 && c.lr <= limits::lr, "--lr: must be in (0, ", limits::lr, "], got ",
                   c.lr);
  expect_range("--wd", c.weight_decay, 0.0, limits::weight_decay);
  expect_range<std::int64_t>("--warmup-epochs", c.warmup_epochs, 0, limits::epochs);
  SPECTRAL_EXPECTS(c.depth == 18 || c.depth == 50, "--arch: resnet18 or resnet50, got depth ",
                   c.depth);
  expect_range<std::int64_t>("--width", c.width, 4, limits::width);
  SPECTRAL_EXPECTS(!c.amp_bf16 || c.amp, "--amp-dtype bf16: needs --amp");
  expect_range<std::int64_t>("--projector", c.projector, 2, limits::projector);
  SPECTRAL_EXPECTS(c.projector_hidden == 0 ||
                       (c.projector_hidden >= 2 && c.projector_hidden <= limits::projector),
                   "--projector-hidden: must be 0 (the --projector size) or in [2, ",
                   limits::projector, "], got ", c.projector_hidden);
  SPECTRAL_EXPECTS(c.views.empty() || (c.views.size() >= 2 && c.views.size() <= limits::views),
                   "--crop-sizes: 2 to ", limits::views, " views, got ", c.views.size());
  for (const view_spec& v : c.views) {
    expect_range<std::int64_t>("--crop-sizes", v.size, 8, limits::image_size);
    SPECTRAL_EXPECTS(v.scale_min > 0.0 && v.scale_min <= v.scale_max && v.scale_max <= 1.0,
                     "--min-scales/--max-scales: each view needs 0 < min <= max <= 1, got ",
                     v.scale_min, " and ", v.scale_max);
    expect_range("--blur-probs", v.blur_p, 0.0, 1.0);
    expect_range("--solarize-probs", v.solarize_p, 0.0, 1.0);
  }
  expect_range("--momentum", c.momentum0, 0.0, 1.0);
  // The library's own checks first (the trainer accepts what the library accepts), named by flag.
  try {
    c.transform.validate();
  } catch (const invalid_input& e) {
    throw invalid_input(std::string("--") + e.what());
  }
  expect_range("--iters", c.transform.method.iterations, min_iterations, limits::iterations);
  expect_range("--power", c.transform.method.power, min_power, limits::power);
  expect_range("--eps", c.transform.opts.eps, 0.0, limits::eps);
  if (c.beta) {
    expect_range("--beta", *c.beta, 0.0, limits::beta);
  } else {
    const std::int64_t k = covariance_size(c);
    SPECTRAL_EXPECTS(
        k >= limits::automatic_beta_min_size,
        c.transform.opts.axis == axis::samples ? "--batch " : "--projector ", k,
        ": the automatic --beta 0.01*(log2 K - 3) is negative for a covariance of K = ", k, " < ",
        limits::automatic_beta_min_size, " (", to_string(c.transform.opts.axis),
        " axis); use at least ", limits::automatic_beta_min_size, " or give --beta");
  }
  expect_range<std::int64_t>("--train-subset", c.train_subset, 0, limits::images);
  expect_range<std::int64_t>("--eval-train-subset", c.eval_train_subset, 0, limits::images);
  expect_range<std::int64_t>("--eval-test-subset", c.eval_test_subset, 0, limits::images);
  expect_range<std::int64_t>("--knn-every", c.knn_every, 0, limits::epochs);
  expect_range<std::int64_t>("--linear-epochs", c.linear_epochs, 1, limits::linear_epochs);
  expect_range<std::int64_t>("--max-steps", c.max_steps, 0, limits::steps);
  expect_range<std::int64_t>("--synthetic-steps", c.synthetic_steps, 1, limits::synthetic_steps);
  expect_range<std::int64_t>("--synthetic-size", c.synthetic_size, 8, limits::image_size);
  SPECTRAL_EXPECTS(c.synthetic_channels == 1 || c.synthetic_channels == 3,
                   "--synthetic-channels: 1 or 3, got ", c.synthetic_channels);
  expect_range<std::int64_t>("--image-size", c.image_size, 8, limits::image_size);
  expect_range("--loader-threads", c.loader_threads, 0, limits::loader_threads);
  expect_range("--threads", c.threads, 0, limits::threads);
  expect_range("--world-size", c.world_size, 1, limits::world_size);
  SPECTRAL_EXPECTS(c.rank >= 0 && c.rank < c.world_size, "--rank ", c.rank,
                   ": must be in [0, --world-size ", c.world_size, ")");
  expect_range("--master-port", c.master_port, 1, 65535);
  expect_range("--rendezvous-timeout", c.rendezvous_timeout, 1, limits::rendezvous_timeout);
}

}  // namespace spectral::trainer
