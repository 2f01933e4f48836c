// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#define SPECTRAL_VERSION_MAJOR 0
#define SPECTRAL_VERSION_MINOR 1
#define SPECTRAL_VERSION_PATCH 0

namespace spectral {
inline constexpr const char* version_string = "0.1.0";
}  // namespace spectral
