// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The bridge: a torch::autograd::Function whose forward and backward are the library's, run on
/// the tensor's own memory (no copy for a contiguous N×D tensor). Every instance, either axis;
/// CPU tensors through the Eigen backend, CUDA tensors through the CUDA backend (when built
/// against a LibTorch with CUDA: SPECTRAL_TORCH_BRIDGE_WITH_CUDA). Used by the trainer and by
/// the Python package's ops.

#include "bridge/compat.hpp"
#include "bridge/reference_transform.hpp"
#include "bridge/transform_spec.hpp"

#include <spectral/spectral.hpp>

#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
#include "bridge/cuda_bridge.hpp"

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <torch/autograd.h>
#include <torch/csrc/autograd/graph_task.h>
#include <torch/types.h>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace spectral::torch_bridge {

/// Rethrows a library exception as another type; must throw.
using error_translator = void (*)(std::exception_ptr);

/// How an exception thrown by the library inside a backward leaves the autograd engine. C++
/// callers (the trainer) keep the library's types (nullptr, the default); the Python package
/// installs a translator once, when its op library loads, so that Python sees ValueError and
/// RuntimeError from backward as it does from forward (the ops translate forward themselves).
[[nodiscard]] inline std::atomic<error_translator>& backward_error_translator() noexcept {
  static std::atomic<error_translator> translator{nullptr};
  return translator;
}

namespace detail {

/// What backward needs, type-erased: the transform and its context live in the closure.
struct saved_backward : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor&)> run;
};

template <class T>
torch::Tensor forward_on_cpu(const torch::Tensor& z,
                             const transform_spec& spec,
                             saved_backward& saved) {
  const torch::Tensor input = z.contiguous();
  const index_t n = input.size(0);
  const index_t d = input.size(1);
  torch::Tensor out = torch::empty_like(input);
  with_method(spec, [&](auto method) {
    using method_type = decltype(method);
    auto transform = std::make_shared<const spectral_transform<T, method_type>>(method, spec.opts);
    auto context = std::make_shared<const transform_context<T, method_type>>(transform->forward(
        embedding_map(input.data_ptr<T>(), n, d), embedding_map(out.data_ptr<T>(), n, d)));
    saved.run = [transform, context, n, d](const torch::Tensor& grad_out) {
      const torch::Tensor g = grad_out.to(torch::CppTypeToScalarType<T>()).contiguous();
      torch::Tensor grad_in = torch::empty_like(g);
      transform->backward(*context, embedding_map(g.data_ptr<T>(), n, d),
                          embedding_map(grad_in.data_ptr<T>(), n, d));
      return grad_in;
    };
  });
  return out;
}

#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
inline void* torch_cuda_allocate(std::size_t bytes, void* stream) {
  return c10::cuda::CUDACachingAllocator::raw_alloc_with_stream(bytes,
                                                                static_cast<cudaStream_t>(stream));
}
inline void torch_cuda_deallocate(void* pointer) noexcept {
  c10::cuda::CUDACachingAllocator::raw_delete(pointer);
}

/// The CUDA backend on the tensor's device and current stream, workspaces from LibTorch's
/// caching allocator.
template <class T>
torch::Tensor forward_on_cuda(const torch::Tensor& z,
                              const transform_spec& spec,
                              saved_backward& saved) {
  const c10::cuda::CUDAGuard device_guard(z.device());
  const torch::Tensor input = z.contiguous();
  torch::Tensor out = torch::empty_like(input);
  constexpr auto type =
      std::is_same_v<T, double> ? cuda_bridge::precision::f64 : cuda_bridge::precision::f32;
  const cuda_bridge::device_allocator memory{&torch_cuda_allocate, &torch_cuda_deallocate};
  auto context =
      cuda_bridge::forward(spec, type, input.data_ptr<T>(), out.data_ptr<T>(), input.size(0),
                           input.size(1), c10::cuda::getCurrentCUDAStream().stream(), memory);
  saved.run = [context](const torch::Tensor& grad_out) {
    const c10::cuda::CUDAGuard guard(grad_out.device());
    const torch::Tensor g = grad_out.to(torch::CppTypeToScalarType<T>()).contiguous();
    torch::Tensor grad_in = torch::empty_like(g);
    context->backward(g.data_ptr<T>(), grad_in.data_ptr<T>(),
                      c10::cuda::getCurrentCUDAStream().stream());
    return grad_in;
  };
  return out;
}
#endif

/// Y = ST(Z) on the CPU with nothing kept for a backward (spectral_transform::apply: no
/// context, no IterNorm iterates); the same bits as forward_on_cpu's output.
template <class T>
torch::Tensor apply_on_cpu(const torch::Tensor& z, const transform_spec& spec) {
  const torch::Tensor input = z.contiguous();
  const index_t n = input.size(0);
  const index_t d = input.size(1);
  torch::Tensor out = torch::empty_like(input);
  with_method(spec, [&](auto method) {
    const spectral_transform<T, decltype(method)> transform{method, spec.opts};
    transform.apply(embedding_map(input.data_ptr<T>(), n, d),
                    embedding_map(out.data_ptr<T>(), n, d));
  });
  return out;
}

template <class T>
torch::Tensor forward_on_device(const torch::Tensor& z,
                                const transform_spec& spec,
                                saved_backward& saved) {
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
  if (z.is_cuda()) {
    return forward_on_cuda<T>(z, spec, saved);
  }
#endif
  return forward_on_cpu<T>(z, spec, saved);
}

}  // namespace detail

/**
 * @brief Y = ST(Z) as an autograd node: the library's forward, and its exact hand-written
 *        backward (not autograd through eigh or the Newton loop).
 *
 * Z is N×D (rows = samples), float32 or float64, on the CPU (or on a GPU in a CUDA build).
 * Half and bfloat16 inputs (autocast) run in float32 and return float32, the recommendation of
 * docs/math.md#iternorm against the reference's fp16 Newton iterations.
 * @throws spectral::invalid_input for a non-2-D or non-floating tensor, a CUDA tensor in a CPU
 *         build, and whatever the transform throws (shapes, NaN, a singular covariance).
 */
struct spectral_function : torch::autograd::Function<spectral_function> {
  /// @throws invalid_input for a tensor the bridge cannot take (see above)
  static void expect_input(const torch::Tensor& z) {
    SPECTRAL_EXPECTS(z.dim() == 2, "z: must be a 2-D N×D tensor, got ", z.dim(), " dimensions");
    SPECTRAL_EXPECTS(z.device().is_cpu() || (z.is_cuda() && SPECTRAL_TORCH_BRIDGE_WITH_CUDA),
                     "z: is on ", z.device().str(), "; this build has the CPU bridge only");
    SPECTRAL_EXPECTS(z.is_floating_point(), "z: must be floating point, got ", z.scalar_type());
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx,
                               const torch::Tensor& z,
                               const transform_spec& spec) {
    expect_input(z);
    auto saved = c10::make_intrusive<detail::saved_backward>();
    const auto type = z.scalar_type();
    torch::Tensor out;
    if (type == torch::kFloat64) {
      out = detail::forward_on_device<double>(z, spec, *saved);
    } else {  // float32, and half/bfloat16 widened to float32
      out = detail::forward_on_device<float>(z.to(torch::kFloat32), spec, *saved);
    }
    ctx->saved_data["backward"] = c10::IValue::make_capsule(std::move(saved));
    ctx->saved_data["input_type"] = static_cast<std::int64_t>(type);
    return out;
  }

  /// The library's backward, once per forward unless retain_graph: the context (Z_c, W, the
  /// iterates) is released as soon as the graph is, not when Y is. Not differentiable itself.
  /// @throws invalid_input for a second backward through a freed graph and for create_graph
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto type = static_cast<torch::ScalarType>(ctx->saved_data["input_type"].toInt());
    torch::Tensor grad_in;
    try {
      SPECTRAL_EXPECTS(!torch::autograd::GradMode::is_enabled(),
                       "backward: the spectral transform's backward is not differentiable "
                       "(create_graph=True / double backward is not supported)");
      const auto found = ctx->saved_data.find("backward");
      SPECTRAL_EXPECTS(found != ctx->saved_data.end(),
                       "backward: a second backward through the spectral transform after its "
                       "context was freed; pass retain_graph=True to the first backward");
      const auto holder = found->second.toCapsule();
      if (!torch::autograd::get_current_graph_task_keep_graph()) {
        ctx->saved_data.erase(found);
      }
      grad_in = static_cast<const detail::saved_backward*>(holder.get())->run(grads[0]);
    } catch (...) {
      if (const auto translate = backward_error_translator().load()) {
        translate(std::current_exception());
      }
      throw;
    }
    return {grad_in.to(type), torch::Tensor()};
  }
};

/// Y = ST(Z): the library with its exact backward (see spectral_function), or the reference
/// formulas with autograd when spec.engine says so.
[[nodiscard]] inline torch::Tensor spectral_transform_op(const torch::Tensor& z,
                                                         const transform_spec& spec) {
  if (spec.engine == transform_engine::reference) {
    return reference_transform(z, spec);
  }
  // No backward can follow (grad mode off, or z does not require grad): on the CPU, skip the
  // autograd node and the context it would keep alive. The CUDA path always keeps its context.
  const bool needs_backward = torch::autograd::GradMode::is_enabled() && z.requires_grad();
  if (!needs_backward && z.device().is_cpu()) {
    spectral_function::expect_input(z);
    return z.scalar_type() == torch::kFloat64
               ? detail::apply_on_cpu<double>(z, spec)
               : detail::apply_on_cpu<float>(z.to(torch::kFloat32), spec);
  }
  return spectral_function::apply(z, spec);
}

}  // namespace spectral::torch_bridge
