// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// What the CUDA tests share: moving matrices to and from the device, skipping where no GPU is
/// present, and building the CPU and GPU transform for one reference::config.

#include <spectral/cuda.cuh>
#include <spectral/spectral.hpp>

#include <common/generators.hpp>
#include <common/reference.hpp>
#include <common/tolerances.hpp>

#include <catch2/catch_test_macros.hpp>

#include <sstream>
#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

/// Marks a test that needs a GPU: reported as skipped (ctest: SKIP_RETURN_CODE 4), never as
/// passed, on machines without one.
#define SPECTRAL_REQUIRE_GPU()                                                   \
  do {                                                                           \
    if (::spectral::cuda::device_count() == 0) {                                 \
      SKIP("no CUDA device on this machine; run scripts/gpu-check.sh on a GPU"); \
    }                                                                            \
  } while (false)

namespace spectral_test::gpu {

template <class T>
using row_matrix = spectral::row_matrix<T>;

/// A device copy of a row-major host matrix.
template <class T>
struct device_matrix {
  spectral::cuda::device_buffer<T> buffer;
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;

  [[nodiscard]] spectral::cuda::embedding_view<T> view() { return {buffer.data(), rows, cols}; }
  [[nodiscard]] spectral::cuda::embedding_view<const T> view() const {
    return {buffer.data(), rows, cols};
  }
};

template <class T>
[[nodiscard]] device_matrix<T> upload(const row_matrix<T>& host, cudaStream_t stream = nullptr) {
  device_matrix<T> out{
      spectral::cuda::device_buffer<T>(static_cast<std::size_t>(host.size()), stream), host.rows(),
      host.cols()};
  SPECTRAL_CUDA_TRY(cudaMemcpyAsync(out.buffer.data(), host.data(),
                                    static_cast<std::size_t>(host.size()) * sizeof(T),
                                    cudaMemcpyHostToDevice, stream));
  return out;
}

template <class T>
[[nodiscard]] device_matrix<T> allocate(Eigen::Index rows,
                                        Eigen::Index cols,
                                        cudaStream_t stream = nullptr) {
  return {spectral::cuda::device_buffer<T>(static_cast<std::size_t>(rows * cols), stream), rows,
          cols};
}

template <class T>
[[nodiscard]] row_matrix<T> download(const T* data,
                                     Eigen::Index rows,
                                     Eigen::Index cols,
                                     cudaStream_t stream = nullptr) {
  row_matrix<T> host(rows, cols);
  SPECTRAL_CUDA_TRY(cudaMemcpyAsync(host.data(), data,
                                    static_cast<std::size_t>(host.size()) * sizeof(T),
                                    cudaMemcpyDeviceToHost, stream));
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream));
  return host;
}

template <class T>
[[nodiscard]] row_matrix<T> download(const device_matrix<T>& m, cudaStream_t stream = nullptr) {
  return download(m.buffer.data(), m.rows, m.cols, stream);
}

[[nodiscard]] inline spectral::options options_of(const reference::config& c) {
  spectral::options opts;
  opts.axis =
      c.ax == reference::axis::features ? spectral::axis::features : spectral::axis::samples;
  opts.groups = c.groups;
  opts.eps = c.eps;
  return opts;
}

[[nodiscard]] inline std::string describe(const reference::config& c) {
  static constexpr const char* names[] = {"zca", "pca", "cholesky", "power", "iternorm"};
  std::ostringstream out;
  out << names[static_cast<int>(c.kind)] << " p=" << c.power << " T=" << c.iterations << ", "
      << (c.ax == reference::axis::features ? "features" : "samples")
      << " axis, groups=" << c.groups << ", eps=" << c.eps
      << (c.eigen_route ? ", eigen route" : "");
  return out.str();
}

/// Calls fn with the transform that `c` describes on `Backend`.
template <class T, class Backend, class Fn>
decltype(auto) with_transform(const reference::config& c, Fn&& fn) {
  const spectral::options opts = options_of(c);
  using reference::method;
  switch (c.kind) {
    case method::zca:
      return fn(spectral::spectral_transform<T, spectral::zca_whitening, Backend>{{}, opts});
    case method::pca:
      return fn(spectral::spectral_transform<T, spectral::pca_whitening, Backend>{{}, opts});
    case method::cholesky:
      return fn(spectral::spectral_transform<T, spectral::cholesky_whitening, Backend>{{}, opts});
    case method::power:
      return fn(spectral::spectral_transform<T, spectral::power_function, Backend>{
          spectral::power_function{c.power}, opts});
    case method::iter_norm:
      return fn(spectral::spectral_transform<T, spectral::iter_norm, Backend>{
          spectral::iter_norm{c.iterations, c.eigen_route ? spectral::iter_norm_solver::eigen
                                                          : spectral::iter_norm_solver::automatic},
          opts});
  }
  throw std::logic_error("with_transform: unknown method");
}

/// Output and input gradient of one transform on one backend.
template <class T>
struct forward_backward {
  row_matrix<T> output;
  row_matrix<T> grad_in;
};

template <class T>
[[nodiscard]] forward_backward<T> run_cpu(const reference::config& c,
                                          const row_matrix<T>& z,
                                          const row_matrix<T>& grad_out) {
  return with_transform<T, spectral::cpu::backend>(c, [&](auto transform) {
    auto result = transform.forward(z);
    return forward_backward<T>{result.output, transform.backward(result.context, grad_out)};
  });
}

template <class T>
[[nodiscard]] forward_backward<T> run_gpu(const reference::config& c,
                                          const row_matrix<T>& z,
                                          const row_matrix<T>& grad_out,
                                          cudaStream_t stream = nullptr) {
  return with_transform<T, spectral::cuda::backend>(c, [&](auto transform) {
    auto d_z = upload(z, stream);
    auto d_grad_out = upload(grad_out, stream);
    auto d_out = allocate<T>(z.rows(), z.cols(), stream);
    auto d_grad_in = allocate<T>(z.rows(), z.cols(), stream);
    const auto ctx = transform.forward(std::as_const(d_z).view(), d_out.view(), stream);
    transform.backward(ctx, std::as_const(d_grad_out).view(), d_grad_in.view(), stream);
    return forward_backward<T>{download(d_out, stream), download(d_grad_in, stream)};
  });
}

}  // namespace spectral_test::gpu
