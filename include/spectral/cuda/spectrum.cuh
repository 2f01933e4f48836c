// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// spectrum() of an embedding in device memory (the CPU's diagnostics/spectrum.hpp on the GPU).

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/spectral_transform.cuh>
#include <spectral/cuda/status.cuh>
#include <spectral/diagnostics/spectrum.hpp>

#include <cstdint>

#include <cuda_runtime.h>

namespace spectral::cuda {

/**
 * @brief The CPU's spectrum() (diagnostics/spectrum.hpp) of an embedding in device memory: the
 *        same steps on the GPU, in double; the K eigenvalues and the trace come back and are
 *        summarised on the host.
 * @note Synchronises `stream`.
 * @throws invalid_input as the CPU version (shapes, non-finite z, a zero spectrum)
 */
template <real_scalar T>
[[nodiscard]] spectrum_report spectrum(embedding_view<const T> z,
                                       const options& opts = {},
                                       std::int64_t group = 0,
                                       cudaStream_t stream = nullptr,
                                       memory_resource memory = stream_ordered_resource()) {
  opts.validate();
  (void)checked_group_shape(z.rows, z.cols, opts);
  SPECTRAL_EXPECTS(group >= 0 && group < opts.groups, "group: must be in [0, ", opts.groups,
                   "), got ", group);
  spectral::detail::expect_view(z, z.rows, z.cols, "z");
  backend be(memory);
  be.bind(stream);
  return spectral::detail::covariance_spectrum(be, z.columns(), opts, group, stream);
}

}  // namespace spectral::cuda
