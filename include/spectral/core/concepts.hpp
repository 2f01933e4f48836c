// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>

#include <concepts>
#include <string_view>

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
 * @brief A method with its own hooks (PCA, Cholesky, IterNorm): Σ → W in `compute`, recording
 *        `state<T>` for backward, and (state, W, ∂L/∂W) → ∂L/∂Σ in `gradient`. Both take the
 *        backend as a tag first argument; the CPU backend is the archetype checked here.
 *
 * Optionally `compute_forward_only(backend, Σ, W)`: the same W with no state, for
 * spectral_transform::apply (a method whose state is large, like IterNorm's Newton iterates,
 * saves that memory; without it apply calls `compute` and drops the state).
 */
template <class M>
concept hook_method = requires(const M m, const matrix<double>& sigma, matrix<double>& w,
                               typename M::template state<double>& st) {
  { M::name() } -> std::convertible_to<std::string_view>;
  m.compute(cpu::backend{}, sigma, w, st);
  { m.gradient(cpu::backend{}, st, w, w) } -> std::convertible_to<matrix<double>>;
};

/// Anything the generic spectral_transform accepts as its Method parameter.
template <class M>
concept spectral_method = spectral_function_method<M> || hook_method<M>;

}  // namespace spectral
