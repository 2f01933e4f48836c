// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Every difference between the LibTorch versions the trainer builds against: Debian's 1.13
/// (CPU, what CI checks) and PyTorch 2.x's (CUDA, on the GPU machine). Nothing else in the
/// trainer tests TORCH_VERSION.

#include <ATen/autocast_mode.h>
#include <torch/types.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>

/// 1 when the trainer is built against a LibTorch with CUDA and the bridge's CUDA half
/// (bridge/cuda_bridge.cu) is linked in; set by CMake.
#ifndef SPECTRAL_TORCH_BRIDGE_WITH_CUDA
#define SPECTRAL_TORCH_BRIDGE_WITH_CUDA 0
#endif

namespace spectral::torch_bridge::compat {

inline constexpr int torch_major = TORCH_VERSION_MAJOR;
inline constexpr int torch_minor = TORCH_VERSION_MINOR;

/// Whether this trainer can put tensors and the library's transform on a GPU.
inline constexpr bool built_with_cuda = SPECTRAL_TORCH_BRIDGE_WITH_CUDA != 0;

/// Turns CUDA autocast (fp16 for convolutions and products) on or off for this thread.
/// 1.13 to 2.3: at::autocast::set_enabled (CUDA); 2.4+: set_autocast_enabled(device type, on).
inline void set_cuda_autocast(bool enabled) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_enabled(enabled);
#endif
}

/// The reduced precision CUDA autocast computes in: fp16 (the default) or bf16.
/// 1.13 to 2.3: at::autocast::set_autocast_gpu_dtype; 2.4+: set_autocast_dtype(device type, dtype).
inline void set_cuda_autocast_dtype(at::ScalarType dtype) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
#endif
}

/// The key of a parameter in an optimizer's state map: its TensorImpl's address, as a string in
/// 1.13 (and some 2.x releases), as a pointer in later ones. Deduced from the map's key type.
template <class StateMap>
[[nodiscard]] typename StateMap::key_type optimizer_state_key(const StateMap& /*state*/,
                                                              const torch::Tensor& parameter) {
  using key = typename StateMap::key_type;
  if constexpr (std::is_same_v<key, std::string>) {
    std::ostringstream text;  // as c10::guts::to_string writes the address
    text << parameter.unsafeGetTensorImpl();
    return text.str();
  } else {
    return static_cast<key>(parameter.unsafeGetTensorImpl());
  }
}

}  // namespace spectral::torch_bridge::compat
