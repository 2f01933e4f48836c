// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/kernels/batched.cuh>
#include <spectral/cuda/kernels/eigen.cuh>
#include <spectral/cuda/kernels/spectral_function.cuh>
#include <spectral/cuda/methods/method_ops.cuh>
#include <spectral/detail/spectral_function.hpp>
#include <spectral/methods/whitening.hpp>

#include <cstdint>
#include <limits>

namespace spectral::cuda {

/// PCA whitening on the GPU: batched eigensolver, descending order, W = Λ^{-1/2} Uᵀ; backward
/// as methods/whitening.hpp (spec §4.3), gaps clamped with the same tolerance.
template <>
struct method_ops<pca_whitening> {
  template <class T>
  struct state {
    device_buffer<T> eigenvalues;   ///< descending, count×K
    device_buffer<T> eigenvectors;  ///< columns match eigenvalues, count×K×K
  };

  template <class T>
  static void compute(const pca_whitening& /*method*/, backend& be, const settings& /*config*/,
                      device_buffer<T> sigma, T* w, state<T>& st, std::int64_t k,
                      std::int64_t count, device_status* status) {
    const std::int64_t stride = count * k * k;
    auto ascending = be.allocate<T>(static_cast<std::size_t>(count * k));
    be.eigh<T>(sigma.data(), ascending.data(), k, count, status);
    detail::launch(be, "check_positive_definite_kernel", count,
                   detail::check_positive_definite_kernel<T>,
                   static_cast<const T*>(ascending.data()), k, count,
                   static_cast<double>(std::numeric_limits<T>::epsilon()), status);
    st.eigenvalues = be.allocate<T>(static_cast<std::size_t>(count * k));
    st.eigenvectors = be.allocate<T>(static_cast<std::size_t>(stride));
    detail::launch(be, "reverse_eigenpairs_kernel", stride, detail::reverse_eigenpairs_kernel<T>,
                   static_cast<const T*>(ascending.data()), static_cast<const T*>(sigma.data()),
                   st.eigenvalues.data(), st.eigenvectors.data(), k, count);
    detail::launch(be, "pca_transform_kernel", stride, detail::pca_transform_kernel<T>,
                   static_cast<const T*>(st.eigenvectors.data()),
                   static_cast<const T*>(st.eigenvalues.data()), w, k, count);
  }

  template <class T>
  static void gradient(const pca_whitening& /*method*/, backend& be, const settings& /*config*/,
                       const state<T>& st, const T* /*w*/, const T* grad_w, T* grad_sigma,
                       std::int64_t k, std::int64_t count) {
    const std::int64_t stride = count * k * k;
    const T* u = st.eigenvectors.data();
    const T* values = st.eigenvalues.data();
    auto grad_u = be.allocate<T>(static_cast<std::size_t>(stride));
    auto grad_w_u = be.allocate<T>(static_cast<std::size_t>(stride));
    auto inner = be.allocate<T>(static_cast<std::size_t>(stride));
    detail::launch(be, "pca_grad_u_kernel", stride, detail::pca_grad_u_kernel<T>, grad_w, values,
                   grad_u.data(), k, count);
    detail::square_gemm<T>(be, false, false, T(1), grad_w, u, T(0), grad_w_u.data(), k, count);
    detail::square_gemm<T>(be, true, false, T(1), u, grad_u.data(), T(0), inner.data(), k, count);
    detail::launch(be, "pca_inner_kernel", stride, detail::pca_inner_kernel<T>, inner.data(),
                   static_cast<const T*>(grad_w_u.data()), values, k, count,
                   spectral::detail::loewner_tie_tolerance<T>());
    detail::square_gemm<T>(be, false, false, T(1), u, inner.data(), T(0), grad_u.data(), k,
                           count);
    detail::square_gemm<T>(be, false, true, T(1), grad_u.data(), u, T(0), grad_sigma, k, count);
  }
};

/// Cholesky whitening on the GPU: batched potrf, W = L⁻¹ by a batched triangular solve;
/// backward as methods/whitening.hpp (spec §4.4).
template <>
struct method_ops<cholesky_whitening> {
  template <class T>
  struct state {
    device_buffer<T> lower;  ///< L, count×K×K, strict upper triangle zero
  };

  template <class T>
  static void compute(const cholesky_whitening& /*method*/, backend& be,
                      const settings& /*config*/, device_buffer<T> sigma, T* w, state<T>& st,
                      std::int64_t k, std::int64_t count, device_status* status) {
    be.cholesky<T>(sigma.data(), k, count, status);
    be.invert_lower<T>(sigma.data(), w, k, count);
    st.lower = std::move(sigma);
  }

  template <class T>
  static void gradient(const cholesky_whitening& /*method*/, backend& be,
                       const settings& /*config*/, const state<T>& st, const T* w,
                       const T* grad_w, T* grad_sigma, std::int64_t k, std::int64_t count) {
    const std::int64_t stride = count * k * k;
    auto first = be.allocate<T>(static_cast<std::size_t>(stride));
    auto second = be.allocate<T>(static_cast<std::size_t>(stride));
    // ∂L/∂L = −Wᵀ G_W Wᵀ
    detail::square_gemm<T>(be, false, true, T(1), grad_w, w, T(0), first.data(), k, count);
    detail::square_gemm<T>(be, true, false, T(-1), w, first.data(), T(0), second.data(), k,
                           count);
    // sym Φ(Lᵀ ∂L/∂L), mapped back by L⁻ᵀ (·) L⁻¹
    detail::square_gemm<T>(be, true, false, T(1), st.lower.data(), second.data(), T(0),
                           first.data(), k, count);
    detail::launch(be, "cholesky_phi_kernel", stride, detail::cholesky_phi_kernel<T>,
                   static_cast<const T*>(first.data()), second.data(), k, count);
    detail::square_gemm<T>(be, false, false, T(1), second.data(), w, T(0), first.data(), k,
                           count);
    detail::square_gemm<T>(be, true, false, T(1), w, first.data(), T(0), grad_sigma, k, count);
  }
};

}  // namespace spectral::cuda
