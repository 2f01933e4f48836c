// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// IterNorm, T = 4 (the INTL instance).
#include "common/harness.hpp"

namespace {
[[maybe_unused]] const bool registered = spectral::bench::register_method<spectral::iter_norm>();
}  // namespace
