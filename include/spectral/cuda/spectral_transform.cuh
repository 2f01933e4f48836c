// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The spectral transformation on the GPU is the library's one spectral_transform
/// (core/spectral_transform.hpp) instantiated with the CUDA backend: the same algorithm, methods,
/// options and semantics as on the CPU, on device memory, all G groups in one batched call per
/// step. Its device-memory entry points take `embedding_view`s and the stream to run on;
/// `cuda::settings` (sync_check, tf32, memory) configure it.

#include <spectral/core/spectral_transform.hpp>
#include <spectral/cuda/backend.cuh>

namespace spectral::cuda {

/// What a CUDA forward saves for backward, in device memory (freed in stream order on the stream
/// forward ran on). W of group g is the packed column-major matrix g of `transforms()`.
template <class T, class Method>
using transform_context = spectral::transform_context<T, Method, backend>;

/// The CUDA transform, e.g. `cuda::transform<float, iter_norm>`.
template <class T, class Method>
using transform = spectral_transform<T, Method, backend>;

}  // namespace spectral::cuda
