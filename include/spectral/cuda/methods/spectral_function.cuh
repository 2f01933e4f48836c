// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/concepts.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/kernels/batched.cuh>
#include <spectral/cuda/kernels/spectral_function.cuh>
#include <spectral/cuda/methods/method_ops.cuh>
#include <spectral/detail/spectral_function.hpp>

#include <cstdint>
#include <limits>
#include <type_traits>

namespace spectral::cuda {

/**
 * @brief Any spectral-function method (ZCA, power p, your own g) on the GPU: a batched
 *        eigensolver for all groups, W = U g(Λ) Uᵀ, and the Daleckii–Krein backward with the
 *        CPU's near-tie rule. g and g' are the method's own SPECTRAL_HOST_DEVICE functions.
 */
template <spectral_function_method Method>
struct method_ops<Method> {
  static_assert(std::is_trivially_copyable_v<Method>,
                "a spectral-function method is passed to kernels by value: keep it trivially "
                "copyable");

  template <class T>
  struct state {
    device_buffer<T> eigenvalues;   ///< ascending, count×K
    device_buffer<T> eigenvectors;  ///< count×K×K
  };

  template <class T>
  static void compute(const Method& method, backend& be, const settings& /*config*/,
                      device_buffer<T> sigma, T* w, state<T>& st, std::int64_t k,
                      std::int64_t count, device_status* status) {
    const std::int64_t stride = count * k * k;
    st.eigenvalues = be.allocate<T>(static_cast<std::size_t>(count * k));
    be.eigh<T>(sigma.data(), st.eigenvalues.data(), k, count, status);
    if (method.requires_positive_definite()) {
      detail::launch(be, "check_positive_definite_kernel", count,
                     detail::check_positive_definite_kernel<T>,
                     static_cast<const T*>(st.eigenvalues.data()), k, count,
                     static_cast<double>(std::numeric_limits<T>::epsilon()), status);
    }
    auto scaled = be.allocate<T>(static_cast<std::size_t>(stride));
    detail::launch(be, "scale_columns_kernel", stride, detail::scale_columns_kernel<Method, T>,
                   method, static_cast<const T*>(sigma.data()),
                   static_cast<const T*>(st.eigenvalues.data()), scaled.data(), k, count);
    detail::square_gemm<T>(be, false, true, T(1), scaled.data(), sigma.data(), T(0), w, k, count);
    detail::launch(be, "symmetrize_kernel", stride, detail::symmetrize_kernel<T>,
                   static_cast<const T*>(w), T(0.5), w, k, count);
    st.eigenvectors = std::move(sigma);
  }

  template <class T>
  static void gradient(const Method& method, backend& be, const settings& /*config*/,
                       const state<T>& st, const T* /*w*/, const T* grad_w, T* grad_sigma,
                       std::int64_t k, std::int64_t count) {
    const std::int64_t stride = count * k * k;
    const T* u = st.eigenvectors.data();
    auto sym = be.allocate<T>(static_cast<std::size_t>(stride));
    auto rotated = be.allocate<T>(static_cast<std::size_t>(stride));
    detail::launch(be, "symmetrize_kernel", stride, detail::symmetrize_kernel<T>, grad_w, T(0.5),
                   sym.data(), k, count);
    // U (Γ ∘ Uᵀ sym(G_W) U) Uᵀ
    detail::square_gemm<T>(be, true, false, T(1), u, sym.data(), T(0), rotated.data(), k, count);
    detail::square_gemm<T>(be, false, false, T(1), rotated.data(), u, T(0), sym.data(), k, count);
    detail::launch(be, "loewner_kernel", stride, detail::loewner_kernel<Method, T>, method,
                   static_cast<const T*>(st.eigenvalues.data()), sym.data(), k, count,
                   spectral::detail::loewner_tie_tolerance<T>());
    detail::square_gemm<T>(be, false, false, T(1), u, sym.data(), T(0), rotated.data(), k, count);
    detail::square_gemm<T>(be, false, true, T(1), rotated.data(), u, T(0), grad_sigma, k, count);
  }
};

}  // namespace spectral::cuda
