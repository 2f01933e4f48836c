// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Throughput tooling, one command each, all reporting images/s (2 views per image):
///   --synthetic    the training step alone on random views made on the device;
///   --loader-only  the ImageFolder loader alone (read, decode with DCT scaling, crop 2 views);
///   --pipeline     loader + augmentation on the device + training step, the whole of a step.
/// With --compare-reference the synthetic and pipeline modes also time the same step with the
/// transform written as the reference code writes it (LibTorch ops + autograd), in the same
/// process, and print the ratio. The step timed is the training loop's own (train/step.hpp),
/// with the run's transform settings and a read of the loss after each step, as training does.

#include "data/augment.hpp"
#include "data/image_folder_loader.hpp"
#include "data/multi_crop.hpp"
#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "torch_bridge.hpp"
#include "train/config.hpp"
#include "train/device.hpp"
#include "train/optimizer.hpp"
#include "train/schedule.hpp"
#include "train/step.hpp"
#include "train/views.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace spectral::trainer {

/// Encoder, method, INTL loss, SGD and loss scaler on one device, stepped by the trainer's own
/// training_step (train/step.hpp) with the run's settings: what every throughput mode times.
class step_bench {
 public:
  step_bench(const train_config& c,
             std::int64_t channels,
             transform_engine engine,
             const torch::Device& device)
      : channels_last_(c.channels_last),
        encoder_(run_backbone(c, channels), projector_hidden_width(c), c.projector),
        loss_(with_engine(c.transform, engine), trace_loss_weight(c)),
        optimizer_(sgd_parameter_groups(*encoder_, c.weight_decay, c.decay_1d),
                   torch::optim::SGDOptions(c.lr).momentum(0.9)),
        scaler_(c.amp && !c.amp_bf16),
        total_steps_(std::max<std::int64_t>(1, 3 + c.synthetic_steps)) {
    const auto place = [&](Encoder& model) {
      model->to(device);
      if (channels_last_) {
        to_channels_last(*model);
      }
    };
    place(encoder_);
    if (c.method == ssl_method::intl_m) {
      method_ = ssl_method_state(encoder_, run_backbone(c, channels), projector_hidden_width(c),
                                 c.projector, c.momentum0, nullptr, place);
    }
    set_learning_rate(optimizer_, c.lr * static_cast<double>(c.batch) / 256.0);
    encoder_->train();
    step_.emplace(encoder_, method_, loss_, optimizer_, scaler_,
                  step_options{c.amp, c.amp_bf16, nullptr});
  }

  /// One optimisation step on already augmented, normalised views; returns the loss (read
  /// back, as the training loop reads it). With `phases`, times each phase apart. INTL-M's
  /// momentum schedule spans the warm-up and timed steps.
  double run(const std::vector<torch::Tensor>& views, phase_times* phases = nullptr) {
    std::vector<torch::Tensor> laid_out;
    laid_out.reserve(views.size());
    for (const auto& view : views) {
      laid_out.push_back(channels_last_ ? view.contiguous(torch::MemoryFormat::ChannelsLast)
                                        : view);
    }
    const intl_terms terms =
        step_->run(laid_out, std::min(steps_++, total_steps_), total_steps_, phases);
    return terms.total.item<double>();
  }

  step_bench(const step_bench&) = delete;  // the step holds references to the members
  step_bench& operator=(const step_bench&) = delete;

  [[nodiscard]] const loss_scaler& scaler() const noexcept { return scaler_; }

 private:
  static transform_spec with_engine(transform_spec spec, transform_engine engine) {
    spec.engine = engine;
    return spec;
  }

  bool channels_last_;
  Encoder encoder_;
  ssl_method_state method_;
  IntlLoss loss_;
  multi_tensor_sgd optimizer_;
  loss_scaler scaler_;
  std::int64_t total_steps_;
  std::int64_t steps_ = 0;
  std::optional<training_step> step_;
};

namespace detail {

/// Times `steps` calls of `step` after `warmup` untimed ones (cuDNN autotuning, allocator
/// growth), synchronising the device around the timed part.
struct timed_run {
  double seconds = 0.0;
  double first_loss = 0.0;  ///< of the first warm-up step: equal weights and views, equal loss
  double last_loss = 0.0;
  memory_peak memory;
};

inline timed_run time_steps(const torch::Device& device,
                            std::int64_t warmup,
                            std::int64_t steps,
                            const std::function<double()>& step) {
  timed_run r;
  reset_peak_memory(device);
  for (std::int64_t s = 0; s < warmup; ++s) {
    r.last_loss = step();
    if (s == 0) {
      r.first_loss = r.last_loss;
    }
  }
  synchronize(device);
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t s = 0; s < steps; ++s) {
    r.last_loss = step();
  }
  synchronize(device);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.memory = peak_memory(device);
  return r;
}

inline nlohmann::json describe_run(const timed_run& r, std::int64_t steps, std::int64_t batch) {
  const double ms = r.seconds / static_cast<double>(steps) * 1e3;
  return {{"images_per_s", static_cast<double>(steps * batch) / r.seconds},
          {"ms_per_step", ms},
          {"first_loss", r.first_loss},
          {"last_loss", r.last_loss},
          {"peak_allocated_gib", r.memory.allocated_gib},
          {"peak_reserved_gib", r.memory.reserved_gib}};
}

inline void print_run(std::ostream& log, const std::string& what, const nlohmann::json& r) {
  log << what << ": " << r["ms_per_step"].get<double>() << " ms/step, "
      << r["images_per_s"].get<double>() << " images/s, peak "
      << r["peak_allocated_gib"].get<double>() << " GiB allocated / "
      << r["peak_reserved_gib"].get<double>() << " GiB reserved, loss "
      << r["first_loss"].get<double>() << " (step 1) -> " << r["last_loss"].get<double>() << '\n';
}

/// The settings of a throughput mode beyond the numeric ranges, which train() checked first
/// (validate_settings), before anything is read or allocated.
inline void validate_throughput(const train_config& c) {
  SPECTRAL_EXPECTS(c.device == "cpu" || c.device.rfind("cuda", 0) == 0,
                   "--device: cpu or cuda[:N], got '", c.device, "'");
  SPECTRAL_EXPECTS(!c.amp || c.device != "cpu",
                   "--amp: fp16 autocast needs --device cuda (got --device cpu)");
  SPECTRAL_EXPECTS(!c.multi_crop || c.loader_only,
                   "--multi-crop: --synthetic and --pipeline time the two-view step; only "
                   "--loader-only times the six-crop loader");
  SPECTRAL_EXPECTS(c.views.empty() || c.views.size() == 2 || c.loader_only,
                   "--crop-sizes: --synthetic and --pipeline time the two-view step, got ",
                   c.views.size(), " views");
}

inline image_folder_loader_options loader_options(const train_config& c) {
  image_folder_loader_options o;
  o.batch_size = c.batch;
  o.image_size = c.image_size;
  o.scale_min = 0.08;
  o.crops = image_folder_crops(c);
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  o.threads = c.loader_threads > 0 ? c.loader_threads : static_cast<int>(cores);
  o.prefetch = 6;
  o.seed = c.seed;
  o.pin_memory = c.device != "cpu";
  return o;
}

}  // namespace detail

/**
 * @brief --synthetic: the training step alone on random views made on the device (no loader,
 *        no augmentation). 3 untimed warm-up steps.
 */
[[nodiscard]] nlohmann::json synthetic_throughput(const train_config& c, std::ostream& log);

/// --loader-only: batches of every view's crop of each image (2, 6 with --multi-crop, or the
/// --crop-sizes list) from <data>/train, as fast
/// as the loader gives them; one untimed batch first.
[[nodiscard]] nlohmann::json loader_throughput(const train_config& c, std::ostream& log);

/// --pipeline: loader → device → augmentation (batched, on the device) → training step.
[[nodiscard]] nlohmann::json pipeline_throughput(const train_config& c, std::ostream& log);

}  // namespace spectral::trainer
