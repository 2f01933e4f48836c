// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The reference's `evaluate.py` on an ImageFolder tree: linear evaluation of a frozen backbone
/// (spec §6.3) and semi-supervised fine-tuning of the whole network on a split file's subset
/// (spec §6.4). Top-1/top-5 on the validation set after every epoch, an atomic checkpoint per
/// epoch and an exact `--resume`.
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

/// linear: frozen backbone in eval mode, only the head trains (§6.3); finetune: everything (§6.4).
enum class eval_mode { linear, finetune };

/// Per-epoch learning-rate schedule: MultiStepLR (the reference's default) or cosine to 0.
enum class eval_schedule { step, cosine };

/// ImageNet statistics of torchvision's Normalize (spec §6.2, §6.3).
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

/// Everything an evaluation run is told; defaults are spec §6.3 (linear) and §6.4 (finetune).
struct eval_config {
  eval_mode mode = eval_mode::linear;
  std::filesystem::path data;             ///< `<data>/train/<class>/*`, `<data>/val/<class>/*`
  std::filesystem::path out = "runs/intl_eval";
  std::filesystem::path pretrained;       ///< intl_train's checkpoint.pt (or an eval checkpoint)
  bool random_init = false;               ///< no pretrained weights: the baseline
  std::filesystem::path train_split;      ///< split file (1percent.txt); empty: every image
  // backbone, as intl_train builds it; the defaults are evaluate.py's (ResNet-50, ImageNet stem)
  int depth = 50;
  std::int64_t width = 64;
  bool cifar_stem = false;
  // optimisation: SGD, momentum 0.9
  std::int64_t epochs = 0;                ///< 0: 100 (linear) or 20 (finetune)
  std::int64_t batch = 256;
  double lr_classifier = 0.2;             ///< × batch / 256; the reference uses 0.4 for its
                                          ///< multi-crop + EMA checkpoints (§6.3)
  double lr_backbone = 0.004;             ///< finetune only, × batch / 256
  double weight_decay = 0.0;              ///< 0 since the reference's commit e1d75d7
  eval_schedule schedule = eval_schedule::step;
  std::vector<std::int64_t> milestones{60, 80};  ///< step schedule: lr × gamma at each
  double gamma = 0.1;
  // data and run
  std::int64_t image_size = 224;          ///< training crop; validation Resize(256·s/224) + s
  int loader_threads = 4;                 ///< JPEG decoding threads
  int threads = 0;                        ///< intra-op threads; 0: every core
  std::string device = "cpu";             ///< cpu | cuda | cuda:N
  bool amp = false;                       ///< fp16 autocast + loss scaling (CUDA)
  bool channels_last = false;             ///< NHWC convolutions (CUDA)
  std::uint64_t seed = 0;
  bool resume = false;                    ///< continue from <out>/eval_checkpoint.pt
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
  SPECTRAL_EXPECTS(train_images >= c.batch, "--batch ", c.batch, " is larger than the ",
                   train_images, " training images",
                   c.train_split.empty() ? std::string()
                                         : " of --train-split " + c.train_split.string(),
                   ": fine-tuning needs at least one full batch; use --batch ", train_images,
                   " or smaller");
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
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, labels,
                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
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
    center_crop_batch b = decode_center_crops(val, first, std::min(first + batch, n), crop, threads);
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
  SPECTRAL_EXPECTS(counts.images > 0, "validation folder ", val.root.string(), ": none of its ",
                   n, " files decodes as JPEG");
  return counts;
}

/// Random horizontal flip (p = 0.5) of uint8 N×C×H×W images, from `generator`.
[[nodiscard]] inline torch::Tensor random_flip(const torch::Tensor& images, at::Generator& generator) {
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

inline void load_pretrained_backbone(const std::filesystem::path& path, ResNet& backbone) {
  try {
    load_backbone(backbone, pretrained_backbone(path), path);
  } catch (const c10::Error& e) {
    SPECTRAL_EXPECTS(false, "--pretrained: ", path.string(), " could not be read (",
                     detail::first_line(e), ")");
  }
}

inline nlohmann::json run_eval(const eval_config& c, std::ostream& log) {
  namespace fs = std::filesystem;
  detail::validate_eval(c);
  const torch::Device device = parse_device(c.device);  // refused before any folder is read
  const c10::DeviceGuard device_guard(device);
  const std::int64_t epochs = eval_epochs(c);
  const bool linear = c.mode == eval_mode::linear;
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  torch::set_num_threads(c.threads > 0 ? c.threads : static_cast<int>(cores));

  image_folder train_set = scan_image_folder(c.data / "train");
  const image_folder val_set = scan_image_folder(c.data / "val");
  SPECTRAL_EXPECTS(train_set.classes == val_set.classes, "--data: ", (c.data / "train").string(),
                   " has ", train_set.classes.size(), " class folders and ",
                   (c.data / "val").string(), " has ", val_set.classes.size(),
                   "; their names must be the same");
  if (!c.train_split.empty()) {
    train_set = select_split(train_set, c.train_split);
  }
  const auto classes = static_cast<std::int64_t>(train_set.classes.size());
  const auto train_images = static_cast<std::int64_t>(train_set.files.size());
  detail::validate_train_images(c, train_images);

  torch::manual_seed(c.seed);
  resnet_options backbone_options = resnet_options::reference(c.depth, c.cifar_stem);
  backbone_options.width = c.width;
  Classifier model(backbone_options, classes);
  if (!c.random_init) {
    load_pretrained_backbone(c.pretrained, model->backbone());
  }
  model->to(device);
  if (c.channels_last) {
    to_channels_last(*model);
  }
  const double scale = static_cast<double>(c.batch) / 256.0;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  const auto sgd = [&](double lr) {
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(lr).momentum(sgd_momentum).weight_decay(c.weight_decay));
  };
  std::vector<double> base_lrs{c.lr_classifier * scale};
  groups.emplace_back(model->fc()->parameters(), sgd(base_lrs[0]));
  if (linear) {
    for (auto& p : model->backbone()->parameters()) {
      p.set_requires_grad(false);
    }
  } else {
    base_lrs.push_back(c.lr_backbone * scale);
    groups.emplace_back(model->backbone()->parameters(), sgd(base_lrs[1]));
  }
  torch::optim::SGD optimizer(std::move(groups), torch::optim::SGDOptions(base_lrs[0]));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 7);

  image_folder_loader_options loader_options;
  loader_options.batch_size = c.batch;
  loader_options.image_size = c.image_size;
  loader_options.filter = crop_filter::bilinear;  // torchvision RandomResizedCrop's default
  loader_options.threads = c.loader_threads;
  loader_options.seed = c.seed;
  loader_options.drop_last = false;
  loader_options.pin_memory = device.is_cuda();  // so the copy to the GPU can overlap
  image_folder_loader loader(train_set, loader_options);
  const center_crop_options val_crop = center_crop_for(c.image_size);

  const run_folder_lock folder_lock(c.out, "--out");  // one run per folder
  const fs::path checkpoint_path = c.out / "eval_checkpoint.pt";
  metrics_log metrics(c.out / "metrics.jsonl");
  loss_scaler scaler(c.amp);  // GradScaler's dynamic loss scale for fp16 (--amp)
  checkpoint_state state;
  if (c.resume) {
    state = load_checkpoint(checkpoint_path, *model, nullptr, optimizer, generator, device);
    if (state.loss_scale.defined() && scaler.enabled()) {
      scaler.set_state(state.loss_scale);
    }
    if (c.channels_last) {  // loaded weights arrive contiguous (NCHW)
      to_channels_last(*model);
    }
    metrics.resume(state.epoch);  // a crash may have left a later epoch's line
    log << "resumed from " << checkpoint_path.string() << " at epoch " << state.epoch << '\n';
  } else {
    metrics.reset();
  }
  if (linear) {  // a loaded checkpoint brings its tensors' flags; the backbone stays frozen
    for (auto& p : model->backbone()->parameters()) {
      p.set_requires_grad(false);
    }
  }
  log << (linear ? "linear evaluation" : "fine-tuning") << " of "
      << (c.random_init ? std::string("a randomly initialised") : c.pretrained.string())
      << " resnet" << c.depth << " (width " << c.width << "): " << train_images
      << " training images" << (c.train_split.empty() ? "" : " from ")
      << (c.train_split.empty() ? std::string() : c.train_split.string())
      << ", " << val_set.files.size() << " validation images, " << classes << " classes, "
      << epochs << " epochs\n";

  nlohmann::json summary;
  summary["config"] = {
      {"mode", linear ? "linear" : "finetune"}, {"data", c.data.string()},
      {"pretrained", c.random_init ? nlohmann::json(nullptr) : nlohmann::json(c.pretrained.string())},
      {"train_split", c.train_split.empty() ? nlohmann::json(nullptr)
                                            : nlohmann::json(c.train_split.string())},
      {"depth", c.depth}, {"width", c.width}, {"cifar_stem", c.cifar_stem},
      {"classes", classes}, {"train_images", train_images},
      {"val_images", val_set.files.size()}, {"epochs", epochs}, {"batch", c.batch},
      {"lr_classifier", base_lrs[0]}, {"lr_backbone", linear ? 0.0 : base_lrs[1]},
      {"weight_decay", c.weight_decay},
      {"schedule", c.schedule == eval_schedule::step ? "step" : "cosine"},
      {"milestones", c.milestones}, {"gamma", c.gamma}, {"image_size", c.image_size},
      {"val_resize", val_crop.resize_size}, {"seed", c.seed},
      {"threads", torch::get_num_threads()}, {"device", device.str()}, {"amp", c.amp},
      {"channels_last", c.channels_last}};

  progress_bar bar(epochs * loader.batches_per_epoch(), c.progress);
  std::int64_t bar_step = state.epoch * loader.batches_per_epoch();
  std::vector<fs::path> skipped_val;
  bool reported_val_skips = false;
  for (std::int64_t epoch = state.epoch; epoch < epochs; ++epoch) {
    const double factor = eval_lr_factor(c, epoch, epochs);
    for (std::size_t g = 0; g < base_lrs.size(); ++g) {
      static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[g].options())
          .lr(base_lrs[g] * factor);
    }
    model->train(!linear);  // linear: the frozen backbone's BN stays in eval mode
    const std::int64_t skipped_before = loader.skipped();
    const auto start = std::chrono::steady_clock::now();
    detail::eval_counts train_counts;
    loader.start_epoch(epoch);
    while (auto batch = loader.next()) {
      if (!linear && batch->labels.size(0) < 2) {
        continue;  // BN in training mode needs two samples; only a last batch can be this small
      }
      const torch::Tensor images =
          detail::random_flip(batch->images, generator).to(device, /*non_blocking=*/true);
      const torch::Tensor labels = batch->labels.to(device, /*non_blocking=*/true);
      torch::Tensor logits;
      {
        const autocast_guard autocast(c.amp);  // fp16 products on CUDA, as the reference
        const auto x = to_normalized(images, imagenet_mean, imagenet_std);
        if (linear) {
          torch::Tensor features;
          {
            torch::NoGradGuard no_grad;
            features = model->backbone()->forward(x);
          }
          logits = model->fc()->forward(features);
        } else {
          logits = model->forward(x);
        }
      }
      logits = logits.to(torch::kFloat32);
      const auto loss = torch::nn::functional::cross_entropy(logits, labels);
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        bar.finish_line();
        SPECTRAL_FAIL("the training loss is ", value, " at epoch ", epoch + 1,
                      "; the last good checkpoint is ",
                      fs::exists(checkpoint_path) ? checkpoint_path.string() : "(none yet)");
      }
      optimizer.zero_grad();
      scaler.scale(loss).backward();
      if (scaler.unscale(model->parameters())) {
        optimizer.step();
      }
      {
        torch::NoGradGuard no_grad;
        train_counts.add(logits.detach(), labels);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bar.update(++bar_step, epoch + 1,
                 train_counts.loss_sum / static_cast<double>(train_counts.images),
                 base_lrs[0] * factor,
                 static_cast<double>(train_counts.images) / std::max(seconds, 1e-9));
    }
    bar.finish_line();
    // Never an epoch, let alone a "completed" run, without a single optimisation step.
    SPECTRAL_EXPECTS(train_counts.images > 0, "epoch ", epoch + 1, ": no training step (",
                     train_images, " training images, --batch ", c.batch,
                     "); every batch was skipped or failed to decode");
    const double train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::int64_t skipped_train = loader.skipped() - skipped_before;
    if (skipped_train > 0) {
      log << "warning: " << skipped_train << " training files did not decode and were skipped\n";
    }
    const detail::eval_counts val =
        detail::validate_classifier(model, val_set, val_crop, c.batch, c.loader_threads, skipped_val,
                                    device, c.amp);
    if (!skipped_val.empty() && !reported_val_skips) {
      log << "warning: " << skipped_val.size() << " validation files did not decode (first: "
          << skipped_val.front().string() << "); top-1/top-5 are over the other " << val.images
          << '\n';
      reported_val_skips = true;
    }
    nlohmann::json record = {
        {"epoch", epoch + 1},
        {"loss", train_counts.loss_sum / static_cast<double>(std::max<std::int64_t>(train_counts.images, 1))},
        {"train_top1", train_counts.percent(train_counts.top1)},
        {"val_top1", val.percent(val.top1)},
        {"val_top5", val.percent(val.top5)},
        {"val_loss", val.loss_sum / static_cast<double>(val.images)},
        {"lr_classifier", base_lrs[0] * factor},
        {"images_per_s", static_cast<double>(train_counts.images) / std::max(train_seconds, 1e-9)},
        {"skipped_train", skipped_train},
        {"skipped_val", skipped_val.size()}};
    if (!linear) {
      record["lr_backbone"] = base_lrs[1] * factor;
    }
    // The log line first: a crash before the checkpoint leaves a line that resume trims.
    metrics.write(record);
    state.epoch = epoch + 1;
    state.loss_scale = scaler.enabled() ? scaler.state() : torch::Tensor();
    save_checkpoint(checkpoint_path, *model, nullptr, optimizer, generator, state);
    log << "epoch " << state.epoch << "/" << epochs << ": loss " << record["loss"].get<double>()
        << ", train top-1 " << record["train_top1"].get<double>() << "%, val top-1 "
        << record["val_top1"].get<double>() << "%, top-5 " << record["val_top5"].get<double>()
        << "%\n";
  }

  const std::vector<nlohmann::json>& history = metrics.records();
  if (!history.empty()) {
    summary["final"] = history.back();
    const auto best = std::max_element(history.begin(), history.end(), [](const auto& a, const auto& b) {
      return a["val_top1"].template get<double>() < b["val_top1"].template get<double>();
    });
    summary["best"] = *best;
  }
  summary["epochs_completed"] = state.epoch;
  summary["completed"] = state.epoch >= epochs;
  summary["skipped_train_total"] = loader.skipped();  // this process's epochs
  summary["skipped_val_files"] = detail::path_list(skipped_val, 100);
  write_atomically(c.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace spectral::trainer
