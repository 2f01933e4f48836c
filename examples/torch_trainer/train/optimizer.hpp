// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// SGD whose update runs over a whole parameter group at once. LibTorch's torch::optim::SGD
/// loops over the parameters (several small kernels each: about 670 launches a step on a
/// ResNet-50 with its projector); here each group takes a few multi-tensor `_foreach` calls,
/// which CUDA runs as fused kernels over many tensors. Same arithmetic, state and checkpoint
/// format as torch::optim::SGD (it is one), so checkpoints of either load into the other.

#include "torch_bridge.hpp"

#include <torch/optim/sgd.h>
#include <torch/torch.h>

#include <memory>
#include <vector>

namespace spectral::trainer {

/**
 * @brief torch::optim::SGD with multi-tensor updates: per group, d = g + wd·p; at a
 *        parameter's first step buf = d, else buf = momentum·buf + (1 − dampening)·d; then
 *        p −= lr·buf (Nesterov: p −= lr·(d + momentum·buf)). Parameters without a gradient are
 *        left alone, as SGD does.
 */
class multi_tensor_sgd : public torch::optim::SGD {
 public:
  using torch::optim::SGD::SGD;

  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    torch::Tensor loss;
    if (closure != nullptr) {
      at::AutoGradMode enable_grad(true);
      loss = closure();
    }
    for (auto& group : param_groups()) {
      const auto& options = static_cast<const torch::optim::SGDOptions&>(group.options());
      std::vector<torch::Tensor> params;
      std::vector<torch::Tensor> grads;
      for (auto& p : group.params()) {
        if (p.grad().defined()) {
          params.push_back(p);
          grads.push_back(p.grad());
        }
      }
      if (params.empty()) {
        continue;
      }
      std::vector<torch::Tensor> d = options.weight_decay() != 0.0
                                         ? at::_foreach_add(grads, params, options.weight_decay())
                                         : grads;
      if (options.momentum() != 0.0) {
        std::vector<torch::Tensor> buffers;      // every parameter's, in order
        std::vector<torch::Tensor> continued;    // buffers that already existed ...
        std::vector<torch::Tensor> continued_d;  // ... and their parameters' d
        auto& states = state();
        for (std::size_t i = 0; i < params.size(); ++i) {
          const auto key = compat::optimizer_state_key(states, params[i]);
          const auto found = states.find(key);
          if (found == states.end()) {
            torch::Tensor buffer = torch::clone(d[i]).detach();
            auto fresh = std::make_unique<torch::optim::SGDParamState>();
            fresh->momentum_buffer(buffer);
            states[key] = std::move(fresh);
            buffers.push_back(buffer);
          } else {
            torch::Tensor buffer =
                static_cast<torch::optim::SGDParamState&>(*found->second).momentum_buffer();
            continued.push_back(buffer);
            continued_d.push_back(d[i]);
            buffers.push_back(buffer);
          }
        }
        if (!continued.empty()) {
          at::_foreach_mul_(continued, options.momentum());
          at::_foreach_add_(continued, continued_d, 1.0 - options.dampening());
        }
        d = options.nesterov() ? at::_foreach_add(d, buffers, options.momentum()) : buffers;
      }
      at::_foreach_add_(params, d, -options.lr());
    }
    return loss;
  }
};

}  // namespace spectral::trainer
