// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Umbrella header: the core, every method and their registry, the losses, diagnostics and the
/// CPU backend.
/// Never includes CUDA headers.

#include <spectral/core/concepts.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/running_statistics.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
#include <spectral/diagnostics/spectrum.hpp>
#include <spectral/losses/intl_objective.hpp>
#include <spectral/losses/normalized_mse.hpp>
#include <spectral/losses/trace_loss.hpp>
#include <spectral/methods/iter_norm.hpp>
#include <spectral/methods/power_function.hpp>
#include <spectral/methods/registry.hpp>
#include <spectral/methods/whitening.hpp>
#include <spectral/version.hpp>

/// The library: spectral transformations of embeddings (whitening, power functions, IterNorm),
/// their exact backward passes, INTL's losses and collapse diagnostics.
namespace spectral {

// Shorthands for the common instances of spectral_transform.

/// ZCA whitening transform (zca_whitening).
template <class T, class Backend = cpu::backend>
using zca_transform = spectral_transform<T, zca_whitening, Backend>;
/// PCA whitening transform (pca_whitening).
template <class T, class Backend = cpu::backend>
using pca_transform = spectral_transform<T, pca_whitening, Backend>;
/// Cholesky whitening transform (cholesky_whitening).
template <class T, class Backend = cpu::backend>
using cholesky_transform = spectral_transform<T, cholesky_whitening, Backend>;
/// Power-function transform W = Σ^{-p} (power_function).
template <class T, class Backend = cpu::backend>
using power_transform = spectral_transform<T, power_function, Backend>;
/// IterNorm transform (iter_norm), for example
/// `spectral::iter_norm_transform<float> t{iter_norm{4}, {.axis = axis::samples}}`.
template <class T, class Backend = cpu::backend>
using iter_norm_transform = spectral_transform<T, iter_norm, Backend>;

}  // namespace spectral
