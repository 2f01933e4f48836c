// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Running statistics on the GPU: the one class of core/running_statistics.hpp on cuda::backend
/// (device memory, in stream order; the constructor's second argument is a memory resource).

#include <spectral/core/running_statistics.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/spectral_transform.cuh>

namespace spectral::cuda {

/// EMAs of the batch mean and of each group's W on the device (features axis only).
template <real_scalar T>
using running_statistics = spectral::running_statistics<T, backend>;

}  // namespace spectral::cuda
