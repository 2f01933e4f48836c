// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Power-function instance, p = 0.25.
#include "common/harness.hpp"

namespace {
[[maybe_unused]] const bool registered =
    spectral::bench::register_method<spectral::power_function>();
}  // namespace
