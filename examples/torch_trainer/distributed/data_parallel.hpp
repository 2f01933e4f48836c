// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The two DDP duties of a data-parallel training step, for any module: the same starting state
/// on every rank, and gradients averaged over the ranks after backward (with gather.hpp's
/// normalisation this is exactly the single-process gradient of the global-batch loss).

#include "distributed/process_group.hpp"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <vector>

namespace spectral::trainer {

/**
 * @brief Copies rank 0's parameters and buffers into every other rank's module (one broadcast
 *        per dtype: float parameters and running statistics, int64 batch counters).
 * @note Every rank must call it with a module of the same structure. No-op for one rank.
 */
inline void broadcast_module_state(torch::nn::Module& module, distributed& dist) {
  if (dist.world_size() == 1) {
    return;
  }
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_type;  // same order on every rank
  for (const auto& p : module.parameters()) {
    by_type[p.scalar_type()].push_back(p);
  }
  for (const auto& b : module.buffers()) {
    by_type[b.scalar_type()].push_back(b);
  }
  for (auto& [type, tensors] : by_type) {
    dist.broadcast_(tensors, 0);
  }
}

/**
 * @brief grad ← mean over ranks of grad for every trainable parameter (one all-reduce), between
 *        backward and the optimiser step.
 * @note A parameter without a gradient on this rank contributes zeros, so every rank reduces
 *       the same layout. It then has a zero gradient, so SGD's weight decay and momentum do move
 *       it, where one process would have skipped it: the one place where several ranks differ
 *       from one process. Every parameter of the trainer's models gets a gradient at every
 *       step. No-op for one rank.
 */
inline void average_gradients(torch::nn::Module& module, distributed& dist) {
  if (dist.world_size() == 1) {
    return;
  }
  std::vector<torch::Tensor> grads;
  for (auto& p : module.parameters()) {
    if (!p.requires_grad()) {
      continue;
    }
    if (!p.grad().defined()) {
      p.mutable_grad() = torch::zeros_like(p);
    }
    grads.push_back(p.grad());
  }
  dist.all_reduce_mean_(grads);
}

}  // namespace spectral::trainer
