// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The bridge: a torch::autograd::Function whose forward and backward are the library's, run on
/// the tensor's own memory (no copy for a contiguous N×D tensor). Every instance, either axis.

#include <spectral/spectral.hpp>

#include <torch/autograd.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace spectral::trainer {

enum class transform_kind { zca, pca, cholesky, power, iternorm };

[[nodiscard]] inline std::string_view to_string(transform_kind k) noexcept {
  switch (k) {
    case transform_kind::zca: return "zca";
    case transform_kind::pca: return "pca";
    case transform_kind::cholesky: return "cholesky";
    case transform_kind::power: return "power";
    case transform_kind::iternorm: return "iternorm";
  }
  return "?";
}

/// Which spectral transformation, with its parameters and options.
struct transform_spec {
  transform_kind kind = transform_kind::iternorm;
  double power = 0.5;  ///< p of the power function
  int iterations = 4;  ///< T of IterNorm
  options opts{.axis = axis::samples};
};

namespace detail {

/// What backward needs, type-erased: the transform and its context live in the closure.
struct saved_backward : torch::CustomClassHolder {
  std::function<torch::Tensor(const torch::Tensor&)> run;
};

template <class Fn>
decltype(auto) with_method(const transform_spec& spec, Fn&& fn) {
  switch (spec.kind) {
    case transform_kind::zca: return fn(zca_whitening{});
    case transform_kind::pca: return fn(pca_whitening{});
    case transform_kind::cholesky: return fn(cholesky_whitening{});
    case transform_kind::power: return fn(power_function{spec.power});
    case transform_kind::iternorm: break;
  }
  return fn(iter_norm{spec.iterations});
}

template <class T>
torch::Tensor forward_on_cpu(const torch::Tensor& z, const transform_spec& spec,
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

}  // namespace detail

/**
 * @brief Y = ST(Z) as an autograd node: the library's forward, and its exact hand-written
 *        backward (not autograd through eigh or the Newton loop).
 *
 * Z is N×D (rows = samples), float32 or float64, on the CPU. Half and bfloat16 inputs (autocast)
 * run in float32 and return float32, as the library's CUDA backend does.
 * @throws spectral::invalid_input for a non-2-D, non-floating or non-CPU tensor, and whatever
 *         the transform throws (shapes, NaN, a singular covariance).
 */
struct spectral_function : torch::autograd::Function<spectral_function> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& z,
                               const transform_spec& spec) {
    SPECTRAL_EXPECTS(z.dim() == 2, "z: must be a 2-D N×D tensor, got ", z.dim(), " dimensions");
    SPECTRAL_EXPECTS(z.device().is_cpu(), "z: is on ", z.device().str(),
                     "; this trainer was built with the CPU bridge only");
    SPECTRAL_EXPECTS(z.is_floating_point(), "z: must be floating point, got ", z.scalar_type());
    auto saved = c10::make_intrusive<detail::saved_backward>();
    const auto type = z.scalar_type();
    torch::Tensor out;
    if (type == torch::kFloat64) {
      out = detail::forward_on_cpu<double>(z, spec, *saved);
    } else {  // float32, and half/bfloat16 widened to float32
      out = detail::forward_on_cpu<float>(z.to(torch::kFloat32), spec, *saved);
    }
    ctx->saved_data["backward"] = c10::IValue::make_capsule(std::move(saved));
    ctx->saved_data["input_type"] = static_cast<std::int64_t>(type);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto holder = ctx->saved_data["backward"].toCapsule();
    const auto* saved = static_cast<const detail::saved_backward*>(holder.get());
    const auto type = static_cast<torch::ScalarType>(ctx->saved_data["input_type"].toInt());
    torch::Tensor grad_in = saved->run(grads[0]);
    return {grad_in.to(type), torch::Tensor()};
  }
};

/// Y = ST(Z) with the library's exact backward (see spectral_function).
[[nodiscard]] inline torch::Tensor spectral_transform_op(const torch::Tensor& z,
                                                         const transform_spec& spec) {
  return spectral_function::apply(z, spec);
}

}  // namespace spectral::trainer
