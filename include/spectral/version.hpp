// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The library's version, as macros (for the preprocessor) and as a string.

/// Major version number.
#define SPECTRAL_VERSION_MAJOR 0
/// Minor version number.
#define SPECTRAL_VERSION_MINOR 1
/// Patch version number.
#define SPECTRAL_VERSION_PATCH 0

namespace spectral {
/// "MAJOR.MINOR.PATCH".
inline constexpr const char* version_string = "0.1.0";
}  // namespace spectral
