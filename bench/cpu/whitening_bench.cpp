// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Whitening instances: ZCA, PCA, Cholesky.
#include "common/harness.hpp"

namespace {
using spectral::bench::method_id;
using spectral::bench::register_method;
[[maybe_unused]] const bool registered = register_method<method_id::zca>() &&
                                         register_method<method_id::pca>() &&
                                         register_method<method_id::cholesky>();
}  // namespace
