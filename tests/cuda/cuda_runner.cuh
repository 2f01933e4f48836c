// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CUDA backend as a runner of the shared checks (methods/instances.hpp, the transform
/// suite): host matrices are uploaded, the transform for a reference::config runs on
/// cuda::backend through the library's registry, and the results come back.

#include "device_data.cuh"

#include <spectral/cuda.cuh>
#include <spectral/spectral.hpp>

#include <utility>
#include <vector>

#include <methods/instances.hpp>

namespace spectral_test {

struct cuda_runner {
  static void skip_unless_available() { SPECTRAL_REQUIRE_GPU(); }

  /// Calls fn with the transform `c` describes on cuda::backend.
  template <class T, class Fn>
  static decltype(auto) with(const config& c, Fn&& fn) {
    const spectral::options opts = options_of(c);
    return spectral::visit_method(library_spec(c), [&]<class Method>(const Method& m) {
      return fn(spectral::spectral_transform<T, Method, spectral::cuda::backend>{m, opts});
    });
  }

  template <class T>
  [[nodiscard]] static row_matrix<T> forward(const config& c, const row_matrix<T>& z) {
    return with<T>(c, [&](const auto& t) {
      const auto d_z = gpu::upload(z);
      auto d_y = gpu::allocate<T>(z.rows(), z.cols());
      static_cast<void>(t.forward(d_z.view(), d_y.view()));
      return gpu::download(d_y);
    });
  }

  template <class T>
  [[nodiscard]] static row_matrix<T> apply(const config& c, const row_matrix<T>& z) {
    return with<T>(c, [&](const auto& t) {
      const auto d_z = gpu::upload(z);
      auto d_y = gpu::allocate<T>(z.rows(), z.cols());
      t.apply(d_z.view(), d_y.view());
      return gpu::download(d_y);
    });
  }

  template <class T>
  [[nodiscard]] static row_matrix<T> backward(const config& c,
                                              const row_matrix<T>& z,
                                              const row_matrix<T>& grad_out) {
    return with<T>(c, [&](const auto& t) {
      const auto d_z = gpu::upload(z);
      const auto d_g = gpu::upload(grad_out);
      auto d_y = gpu::allocate<T>(z.rows(), z.cols());
      auto d_grad = gpu::allocate<T>(z.rows(), z.cols());
      const auto ctx = t.forward(d_z.view(), d_y.view());
      t.backward(ctx, d_g.view(), d_grad.view());
      return gpu::download(d_grad);
    });
  }

  /// W (K×K) of every group, built on the device (spectral::detail::transform_matrices).
  template <class T>
  [[nodiscard]] static std::vector<spectral::matrix<T>> transform_matrices(const config& c,
                                                                           const row_matrix<T>& z) {
    return with<T>(c, [&](const auto& t) {
      const auto d_z = gpu::upload(z);
      auto d_y = gpu::allocate<T>(z.rows(), z.cols());
      const auto ctx = t.forward(d_z.view(), d_y.view());
      const spectral::index_t groups = ctx.opts.groups;
      const spectral::index_t k = spectral::checked_group_shape(z.rows(), z.cols(), ctx.opts).size;
      spectral::cuda::backend be;
      be.bind(nullptr);
      const spectral::primitives<spectral::cuda::backend, T> p{be};
      auto w = p.allocate(groups * k * k);
      spectral::detail::transform_matrices(p, ctx, spectral::dense_batch(w.data(), k, k, groups));
      const std::vector<T> host = be.template download<T>(w.data(), groups * k * k);
      std::vector<spectral::matrix<T>> out;
      for (spectral::index_t g = 0; g < groups; ++g) {
        out.emplace_back(Eigen::Map<const spectral::matrix<T>>(host.data() + g * k * k, k, k));
      }
      return out;
    });
  }

  /// forward of z into an output of the given shape (for the bad-input rules).
  template <class T>
  static void forward_into(const config& c,
                           const row_matrix<T>& z,
                           Eigen::Index rows,
                           Eigen::Index cols) {
    with<T>(c, [&](const auto& t) {
      const auto d_z = gpu::upload(z);
      auto d_y = gpu::allocate<T>(rows, cols);
      static_cast<void>(t.forward(d_z.view(), d_y.view()));
    });
  }
};

}  // namespace spectral_test
