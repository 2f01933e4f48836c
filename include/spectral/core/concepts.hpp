// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The concepts a method satisfies to be a spectral_transform's Method: a scalar spectral
/// function (spectral_function_method) or a method with its own hooks (hook_method).

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>

#include <concepts>
#include <string_view>
#include <utility>

namespace spectral {

/**
 * @brief A spectral-function method: W = U g(Λ) Uᵀ for a scalar g (ZCA, power functions).
 *
 * It declares `value(λ) = g(λ)` and `derivative(λ) = g'(λ)`; the library supplies the
 * eigendecomposition forward and the Daleckii–Krein backward (detail/spectral_function.hpp).
 * `requires_positive_definite()` says whether g needs λ > 0 (any negative power does).
 */
template <class M>
concept spectral_function_method = requires(const M m, double lambda) {
  { M::name() } -> std::convertible_to<std::string_view>;
  { m.value(lambda) } -> std::convertible_to<double>;
  { m.derivative(lambda) } -> std::convertible_to<double>;
  { m.requires_positive_definite() } -> std::convertible_to<bool>;
};

/**
 * @brief A method with its own hooks (PCA, Cholesky, IterNorm), written once against the
 *        backend primitives (core/backend.hpp) so that it runs on every backend.
 *
 * - `state<T, Backend>`: what its backward needs, for all groups at once (backend buffers);
 * - `compute(p, Σ, size, count, W, st, status, K)`: the `count` matrices Σ (a buffer it may keep,
 *   e.g. as its eigenvectors) → W; `st` is nullptr for a forward no backward follows (then keep
 *   nothing); data problems are recorded in `status`, never thrown or read back;
 * - `gradient(p, st, W, ∂L/∂W, ∂L/∂Σ)`.
 * Elementwise steps are functors with `SPECTRAL_HOST_DEVICE` call operators, launched with
 * `p.for_each`. The CPU backend is the archetype checked here.
 */
template <class M>
concept hook_method = requires(const M m,
                               const primitives<cpu::backend, double>& p,
                               cpu::backend::buffer<double>&& sigma,
                               index_t n,
                               batch<double> w,
                               batch<const double> read,
                               typename M::template state<double, cpu::backend>* st,
                               const typename M::template state<double, cpu::backend>& saved,
                               status_word* status) {
  { M::name() } -> std::convertible_to<std::string_view>;
  m.compute(p, std::move(sigma), n, n, w, st, status, n);
  m.gradient(p, saved, read, read, w);
};

/// Anything the generic spectral_transform accepts as its Method parameter.
template <class M>
concept spectral_method = spectral_function_method<M> || hook_method<M>;

}  // namespace spectral
