// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The per-step learning-rate schedule (linear warm-up, cosine to 0.001 × base;
/// docs/trainer.md#imagenet-pretraining) and the SGD parameter groups of the ImageNet and CIFAR
/// recipes (docs/trainer.md#imagenet-pretraining, docs/trainer.md#cifar).

#include <spectral/core/error.hpp>

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// SGD momentum of every recipe.
inline constexpr double sgd_momentum = 0.9;

/**
 * @brief Learning rate at optimisation step s of S, with W warm-up steps.
 *
 * s < W: base (s + 1) / W. Otherwise q = ½(1 + cos(π (s − W + 1) / (S − W))) and
 * lr = base q + 0.001 base (1 − q). So lr(0) = base / W, lr(W − 1) = base,
 * lr(S − 1) = 0.001 base, and the rate never rises after warm-up.
 *
 * @param base_lr lr × batch / 256, finite and ≥ 0.
 * @param step s in [0, total_steps).
 * @param warmup_steps W ≥ 0 (2 epochs in every recipe); W ≥ S means warm-up throughout.
 * @param total_steps S ≥ 1.
 * @throws spectral::invalid_input when an argument is outside its range.
 */
[[nodiscard]] double learning_rate(double base_lr,
                                   std::int64_t step,
                                   std::int64_t warmup_steps,
                                   std::int64_t total_steps);

/**
 * @brief Two SGD parameter groups (momentum 0.9), in this order: the trainable parameters
 * with more than one dimension (conv and linear weights) with weight_decay; the others
 * (biases, BN γ and β) with weight_decay when decay_1d is true, else 0.
 *
 * ImageNet recipe: decay_1d = false (wd 1e−5); CIFAR recipe: decay_1d = true (wd 1e−4).
 * Parameters with requires_grad false are left out. Each group carries its own SGDOptions
 * with lr 0: call set_learning_rate before every step. A group may be empty.
 *
 * @throws spectral::invalid_input when weight_decay is negative or not finite.
 */
[[nodiscard]] std::vector<torch::optim::OptimizerParamGroup> sgd_parameter_groups(
    const torch::nn::Module& module, double weight_decay, bool decay_1d);

/**
 * @brief Sets the learning rate of every parameter group of optimizer.
 * @throws spectral::invalid_input when lr is negative or not finite.
 */
void set_learning_rate(torch::optim::SGD& optimizer, double lr);

// --- implementation

inline double learning_rate(double base_lr,
                            std::int64_t step,
                            std::int64_t warmup_steps,
                            std::int64_t total_steps) {
  SPECTRAL_EXPECTS(std::isfinite(base_lr) && base_lr >= 0.0, "base_lr: ", base_lr,
                   " must be finite and non-negative");
  SPECTRAL_EXPECTS(total_steps >= 1, "total_steps: ", total_steps, " must be at least 1");
  SPECTRAL_EXPECTS(warmup_steps >= 0, "warmup_steps: ", warmup_steps, " must be non-negative");
  SPECTRAL_EXPECTS(step >= 0 && step < total_steps, "step: ", step, " is not in [0, ", total_steps,
                   ")");
  if (step < warmup_steps) {
    // The ratio first, so that lr(W − 1) is base exactly.
    return base_lr * (static_cast<double>(step + 1) / static_cast<double>(warmup_steps));
  }
  // step ≥ W and step < S, so S − W ≥ 1.
  const double progress = static_cast<double>(step - warmup_steps + 1) /
                          static_cast<double>(total_steps - warmup_steps);
  const double q = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return base_lr * q + 0.001 * base_lr * (1.0 - q);
}

inline std::vector<torch::optim::OptimizerParamGroup> sgd_parameter_groups(
    const torch::nn::Module& module, double weight_decay, bool decay_1d) {
  SPECTRAL_EXPECTS(std::isfinite(weight_decay) && weight_decay >= 0.0,
                   "weight_decay: ", weight_decay, " must be finite and non-negative");
  std::vector<torch::Tensor> matrices;
  std::vector<torch::Tensor> vectors;
  for (const auto& parameter : module.parameters()) {
    if (!parameter.requires_grad()) {
      continue;
    }
    (parameter.dim() > 1 ? matrices : vectors).push_back(parameter);
  }
  const auto options = [](double wd) {
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(0.0).momentum(sgd_momentum).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::move(matrices), options(weight_decay));
  groups.emplace_back(std::move(vectors), options(decay_1d ? weight_decay : 0.0));
  return groups;
}

inline void set_learning_rate(torch::optim::SGD& optimizer, double lr) {
  SPECTRAL_EXPECTS(std::isfinite(lr) && lr >= 0.0, "lr: ", lr, " must be finite and non-negative");
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
  }
}

}  // namespace spectral::trainer
