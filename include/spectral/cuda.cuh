// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/**
 * @file
 * @brief The CUDA backend: `spectral_transform<T, Method, spectral::cuda::backend>` and the
 *        device-memory types it works on. Needs nvcc; spectral.hpp never includes this.
 */

#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/device.cuh>
#include <spectral/cuda/error.cuh>
#include <spectral/cuda/losses.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/running_statistics.cuh>
#include <spectral/cuda/spectral_transform.cuh>
#include <spectral/cuda/spectrum.cuh>
#include <spectral/cuda/status.cuh>
#include <spectral/spectral.hpp>

/// The CUDA backend and the device-memory (embedding_view, stream) forms of the library's API.
namespace spectral::cuda {

// Shorthands for the GPU transforms, mirroring spectral.hpp's CPU aliases.

/// ZCA whitening on the GPU.
template <class T>
using zca_transform = spectral_transform<T, zca_whitening, backend>;
/// PCA whitening on the GPU.
template <class T>
using pca_transform = spectral_transform<T, pca_whitening, backend>;
/// Cholesky whitening on the GPU.
template <class T>
using cholesky_transform = spectral_transform<T, cholesky_whitening, backend>;
/// The power-function transform W = Σ^{-p} on the GPU.
template <class T>
using power_transform = spectral_transform<T, power_function, backend>;
/// IterNorm on the GPU.
template <class T>
using iter_norm_transform = spectral_transform<T, iter_norm, backend>;

}  // namespace spectral::cuda
