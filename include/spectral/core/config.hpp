// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Build requirements (C++20, Eigen 3.4) and the portability macro SPECTRAL_HOST_DEVICE.

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error "spectral requires C++20 (-std=c++20)"
#endif

#include <Eigen/Core>

#if !EIGEN_VERSION_AT_LEAST(3, 4, 0)
#error "spectral requires Eigen 3.4 or newer"
#endif

#if defined(__CUDACC__)
/// Marks scalar functors usable from host and device code (method value/derivative functions):
/// `__host__ __device__` under nvcc, nothing for a host compiler.
#define SPECTRAL_HOST_DEVICE __host__ __device__
#else
#define SPECTRAL_HOST_DEVICE
#endif
