// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The shared transform suite (tests/backends/transform_suite.hpp) on the CPU backend.
#include <backends/transform_suite.hpp>
#include <methods/instances.hpp>

SPECTRAL_TRANSFORM_SUITE(spectral_test::cpu_runner, "cpu", "[cpu]")
