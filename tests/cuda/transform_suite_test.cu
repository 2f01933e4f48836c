// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The shared transform suite (tests/backends/transform_suite.hpp) on the CUDA backend; every
// case skips itself where no GPU is present.
#include "cuda_runner.cuh"

#include <backends/transform_suite.hpp>

SPECTRAL_TRANSFORM_SUITE(spectral_test::cuda_runner, "cuda", "[cuda][gpu]")
