// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The CUDA backend's batched primitives: the shared suite (tests/backends/primitives_suite.hpp)
// on device memory. The suite's batches hold three matrices; backend_concept_test.cu covers the
// single-matrix library paths and the shapes that take the multi-block reduction and centring
// paths.

#include "device_data.cuh"

#include <spectral/cuda/backend.cuh>

#include <backends/primitives_suite.hpp>

static_assert(spectral::batched_backend<spectral::cuda::backend>);

namespace {

struct cuda_fixture {
  static spectral::cuda::backend make() {
    spectral::cuda::backend be;
    be.bind(nullptr);
    return be;
  }
  static void skip_unless_available() { SPECTRAL_REQUIRE_GPU(); }
};

}  // namespace

SPECTRAL_BACKEND_PRIMITIVES_SUITE(cuda_fixture, "cuda", "[gpu]")
