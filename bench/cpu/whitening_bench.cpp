// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Every other method of the library's registry: ZCA, PCA, Cholesky today. IterNorm and the power
// function have files of their own (three translation units compile in parallel); a method
// added to the registry is benchmarked here.
#include "common/harness.hpp"

#include <type_traits>

namespace {
[[maybe_unused]] const bool registered = [] {
  spectral::for_each_method([]<class Method>(std::type_identity<Method>) {
    if constexpr (!std::is_same_v<Method, spectral::iter_norm> &&
                  !std::is_same_v<Method, spectral::power_function>) {
      spectral::bench::register_method<Method>();
    }
  });
  return true;
}();
}  // namespace
