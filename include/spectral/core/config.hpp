// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error "spectral requires C++20 (-std=c++20)"
#endif

#include <Eigen/Core>

#if !EIGEN_VERSION_AT_LEAST(3, 4, 0)
#error "spectral requires Eigen 3.4 or newer"
#endif

/// Marks scalar functors usable from host and device code (method value/derivative functions).
#if defined(__CUDACC__)
#define SPECTRAL_HOST_DEVICE __host__ __device__
#else
#define SPECTRAL_HOST_DEVICE
#endif
