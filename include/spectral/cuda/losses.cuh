// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/cuda/error.cuh>
#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/kernels/losses.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/spectral_transform.cuh>
#include <spectral/methods/iter_norm.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace spectral::cuda {

/**
 * @brief INTL's trace loss (spec §4.6) on device memory, enqueued on `stream` without waiting.
 * @param value      device scalar that receives TL
 * @param grad       if non-null, receives `grad += grad_scale · ∂TL/∂y` (accumulates, so the
 *                   INTL objective can sum its terms in place)
 * @throws invalid_input for fewer than 2 observations, shapes or null pointers
 */
template <class T>
void trace_loss(embedding_view<const T> y, axis a, T* value, const embedding_view<T>* grad = nullptr,
                T grad_scale = T(1), cudaStream_t stream = nullptr,
                memory_resource memory = stream_ordered_resource());

/**
 * @brief Normalised MSE between two views (spec §4.7) on device memory, without waiting.
 * @param grad_a, grad_b if non-null, receive `+= grad_scale · ∂nMSE/∂a` (and b)
 */
template <class T>
void normalized_mse(embedding_view<const T> a, embedding_view<const T> b, T* value,
                    const embedding_view<T>* grad_a = nullptr,
                    const embedding_view<T>* grad_b = nullptr, T grad_scale = T(1),
                    cudaStream_t stream = nullptr,
                    memory_resource memory = stream_ordered_resource());

/**
 * @brief The INTL objective for V ≥ 2 views on the GPU, with the CPU's semantics
 *        (losses/intl_objective.hpp): view 0 is the anchor, β weighs the trace losses.
 */
template <real_scalar T, spectral_method Method = iter_norm>
class intl_objective {
 public:
  using transform_type = spectral_transform<T, Method, backend>;
  struct terms {
    T total{};
    T alignment{};
    T trace{};
  };

  /// @throws invalid_input when beta is negative or not finite.
  intl_objective(transform_type transform, double beta)
      : transform_(std::move(transform)), beta_(beta) {
    SPECTRAL_EXPECTS(std::isfinite(beta) && beta >= 0.0, "beta: must be finite and >= 0, got ",
                     beta);
  }

  /**
   * @brief L and, when `grads` is non-empty, ∂L/∂Z^v written into grads[v].
   * @note Synchronises `stream` once, to return the terms.
   */
  terms evaluate(const std::vector<embedding_view<const T>>& views,
                 const std::vector<embedding_view<T>>& grads = {}, cudaStream_t stream = nullptr);

  [[nodiscard]] double beta() const noexcept { return beta_; }

 private:
  transform_type transform_;
  double beta_;
};

// --- implementation -----------------------------------------------------------------------------

template <class T>
void trace_loss(embedding_view<const T> y, axis a, T* value, const embedding_view<T>* grad,
                T grad_scale, cudaStream_t stream, memory_resource memory) {
  const std::int64_t observations = a == axis::features ? y.rows : y.cols;
  SPECTRAL_EXPECTS(observations >= 2, "y: the trace loss on the ", to_string(a),
                   " axis needs at least 2 observations, got ", observations);
  detail::expect_view(y, y.rows, y.cols, "y");
  SPECTRAL_EXPECTS(value != nullptr, "value: null device pointer");
  if (grad != nullptr) {
    detail::expect_view(*grad, y.rows, y.cols, "grad");
  }
  const std::int64_t terms = a == axis::features ? y.cols : y.rows;
  device_buffer<T> excess(static_cast<std::size_t>(terms), stream, memory);
  T* grad_data = grad != nullptr ? grad->data : nullptr;
  const std::int64_t grad_stride = grad != nullptr ? grad->row_stride : 0;
  if (a == axis::features) {
    detail::trace_loss_columns_kernel<T><<<detail::grid_blocks(y.cols), detail::block_threads, 0,
                                           stream>>>(y.data, y.rows, y.cols, y.row_stride,
                                                     excess.data(), grad_data, grad_stride,
                                                     grad_scale);
  } else {
    detail::trace_loss_rows_kernel<T>
        <<<detail::grid_blocks(y.rows * detail::warp_threads), detail::block_threads, 0, stream>>>(
            y.data, y.rows, y.cols, y.row_stride, excess.data(), grad_data, grad_stride,
            grad_scale);
  }
  detail::check_launch("trace_loss kernel");
  detail::reduce_terms_kernel<T><<<1, detail::block_threads, 0, stream>>>(excess.data(), terms,
                                                                         true, 0.0, 1.0, value);
  detail::check_launch("reduce_terms_kernel");
}

template <class T>
void normalized_mse(embedding_view<const T> a, embedding_view<const T> b, T* value,
                    const embedding_view<T>* grad_a, const embedding_view<T>* grad_b,
                    T grad_scale, cudaStream_t stream, memory_resource memory) {
  SPECTRAL_EXPECTS(a.rows >= 1 && a.cols >= 1, "a: must be non-empty, got ", a.rows, "x", a.cols);
  detail::expect_view(a, a.rows, a.cols, "a");
  detail::expect_view(b, a.rows, a.cols, "b");
  SPECTRAL_EXPECTS(value != nullptr, "value: null device pointer");
  if (grad_a != nullptr) {
    detail::expect_view(*grad_a, a.rows, a.cols, "grad_a");
  }
  if (grad_b != nullptr) {
    detail::expect_view(*grad_b, a.rows, a.cols, "grad_b");
  }
  device_buffer<T> cosine(static_cast<std::size_t>(a.rows), stream, memory);
  detail::normalized_mse_rows_kernel<T>
      <<<detail::grid_blocks(a.rows * detail::warp_threads), detail::block_threads, 0, stream>>>(
          a.data, a.row_stride, b.data, b.row_stride, a.rows, a.cols, cosine.data(),
          grad_a != nullptr ? grad_a->data : nullptr, grad_a != nullptr ? grad_a->row_stride : 0,
          grad_b != nullptr ? grad_b->data : nullptr, grad_b != nullptr ? grad_b->row_stride : 0,
          grad_scale);
  detail::check_launch("normalized_mse_rows_kernel");
  detail::reduce_terms_kernel<T><<<1, detail::block_threads, 0, stream>>>(
      cosine.data(), a.rows, false, 2.0, -2.0 / static_cast<double>(a.rows), value);
  detail::check_launch("reduce_terms_kernel");
}

template <real_scalar T, spectral_method Method>
auto intl_objective<T, Method>::evaluate(const std::vector<embedding_view<const T>>& views,
                                         const std::vector<embedding_view<T>>& grads,
                                         cudaStream_t stream) -> terms {
  const std::size_t count = views.size();
  SPECTRAL_EXPECTS(count >= 2, "views: the INTL objective needs at least 2 views, got ", count);
  SPECTRAL_EXPECTS(grads.empty() || grads.size() == count, "grads: expected ", count,
                   " gradient views, got ", grads.size());
  const std::int64_t n = views[0].rows;
  const std::int64_t d = views[0].cols;
  for (std::size_t v = 1; v < count; ++v) {
    SPECTRAL_EXPECTS(views[v].rows == n && views[v].cols == d, "views: view ", v, " is ",
                     views[v].rows, "x", views[v].cols, " but view 0 is ", n, "x", d);
  }
  const memory_resource memory = transform_.config().memory;
  const axis a = transform_.opts().axis;
  const T others = T(1) / static_cast<T>(count - 1);
  const T beta = static_cast<T>(beta_);
  const bool want_grad = !grads.empty();
  const auto plane = static_cast<std::size_t>(n * d);

  // outputs and dL/dY of every view, back to back; scalars: per view TL, then nMSE.
  device_buffer<T> outputs(count * plane, stream, memory);
  device_buffer<T> grad_out(want_grad ? count * plane : 0, stream, memory);
  device_buffer<T> values(2 * count, stream, memory);
  if (want_grad) {
    SPECTRAL_CUDA_TRY(cudaMemsetAsync(grad_out.data(), 0, grad_out.size() * sizeof(T), stream));
  }
  SPECTRAL_CUDA_TRY(cudaMemsetAsync(values.data(), 0, values.size() * sizeof(T), stream));
  const auto output_view = [&](std::size_t v) { return embedding_view<T>(outputs.data() + v * plane, n, d); };
  const auto grad_view = [&](std::size_t v) { return embedding_view<T>(grad_out.data() + v * plane, n, d); };

  std::vector<typename transform_type::context_type> contexts;
  contexts.reserve(count);
  for (std::size_t v = 0; v < count; ++v) {
    contexts.push_back(transform_.forward(views[v], output_view(v), stream));
  }
  for (std::size_t v = 0; v < count; ++v) {
    const T weight = v == 0 ? T(1) : others;
    const embedding_view<T> g = grad_view(v);
    trace_loss<T>(output_view(v), a, values.data() + v, want_grad ? &g : nullptr, beta * weight,
                  stream, memory);
    if (v == 0) {
      continue;
    }
    const embedding_view<T> g0 = grad_view(0);
    normalized_mse<T>(output_view(v), output_view(0), values.data() + count + v,
                      want_grad ? &g : nullptr, want_grad ? &g0 : nullptr, others, stream, memory);
  }
  if (want_grad) {
    for (std::size_t v = 0; v < count; ++v) {
      transform_.backward(contexts[v], grad_view(v), grads[v], stream);
    }
  }
  std::vector<T> host(2 * count);
  SPECTRAL_CUDA_TRY(cudaMemcpyAsync(host.data(), values.data(), host.size() * sizeof(T),
                                    cudaMemcpyDeviceToHost, stream));
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream));
  terms out;
  for (std::size_t v = 0; v < count; ++v) {
    out.trace += (v == 0 ? T(1) : others) * host[v];
    if (v > 0) {
      out.alignment += others * host[count + v];
    }
  }
  out.total = out.alignment + beta * out.trace;
  return out;
}

}  // namespace spectral::cuda
