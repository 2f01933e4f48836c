// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// One INTL optimisation step, the same for training and for every throughput mode: the
/// method's forward (intl: every view through the online encoder; intl_m: the anchor view
/// through the momentum encoder it owns), the loss, backward, gradient averaging over the
/// ranks, and the SGD step after loss unscaling.

#include "distributed/data_parallel.hpp"
#include "distributed/gather.hpp"
#include "distributed/process_group.hpp"
#include "models/ema.hpp"
#include "models/projector.hpp"
#include "torch_bridge.hpp"
#include "train/device.hpp"

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace spectral::trainer {

/// Milliseconds of each phase of a step, the device synchronised between phases (--phases).
struct phase_times {
  double forward = 0.0;    ///< encoder + projector on every view
  double loss = 0.0;       ///< the transform and the INTL loss
  double backward = 0.0;   ///< through the loss, the transform and the network
  double optimizer = 0.0;  ///< zero_grad, gradient averaging, loss unscaling, SGD
};

/**
 * @brief The method of a run: `intl`, or `intl_m` (docs/math.md#intl-m) with the momentum
 *        encoder it owns, an EMA of the online encoder's parameters updated before each step's
 *        forward with the cosine momentum schedule from m₀ to 1 over the run's steps.
 */
class ssl_method_state {
 public:
  /// intl: no momentum encoder.
  ssl_method_state() = default;

  /// intl_m: a frozen copy of `online` (weights and buffers), built as `online` was and
  /// moved by `place` (device, dtype, layout), in the online encoder's process group.
  template <class Place>
  ssl_method_state(Encoder& online,
                   const resnet_options& backbone,
                   std::int64_t hidden,
                   std::int64_t out,
                   double momentum0,
                   distributed* group,
                   Place&& place)
      : momentum0_(momentum0) {
    teacher_.emplace(backbone, hidden, out);
    place(*teacher_);
    copy_state(**teacher_, *online);
    for (auto& p : (*teacher_)->parameters()) {
      p.set_requires_grad(false);
    }
    use_process_group(**teacher_, group);
  }

  [[nodiscard]] bool momentum() const noexcept { return teacher_.has_value(); }
  /// The momentum encoder (intl_m only; nullptr for intl), for checkpoints.
  [[nodiscard]] torch::nn::Module* teacher_module() { return teacher_ ? teacher_->get() : nullptr; }
  [[nodiscard]] Encoder& teacher() { return *teacher_; }

  /// The projections a step's loss needs: intl: every view's (`anchor` undefined); intl_m:
  /// the anchor view's through the momentum encoder (after its EMA update, no gradient) and
  /// the other views' through the online one.
  struct projected {
    torch::Tensor anchor;
    std::vector<torch::Tensor> online;
  };

  /// `views` augmented, normalised, in the model's dtype and layout; `global` gathers a rank's
  /// projections into the global batch's.
  template <class Gather>
  projected project(Encoder& online,
                    const std::vector<torch::Tensor>& views,
                    std::int64_t step,
                    std::int64_t total_steps,
                    Gather&& global) {
    projected p;
    std::size_t first = 0;
    if (teacher_) {
      ema_update(**teacher_, *online, ema_momentum(momentum0_, step, total_steps));
      torch::NoGradGuard no_grad;
      p.anchor = global((*teacher_)->forward(views[0]));
      first = 1;
    }
    for (std::size_t v = first; v < views.size(); ++v) {
      p.online.push_back(global(online->forward(views[v])));
    }
    return p;
  }

  /// The INTL (or INTL-M) terms of the projections.
  [[nodiscard]] intl_terms terms(IntlLoss& loss, const projected& p) const {
    return teacher_ ? loss->forward_momentum(p.anchor, p.online) : loss->forward(p.online);
  }

 private:
  double momentum0_ = 0.996;
  std::optional<Encoder> teacher_;
};

/// How a step runs.
struct step_options {
  bool amp = false;              ///< autocast on CUDA (the loss scaler must agree)
  bool bf16 = false;             ///< bfloat16 instead of fp16 (no loss scaling needed)
  distributed* group = nullptr;  ///< several ranks: gather projections, average gradients
};

/**
 * @brief One optimisation step over borrowed parts: the online encoder, the method (and its
 *        momentum encoder), the loss, the optimizer and the loss scaler.
 *
 * Nothing is read back to the host here except by the loss scaler (whether fp16 gradients
 * overflowed); the caller reads the loss when it chooses.
 */
class training_step {
 public:
  training_step(Encoder& encoder,
                ssl_method_state& method,
                IntlLoss& loss,
                torch::optim::Optimizer& optimizer,
                loss_scaler& scaler,
                step_options options = {})
      : encoder_(encoder),
        method_(method),
        loss_(loss),
        optimizer_(optimizer),
        scaler_(scaler),
        options_(options) {}

  /**
   * @brief Forward, loss, backward, gradient averaging and the SGD step (skipped when fp16
   *        gradients overflowed, as GradScaler does) at optimisation step `step` of
   *        `total_steps` (INTL-M's momentum schedule).
   * @param phases when given, the device is synchronised after each phase and its time added
   * @return the loss terms of the step, computed before the update
   * @throws what the transform throws for its input (non-finite or singular embeddings)
   */
  intl_terms run(const std::vector<torch::Tensor>& views,
                 std::int64_t step,
                 std::int64_t total_steps,
                 phase_times* phases = nullptr) {
    auto last = std::chrono::steady_clock::now();
    const torch::Device device = views.front().device();
    const auto lap = [&](double phase_times::*phase) {
      if (phases != nullptr) {
        synchronize(device);
        const auto now = std::chrono::steady_clock::now();
        phases->*phase += std::chrono::duration<double, std::milli>(now - last).count();
        last = now;
      }
    };
    distributed* group = options_.group;
    const auto global = [group](const torch::Tensor& local) {
      return group != nullptr && group->world_size() > 1 ? all_gather_with_backward(local, *group)
                                                         : local;
    };
    intl_terms terms;
    {
      // fp16/bf16 products, the transform in float32
      const autocast_guard autocast(options_.amp, options_.bf16);
      const ssl_method_state::projected p =
          method_.project(encoder_, views, step, total_steps, global);
      lap(&phase_times::forward);
      terms = method_.terms(loss_, p);
      lap(&phase_times::loss);
    }
    optimizer_.zero_grad();
    scaler_.scale(terms.total).backward();
    lap(&phase_times::backward);
    if (group != nullptr) {
      average_gradients(*encoder_, *group);  // DDP's ÷W; with the gather: the global gradient
    }
    // With --amp a step whose gradients overflowed is skipped (on every rank alike: the
    // averaged gradients are the same everywhere) and the scale halved.
    if (scaler_.unscale(encoder_->parameters())) {
      optimizer_.step();
    }
    lap(&phase_times::optimizer);
    return terms;
  }

 private:
  Encoder& encoder_;
  ssl_method_state& method_;
  IntlLoss& loss_;
  torch::optim::Optimizer& optimizer_;
  loss_scaler& scaler_;
  step_options options_;
};

}  // namespace spectral::trainer
