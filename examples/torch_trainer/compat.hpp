// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Every difference between the LibTorch versions the trainer builds against: Debian's 1.13
/// (CPU, what CI checks) and PyTorch 2.x's (CUDA, on the GPU machine). Nothing else in the
/// trainer tests TORCH_VERSION.

#include <torch/version.h>

namespace spectral::trainer::compat {

inline constexpr int torch_major = TORCH_VERSION_MAJOR;
inline constexpr int torch_minor = TORCH_VERSION_MINOR;

/// Whether this LibTorch was built with CUDA support at all (not whether a GPU is present).
#if defined(USE_CUDA) || defined(TORCH_CUDA_BUILD)
inline constexpr bool built_with_cuda = true;
#else
inline constexpr bool built_with_cuda = false;
#endif

}  // namespace spectral::trainer::compat
