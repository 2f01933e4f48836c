// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Which spectral transformation the trainer applies, free of LibTorch and CUDA headers so that
/// both the bridge (g++, LibTorch) and its CUDA half (nvcc) include it.

#include <spectral/spectral.hpp>

#include <string_view>

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

/// Who computes the transform: the library (exact hand-written backward), or LibTorch ops with
/// autograd written as the reference Python code writes them (the peer of the throughput runs).
enum class transform_engine { library, reference };

/// Which spectral transformation, with its parameters and options.
struct transform_spec {
  transform_kind kind = transform_kind::iternorm;
  double power = 0.5;  ///< p of the power function
  int iterations = 4;  ///< T of IterNorm
  options opts{.axis = axis::samples};
  transform_engine engine = transform_engine::library;
  /// CUDA only: synchronise after each forward/backward and throw what the device recorded
  /// (NaN input, a singular Σ). A training loop that checks its loss every step may turn it off:
  /// a NaN then reaches the loss and is reported there, and the transform never stalls the queue.
  bool cuda_sync_check = true;
  bool cuda_tf32 = false;  ///< CUDA only: IterNorm's float GEMMs on TF32 tensor cores

  /// Checks the parameters through the library's own constructors and options, whatever the
  /// kind, so a setting is refused up front exactly when the library would refuse it later.
  /// @throws invalid_input naming the parameter (iters, power, eps, groups) and the value
  void validate() const {
    static_cast<void>(iter_norm{iterations});
    static_cast<void>(power_function{power});
    opts.validate();
  }
};

namespace detail {

/// Calls fn with the library method of `spec`.
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

}  // namespace detail
}  // namespace spectral::trainer
