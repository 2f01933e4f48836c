// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Which spectral transformation the bridge applies, free of LibTorch and CUDA headers so that
/// both the bridge (g++, LibTorch) and its CUDA half (nvcc) include it. The method itself is a
/// spectral::method_spec of the library's registry (spectral/methods/registry.hpp).

#include <spectral/spectral.hpp>

#include <utility>

namespace spectral::torch_bridge {

/// Who computes the transform: the library (exact hand-written backward), or LibTorch ops with
/// autograd written as the reference Python code writes them (the peer of the throughput runs).
enum class transform_engine { library, reference };

/// Which spectral transformation, with its parameters and options.
struct transform_spec {
  /// The method by registered name, with p (power) and T (iternorm); IterNorm T = 4 by default.
  method_spec method{};
  options opts{.axis = axis::samples};
  transform_engine engine = transform_engine::library;
  /// CUDA only: synchronise after each forward/backward and throw what the device recorded
  /// (NaN input, a singular Σ). Off, the transform never stalls the queue: what each call
  /// records is merged, on the device, into its device's pending status, which
  /// cuda_bridge::check_pending() reads and throws when the caller chooses (a NaN also reaches
  /// the loss, where a training loop that reads its loss sees it).
  bool cuda_sync_check = true;
  bool cuda_tf32 = false;  ///< CUDA only: IterNorm's float GEMMs on TF32 tensor cores

  /// Checks the method name and every parameter through the library's own constructors and
  /// options, whatever the method, so a setting is refused up front exactly when the library
  /// would refuse it later.
  /// @throws invalid_input naming the method ("transform: unknown method …"), or the parameter
  ///         (iters, power, eps, groups) and the value
  void validate() const {
    validate_method(method, "transform");
    validate_all_parameters(method);
    opts.validate();
  }
};

namespace detail {

/// Calls fn with the library method of `spec` (spectral::visit_method).
template <class Fn>
decltype(auto) with_method(const transform_spec& spec, Fn&& fn) {
  return visit_method(spec.method, std::forward<Fn>(fn));
}

}  // namespace detail
}  // namespace spectral::torch_bridge
