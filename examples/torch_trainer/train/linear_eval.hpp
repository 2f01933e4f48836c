// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The reference's `evaluate.py` on an ImageFolder tree: linear evaluation of a frozen backbone
/// (docs/trainer.md#linear-evaluation) and semi-supervised fine-tuning of the whole network on a
/// split file's subset (docs/trainer.md#semi-supervised). Top-1/top-5 on the validation set after
/// every epoch, an atomic checkpoint per epoch and an exact `--resume`.
///
/// Training crops come from image_folder_loader (RandomResizedCrop with torchvision's defaults:
/// scale 0.08-1, ratio 3/4-4/3, bilinear) plus a horizontal flip; validation crops are
/// Resize(256) + CenterCrop(224), scaled with the image size. Both are normalised with the
/// ImageNet mean/std. Every random number comes from the seed, the epoch, the file index and one
/// checkpointed generator (the flips), so a resumed run continues bit for bit.

#include "data/augment.hpp"
#include "data/center_crop.hpp"
#include "data/image_folder_loader.hpp"
#include "data/split_file.hpp"
#include "models/resnet.hpp"
#include "train/checkpoint.hpp"
#include "train/config.hpp"
#include "train/device.hpp"
#include "train/optimizer.hpp"
#include "train/report.hpp"
#include "train/run_lock.hpp"
#include "train/schedule.hpp"
#include "train/weights.hpp"

#include <spectral/core/error.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/DeviceGuard.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numbers>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// linear: frozen backbone in eval mode, only the head trains (docs/trainer.md#linear-evaluation);
/// finetune: everything (docs/trainer.md#semi-supervised).
enum class eval_mode { linear, finetune };

/// Per-epoch learning-rate schedule: MultiStepLR (the reference's default) or cosine to 0.
enum class eval_schedule { step, cosine };

/// ImageNet statistics of torchvision's Normalize (docs/trainer.md#imagenet-pretraining,
/// docs/trainer.md#linear-evaluation).
inline const std::vector<double> imagenet_mean{0.485, 0.456, 0.406};
inline const std::vector<double> imagenet_std{0.229, 0.224, 0.225};

/// Upper bounds of intl_eval's numeric settings, far above every recipe: they keep a run's
/// memory and time finite. --help prints them. The model, data and machine bounds are
/// intl_train's (train/config.hpp), so a model one trains the other can evaluate.
namespace eval_limits {
inline constexpr std::int64_t epochs = 1'000;
inline constexpr std::size_t milestones = 64;  ///< how many
inline constexpr std::int64_t batch = limits::batch;
inline constexpr double lr = limits::lr;
inline constexpr double weight_decay = limits::weight_decay;
inline constexpr std::int64_t width = limits::width;
inline constexpr std::int64_t image_size = limits::image_size;
inline constexpr int loader_threads = limits::loader_threads;
inline constexpr int threads = limits::threads;
}  // namespace eval_limits

/// Everything an evaluation run is told; defaults are docs/trainer.md#linear-evaluation (linear)
/// and docs/trainer.md#semi-supervised (finetune).
struct eval_config {
  eval_mode mode = eval_mode::linear;
  std::filesystem::path data;  ///< `<data>/train/<class>/*`, `<data>/val/<class>/*`
  std::filesystem::path out = "runs/intl_eval";
  std::filesystem::path pretrained;   ///< intl_train's checkpoint.pt (or an eval checkpoint)
  bool random_init = false;           ///< no pretrained weights: the baseline
  std::filesystem::path train_split;  ///< split file (1percent.txt); empty: every image
  // backbone, as intl_train builds it; the defaults are evaluate.py's (ResNet-50, ImageNet stem)
  int depth = 50;
  std::int64_t width = 64;
  bool cifar_stem = false;
  // optimisation: SGD, momentum 0.9
  std::int64_t epochs = 0;  ///< 0: 100 (linear) or 20 (finetune)
  std::int64_t batch = 256;
  double lr_classifier = 0.2;  ///< × batch / 256; the reference uses 0.4 for its
                               ///< multi-crop + EMA checkpoints
                               ///< (docs/trainer.md#linear-evaluation)
  double lr_backbone = 0.004;  ///< finetune only, × batch / 256
  double weight_decay = 0.0;   ///< 0 since the reference's commit e1d75d7
  eval_schedule schedule = eval_schedule::step;
  std::vector<std::int64_t> milestones{60, 80};  ///< step schedule: lr × gamma at each
  double gamma = 0.1;
  // data and run
  std::int64_t image_size = 224;  ///< training crop; validation Resize(256·s/224) + s
  int loader_threads = 4;         ///< JPEG decoding threads
  int threads = 0;                ///< intra-op threads; 0: every core
  std::string device = "cpu";     ///< cpu | cuda | cuda:N
  bool amp = false;               ///< fp16 autocast + loss scaling (CUDA)
  bool channels_last = false;     ///< NHWC convolutions (CUDA)
  std::uint64_t seed = 0;
  bool resume = false;  ///< continue from <out>/eval_checkpoint.pt
  bool progress = true;
};

/**
 * @brief A backbone and a linear head, `Linear(feature_dim → classes)`, initialised as the
 * reference's `fc`: weight N(0, 0.01), bias 0. Children are named "backbone" and "fc".
 * @throws invalid_input from the constructor for classes < 1 (and see ResNetImpl)
 */
class ClassifierImpl : public torch::nn::Module {
 public:
  ClassifierImpl(const resnet_options& backbone, std::int64_t classes);

  /// Images → logits, N × classes.
  torch::Tensor forward(const torch::Tensor& x);

  [[nodiscard]] ResNet& backbone() { return backbone_; }
  [[nodiscard]] torch::nn::Linear& fc() { return fc_; }

 private:
  ResNet backbone_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(Classifier);

/// The number of epochs a run trains: c.epochs, or the mode's default when it is 0.
[[nodiscard]] std::int64_t eval_epochs(const eval_config& c);

/// The learning-rate multiplier of 0-based `epoch` of `epochs` (the step or cosine schedule).
[[nodiscard]] double eval_lr_factor(const eval_config& c, std::int64_t epoch, std::int64_t epochs);

/**
 * @brief Loads pretrained backbone weights into `backbone`: an intl_train checkpoint (the
 *        `backbone` child of its `model`), a file of scripts/convert_checkpoint.py, or a
 *        torch.save state dict this LibTorch can read (train/weights.hpp).
 * @throws invalid_input naming the file when it is missing or unreadable, or holds a backbone
 *         of another architecture (a tensor's shape is named)
 */
void load_pretrained_backbone(const std::filesystem::path& path, ResNet& backbone);

/**
 * @brief Runs (or resumes) a linear evaluation or fine-tuning and returns the summary written
 *        to `<out>/summary.json`.
 *
 * Writes `<out>/eval_checkpoint.pt` (atomically, after every epoch), `<out>/metrics.jsonl`
 * (per epoch: loss, train top-1, val top-1/top-5, val loss, learning rates, skipped files) and
 * `<out>/summary.json` (settings, last and best epoch, skipped validation files).
 * @throws invalid_input for bad settings, missing data, split or checkpoint files;
 *         numerical_error when the loss becomes non-finite
 */
[[nodiscard]] nlohmann::json run_eval(const eval_config& c, std::ostream& log);

// --- implementation

inline ClassifierImpl::ClassifierImpl(const resnet_options& backbone, std::int64_t classes) {
  SPECTRAL_EXPECTS(classes >= 1, "classes: expected >= 1, got ", classes);
  backbone_ = register_module("backbone", ResNet(backbone));
  fc_ = register_module("fc", torch::nn::Linear(backbone_->feature_dim(), classes));
  torch::NoGradGuard no_grad;
  fc_->weight.normal_(0.0, 0.01);
  fc_->bias.zero_();
}

inline torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) {
  return fc_->forward(backbone_->forward(x));
}

inline std::int64_t eval_epochs(const eval_config& c) {
  if (c.epochs > 0) {
    return c.epochs;
  }
  return c.mode == eval_mode::linear ? 100 : 20;
}

inline double eval_lr_factor(const eval_config& c, std::int64_t epoch, std::int64_t epochs) {
  if (c.schedule == eval_schedule::cosine) {
    return 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                                 static_cast<double>(std::max<std::int64_t>(epochs, 1))));
  }
  double factor = 1.0;
  for (const std::int64_t milestone : c.milestones) {
    if (epoch >= milestone) {
      factor *= c.gamma;
    }
  }
  return factor;
}

namespace detail {

/// Every setting, before any folder is scanned or file written.
inline void validate_eval(const eval_config& c) {
  expect_range<std::int64_t>("--epochs", c.epochs, 0, eval_limits::epochs);
  // Fine-tuning trains BN in training mode, which needs two samples per batch.
  const std::int64_t min_batch = c.mode == eval_mode::finetune ? 2 : 1;
  SPECTRAL_EXPECTS(c.batch >= min_batch && c.batch <= eval_limits::batch, "--batch: must be in [",
                   min_batch, ", ", eval_limits::batch, "]",
                   c.mode == eval_mode::finetune ? " with --mode finetune" : "", ", got ", c.batch);
  SPECTRAL_EXPECTS(c.lr_classifier > 0.0 && c.lr_classifier <= eval_limits::lr,
                   "--lr-classifier: must be in (0, ", eval_limits::lr, "], got ", c.lr_classifier);
  expect_range("--lr-backbone", c.lr_backbone, 0.0, eval_limits::lr);
  expect_range("--wd", c.weight_decay, 0.0, eval_limits::weight_decay);
  SPECTRAL_EXPECTS(c.gamma > 0.0 && c.gamma <= 1.0, "--gamma: must be in (0, 1], got ", c.gamma);
  SPECTRAL_EXPECTS(c.milestones.size() <= eval_limits::milestones, "--milestones: at most ",
                   eval_limits::milestones, " epochs, got ", c.milestones.size());
  for (const std::int64_t m : c.milestones) {
    expect_range<std::int64_t>("--milestones", m, 1, eval_limits::epochs);
  }
  SPECTRAL_EXPECTS(c.depth == 18 || c.depth == 50, "--arch: resnet18 or resnet50, got depth ",
                   c.depth);
  expect_range<std::int64_t>("--width", c.width, 4, eval_limits::width);
  expect_range<std::int64_t>("--image-size", c.image_size, 8, eval_limits::image_size);
  expect_range("--loader-threads", c.loader_threads, 1, eval_limits::loader_threads);
  expect_range("--threads", c.threads, 0, eval_limits::threads);
  SPECTRAL_EXPECTS(!(c.random_init && !c.pretrained.empty()),
                   "--pretrained and --random-init exclude each other");
  SPECTRAL_EXPECTS(c.random_init || !c.pretrained.empty(),
                   "--pretrained PATH is required (or --random-init for the baseline)");
  SPECTRAL_EXPECTS(c.random_init || std::filesystem::is_regular_file(c.pretrained),
                   "--pretrained: no checkpoint at ", c.pretrained.string());
  SPECTRAL_EXPECTS(!c.data.empty(), "--data: the ImageFolder root is required");
  SPECTRAL_EXPECTS(c.device == "cpu" || c.device.rfind("cuda", 0) == 0,
                   "--device: cpu or cuda[:N], got '", c.device, "'");
  SPECTRAL_EXPECTS(!c.amp || c.device != "cpu",
                   "--amp: fp16 autocast needs --device cuda (got --device cpu)");
  SPECTRAL_EXPECTS(c.train_split.empty() || std::filesystem::is_regular_file(c.train_split),
                   "--train-split: no file at ", c.train_split.string());
}

/// Fine-tuning on fewer images than one batch trains on one partial batch per epoch, or on
/// nothing when it holds a single image (BN in training mode needs two): refused, naming both
/// sizes. Linear evaluation trains on any remainder.
inline void validate_train_images(const eval_config& c, std::int64_t train_images) {
  if (c.mode != eval_mode::finetune) {
    return;
  }
  SPECTRAL_EXPECTS(
      train_images >= c.batch, "--batch ", c.batch, " is larger than the ", train_images,
      " training images",
      c.train_split.empty() ? std::string() : " of --train-split " + c.train_split.string(),
      ": fine-tuning needs at least one full batch; use --batch ", train_images, " or smaller");
}

/// Hits of the top-1 and top-k (k = min(5, classes)) predictions, and the summed loss.
struct eval_counts {
  double loss_sum = 0.0;
  std::int64_t top1 = 0;
  std::int64_t top5 = 0;
  std::int64_t images = 0;

  void add(const torch::Tensor& logits, const torch::Tensor& labels) {
    const std::int64_t k = std::min<std::int64_t>(5, logits.size(1));
    const auto hits = std::get<1>(logits.topk(k, 1)).eq(labels.unsqueeze(1));
    top1 += hits.select(1, 0).sum().item<std::int64_t>();
    top5 += hits.any(1).sum().item<std::int64_t>();
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    images += labels.size(0);
  }
  [[nodiscard]] double percent(std::int64_t hits) const {
    return images > 0 ? 100.0 * static_cast<double>(hits) / static_cast<double>(images) : 0.0;
  }
};

/// Validation over every file of `val`, the model in eval mode; undecodable files are listed.
inline eval_counts validate_classifier(Classifier& model,
                                       const image_folder& val,
                                       const center_crop_options& crop,
                                       std::int64_t batch,
                                       int threads,
                                       std::vector<std::filesystem::path>& skipped,
                                       const torch::Device& device = torch::kCPU,
                                       bool amp = false) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  eval_counts counts;
  skipped.clear();
  const auto n = static_cast<std::int64_t>(val.files.size());
  for (std::int64_t first = 0; first < n; first += batch) {
    center_crop_batch b =
        decode_center_crops(val, first, std::min(first + batch, n), crop, threads);
    skipped.insert(skipped.end(), b.skipped.begin(), b.skipped.end());
    if (b.labels.size(0) == 0) {
      continue;
    }
    const torch::Tensor images = b.images.to(device, /*non_blocking=*/true);
    torch::Tensor logits;
    {
      const autocast_guard autocast(amp);
      logits = model->forward(to_normalized(images, imagenet_mean, imagenet_std));
    }
    counts.add(logits.to(torch::kFloat32), b.labels.to(device));
  }
  model->train(was_training);
  SPECTRAL_EXPECTS(counts.images > 0, "validation folder ", val.root.string(), ": none of its ", n,
                   " files decodes as JPEG");
  return counts;
}

/// Random horizontal flip (p = 0.5) of uint8 N×C×H×W images, from `generator`.
[[nodiscard]] inline torch::Tensor random_flip(const torch::Tensor& images,
                                               at::Generator& generator) {
  const std::int64_t n = images.size(0);
  const auto flip = torch::rand({n}, generator, torch::kFloat64).lt(0.5).view({n, 1, 1, 1});
  return torch::where(flip, images.flip({3}), images);
}

[[nodiscard]] inline nlohmann::json path_list(const std::vector<std::filesystem::path>& paths,
                                              std::size_t limit) {
  nlohmann::json list = nlohmann::json::array();
  for (std::size_t i = 0; i < paths.size() && i < limit; ++i) {
    list.push_back(paths[i].string());
  }
  return list;
}

}  // namespace detail

}  // namespace spectral::trainer
