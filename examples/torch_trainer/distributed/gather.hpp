// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// FullGatherLayer (docs/math.md#distributed-gather): the ST, the trace loss and the nMSE see the
/// global batch, so every rank computes the same loss on the concatenation of all ranks'
/// embeddings.
///
/// Normalisation (checked to 1e-10 by tests/trainer/distributed_test.py): every rank holds the
/// same global loss L, so each rank's autograd produces the same G = ∂L/∂Z_global. Backward
/// all-reduce-SUMs G (W·G) and keeps this rank's rows, so rank r's parameter gradient is
/// W·(∂L/∂θ through rank r's samples); averaging those over the W ranks (all_reduce_mean_,
/// DDP's ÷W) gives Σ_r ∂L/∂θ|_r = ∂L/∂θ, exactly the single-process gradient of the
/// global-batch loss. The sum in backward and the ÷W of the averaging cancel; dropping either
/// one alone scales the gradient by W or 1/W.

#include "distributed/process_group.hpp"

#include <spectral/spectral.hpp>

#include <torch/autograd.h>
#include <torch/types.h>

#include <cstdint>
#include <sstream>
#include <utility>
#include <vector>

namespace spectral::trainer {

namespace detail {

/// The process group backward reduces over (the caller keeps it alive until backward ran).
struct gather_state : torch::CustomClassHolder {
  distributed* dist = nullptr;
};

}  // namespace detail

/// Forward: concatenate every rank's N_local×E block along dim 0 (rank order). Backward: sum
/// the gathered gradient over the ranks and return this rank's rows.
struct full_gather_function : torch::autograd::Function<full_gather_function> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& local,
                               distributed* dist) {
    SPECTRAL_EXPECTS(local.dim() == 2, "local: must be a 2-D N_local×E tensor, got ", local.dim(),
                     " dimensions");
    auto state = c10::make_intrusive<detail::gather_state>();
    state->dist = dist;
    ctx->saved_data["state"] = c10::IValue::make_capsule(std::move(state));
    ctx->saved_data["rows"] = local.size(0);
    if (dist->world_size() == 1) {
      return local.clone();
    }
    // Unequal blocks would make c10d fail or hang on some backends; every rank sees the same
    // table, so every rank throws the same message.
    const auto shape = torch::tensor({local.size(0), local.size(1),
                                      static_cast<std::int64_t>(local.scalar_type())},
                                     torch::kInt64)
                           .to(local.device());
    const auto shapes = dist->all_gather(shape);
    bool same = true;
    std::ostringstream table;
    for (std::size_t r = 0; r < shapes.size(); ++r) {
      const auto s = shapes[r].cpu();
      const auto* v = s.data_ptr<std::int64_t>();
      same = same && s.equal(shapes[0].cpu());
      table << (r == 0 ? "" : ", ") << "rank " << r << ": " << v[0] << "×" << v[1] << " "
            << static_cast<torch::ScalarType>(v[2]);
    }
    SPECTRAL_EXPECTS(same,
                     "all_gather_with_backward: every rank must pass an N_local×E block of "
                     "the same size and dtype, got ",
                     table.str());
    return torch::cat(dist->all_gather(local), 0);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto holder = ctx->saved_data["state"].toCapsule();
    auto* dist = static_cast<const detail::gather_state*>(holder.get())->dist;
    const std::int64_t rows = ctx->saved_data["rows"].toInt();
    if (dist->world_size() == 1) {
      return {grads[0], torch::Tensor()};
    }
    torch::Tensor summed = grads[0].contiguous().clone();
    dist->all_reduce_sum_(summed);
    const std::int64_t begin = rows * dist->rank();
    return {summed.slice(0, begin, begin + rows), torch::Tensor()};
  }
};

/// Forward: Σ_ranks t (every rank gets the sum). Backward: Σ_ranks of the incoming gradient,
/// the adjoint of a sum that every rank's loss consumes under gather's normalisation above
/// (SyncBN's batch statistics, models/sync_batch_norm.hpp).
struct all_reduce_sum_function : torch::autograd::Function<all_reduce_sum_function> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& local,
                               distributed* dist) {
    auto state = c10::make_intrusive<detail::gather_state>();
    state->dist = dist;
    ctx->saved_data["state"] = c10::IValue::make_capsule(std::move(state));
    torch::Tensor summed = local.contiguous().clone();
    dist->all_reduce_sum_(summed);
    return summed;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto holder = ctx->saved_data["state"].toCapsule();
    auto* dist = static_cast<const detail::gather_state*>(holder.get())->dist;
    torch::Tensor summed = grads[0].contiguous().clone();
    dist->all_reduce_sum_(summed);
    return {summed, torch::Tensor()};
  }
};

/**
 * @brief Σ_ranks local (same shape and dtype on every rank), differentiable: the gradient that
 *        reaches `local` is the sum of every rank's gradient of the result. `dist` must outlive
 *        the backward pass. With one rank, a copy of `local`.
 */
[[nodiscard]] inline torch::Tensor all_reduce_with_backward(const torch::Tensor& local,
                                                            distributed& dist) {
  return all_reduce_sum_function::apply(local, &dist);
}

/**
 * @brief The global batch [Z_0; Z_1; …; Z_{W−1}] from this rank's Z_r (N_local×E), with the
 *        backward of docs/math.md#distributed-gather. `dist` must outlive the backward pass.
 * @throws spectral::invalid_input for a non-2-D tensor or, on every rank, when the ranks'
 *         N_local×E sizes or dtypes differ (the message lists them).
 */
[[nodiscard]] inline torch::Tensor all_gather_with_backward(const torch::Tensor& local,
                                                            distributed& dist) {
  return full_gather_function::apply(local, &dist);
}

}  // namespace spectral::trainer
