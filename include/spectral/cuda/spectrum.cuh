// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/spectral_transform.cuh>
#include <spectral/cuda/status.cuh>
#include <spectral/diagnostics/spectrum.hpp>

#include <cuda_runtime.h>

#include <cstdint>

namespace spectral::cuda {

/**
 * @brief The CPU's spectrum() (diagnostics/spectrum.hpp) of an embedding in device memory:
 *        covariance and eigenvalues on the GPU in double (as the CPU computes them), the K
 *        eigenvalues copied back and summarised on the host.
 * @note Synchronises `stream`.
 * @throws invalid_input as the CPU version (shapes, non-finite z, a zero spectrum)
 */
template <real_scalar T>
[[nodiscard]] spectrum_report spectrum(embedding_view<const T> z, const options& opts = {},
                                       std::int64_t group = 0, cudaStream_t stream = nullptr,
                                       memory_resource memory = stream_ordered_resource()) {
  opts.validate();
  const group_shape shape = checked_group_shape(z.rows, z.cols, opts);
  SPECTRAL_EXPECTS(group >= 0 && group < opts.groups, "group: must be in [0, ", opts.groups,
                   "), got ", group);
  spectral::detail::expect_view(z, z.rows, z.cols, "z");
  backend be(memory);
  be.bind(stream);
  const primitives<backend, double> p{be};
  const std::int64_t n = z.rows;
  const std::int64_t d = z.cols;
  const std::int64_t k = shape.size;
  auto status = be.zeros<status_word>(1);
  // In double, as on the CPU, with the transform's own centring and covariance steps.
  auto widened = p.allocate(n * d);
  const batch<double> columns = dense_batch(widened.data(), d, n, 1);
  be.for_each_entry(extent::of(columns), spectral::detail::widen<T, double>{z.columns(), columns});
  be.check_finite(columns, status.data(), status_nonfinite_input);
  spectral::detail::center_embedding(p, columns, columns, opts, static_cast<double*>(nullptr));
  auto sigma = p.allocate(opts.groups * k * k);
  spectral::detail::group_covariances(p, columns, opts, shape, false,
                                      dense_batch(sigma.data(), k, k, opts.groups));
  const batch<double> chosen = dense_batch(sigma.data() + group * k * k, k, k, 1);
  matrix<double> sigma_host(k, k);
  SPECTRAL_CUDA_TRY(cudaMemcpyAsync(sigma_host.data(), chosen.data,
                                    static_cast<std::size_t>(k * k) * sizeof(double),
                                    cudaMemcpyDeviceToHost, stream));
  auto values = p.allocate(k);
  p.eigh(chosen, dense_batch(values.data(), k, 1, 1), status.data());
  check_status(status.data(), stream, "spectrum");
  vector<double> ascending(k);
  SPECTRAL_CUDA_TRY(cudaMemcpyAsync(ascending.data(), values.data(),
                                    static_cast<std::size_t>(k) * sizeof(double),
                                    cudaMemcpyDeviceToHost, stream));
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream));
  spectrum_report r;
  r.eigenvalues = ascending.reverse();
  r.trace = sigma_host.trace();
  const vector<double> clamped = r.eigenvalues.cwiseMax(0.0);
  SPECTRAL_EXPECTS(clamped.sum() > 0.0,
                   "z: the covariance is zero (every observation is identical after centring)");
  r.normalized = clamped / clamped.sum();
  r.effective_rank = effective_rank(r.eigenvalues);
  r.condition_number = condition_number(r.eigenvalues);
  return r;
}

}  // namespace spectral::cuda
