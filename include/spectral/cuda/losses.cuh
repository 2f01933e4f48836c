// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// INTL's losses on device memory: the steps the CPU runs (losses/loss_steps.hpp) on
/// cuda::backend, enqueued on a stream without waiting, and the INTL objective (one class for
/// every backend, losses/intl_objective.hpp).

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/spectral_transform.cuh>
#include <spectral/losses/intl_objective.hpp>
#include <spectral/losses/loss_steps.hpp>
#include <spectral/methods/iter_norm.hpp>

#include <cstdint>

#include <cuda_runtime.h>

namespace spectral::cuda {

/**
 * @brief INTL's trace loss (`docs/math.md#trace-loss`) on device memory, enqueued on `stream`
 *        without waiting.
 * @param value      device scalar that receives TL
 * @param grad       if non-null, receives `grad += grad_scale · ∂TL/∂y` (accumulates, so the
 *                   INTL objective can sum its terms in place)
 * @throws invalid_input for fewer than 2 observations, shapes or null pointers
 */
template <class T>
void trace_loss(embedding_view<const T> y,
                axis a,
                T* value,
                const embedding_view<T>* grad = nullptr,
                T grad_scale = T(1),
                cudaStream_t stream = nullptr,
                memory_resource memory = stream_ordered_resource());

/**
 * @brief Normalised MSE between two views (`docs/math.md#normalized-mse`) on device memory,
 *        without waiting.
 * @param grad_a, grad_b if non-null, receive `+= grad_scale · ∂nMSE/∂a` (and b)
 * @throws invalid_input for empty or mismatched shapes and null pointers
 */
template <class T>
void normalized_mse(embedding_view<const T> a,
                    embedding_view<const T> b,
                    T* value,
                    const embedding_view<T>* grad_a = nullptr,
                    const embedding_view<T>* grad_b = nullptr,
                    T grad_scale = T(1),
                    cudaStream_t stream = nullptr,
                    memory_resource memory = stream_ordered_resource());

/// The INTL objective on the GPU: spectral::intl_objective on cuda::backend (views and a stream).
template <real_scalar T, spectral_method Method = iter_norm>
using intl_objective = spectral::intl_objective<T, Method, backend>;

// --- implementation -----------------------------------------------------------------------------

template <class T>
void trace_loss(embedding_view<const T> y,
                axis a,
                T* value,
                const embedding_view<T>* grad,
                T grad_scale,
                cudaStream_t stream,
                memory_resource memory) {
  const std::int64_t observations = a == axis::features ? y.rows : y.cols;
  SPECTRAL_EXPECTS(observations >= 2, "y: the trace loss on the ", to_string(a),
                   " axis needs at least 2 observations, got ", observations);
  spectral::detail::expect_view(y, y.rows, y.cols, "y");
  SPECTRAL_EXPECTS(value != nullptr, "value: null device pointer");
  if (grad != nullptr) {
    spectral::detail::expect_view(*grad, y.rows, y.cols, "grad");
  }
  backend be(memory);
  be.bind(stream);
  const batch<T> grad_columns = grad != nullptr ? grad->columns() : batch<T>{};
  spectral::detail::trace_loss_steps(primitives<backend, T>{be}, y.columns(), a, value,
                                     grad != nullptr ? &grad_columns : nullptr, grad_scale, true);
}

template <class T>
void normalized_mse(embedding_view<const T> a,
                    embedding_view<const T> b,
                    T* value,
                    const embedding_view<T>* grad_a,
                    const embedding_view<T>* grad_b,
                    T grad_scale,
                    cudaStream_t stream,
                    memory_resource memory) {
  SPECTRAL_EXPECTS(a.rows >= 1 && a.cols >= 1, "a: must be non-empty, got ", a.rows, "x", a.cols);
  spectral::detail::expect_view(a, a.rows, a.cols, "a");
  spectral::detail::expect_view(b, a.rows, a.cols, "b");
  SPECTRAL_EXPECTS(value != nullptr, "value: null device pointer");
  if (grad_a != nullptr) {
    spectral::detail::expect_view(*grad_a, a.rows, a.cols, "grad_a");
  }
  if (grad_b != nullptr) {
    spectral::detail::expect_view(*grad_b, a.rows, a.cols, "grad_b");
  }
  backend be(memory);
  be.bind(stream);
  const batch<T> columns_a = grad_a != nullptr ? grad_a->columns() : batch<T>{};
  const batch<T> columns_b = grad_b != nullptr ? grad_b->columns() : batch<T>{};
  spectral::detail::normalized_mse_steps(primitives<backend, T>{be}, a.columns(), b.columns(),
                                         value, grad_a != nullptr ? &columns_a : nullptr,
                                         grad_b != nullptr ? &columns_b : nullptr, grad_scale,
                                         true);
}

}  // namespace spectral::cuda
