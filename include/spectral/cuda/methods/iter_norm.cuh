// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/kernels/batched.cuh>
#include <spectral/cuda/kernels/iter_norm.cuh>
#include <spectral/cuda/methods/method_ops.cuh>
#include <spectral/methods/iter_norm.hpp>

#include <cstdint>
#include <type_traits>

namespace spectral::cuda {

/**
 * @brief IterNorm on the GPU: the same iteration and the same symmetrised, hand-unrolled
 *        backward as methods/iter_norm.hpp, as strided-batched GEMMs over all groups and
 *        element-wise kernels. τ stays on the device, so nothing synchronises with the host.
 */
template <>
struct method_ops<iter_norm> {
  template <class T>
  struct state {
    device_buffer<T> normalized;  ///< S = Σ/τ, count×K×K
    device_buffer<T> trace;       ///< τ per group
    device_buffer<T> iterates;    ///< per iteration 2…T: P, P², P³ (each count×K×K)
  };

  /// Batched eigensolvers are the slow path on a GPU: `automatic` always iterates here, and
  /// an explicit eigen route is refused when the transform is made.
  static void validate(const iter_norm& method) {
    SPECTRAL_EXPECTS(method.solver != iter_norm_solver::eigen,
                     "solver: the CUDA backend computes IterNorm by Newton iterations only, got ",
                     to_string(method.solver), " (use newton or automatic)");
  }

  template <class T>
  static void compute(const iter_norm& method, backend& be, const settings& config,
                      device_buffer<T> sigma, T* w, state<T>& st, std::int64_t k,
                      std::int64_t count, device_status* status) {
    const detail::tf32_scope tf32(be, config.tf32 && std::is_same_v<T, float>);
    const std::int64_t stride = count * k * k;
    const auto saved = static_cast<std::size_t>(method.iterations - 1);
    st.trace = be.allocate<T>(static_cast<std::size_t>(count));
    st.iterates = be.allocate<T>(saved * 3 * static_cast<std::size_t>(stride));
    detail::batched_trace_kernel<T>
        <<<static_cast<unsigned>(count), detail::block_threads, 0, be.stream()>>>(
            sigma.data(), k, st.trace.data());
    detail::check_launch("batched_trace_kernel");

    // P_1 = 1.5 I − 0.5 S goes straight into the first saved slot (or a scratch P when T = 1).
    device_buffer<T> last = be.allocate<T>(static_cast<std::size_t>(stride));
    T* p = saved > 0 ? st.iterates.data() : last.data();
    detail::launch(be, "iter_norm_start_kernel", stride, detail::iter_norm_start_kernel<T>,
                   sigma.data(), static_cast<const T*>(st.trace.data()), p, k, count, status);
    const T* s = sigma.data();
    for (std::size_t t = 0; t < saved; ++t) {
      T* current = st.iterates.data() + t * 3 * stride;
      T* square = current + stride;
      T* cube = current + 2 * stride;
      T* next = t + 1 < saved ? current + 3 * stride : last.data();
      detail::square_gemm<T>(be, false, false, T(1), current, current, T(0), square, k, count);
      detail::square_gemm<T>(be, false, false, T(1), square, current, T(0), cube, k, count);
      SPECTRAL_CUDA_TRY(cudaMemcpyAsync(next, current, static_cast<std::size_t>(stride) * sizeof(T),
                                        cudaMemcpyDeviceToDevice, be.stream()));
      // P_{k} = 1.5 P_{k−1} − 0.5 P_{k−1}³ S, the reference's baddbmm.
      detail::square_gemm<T>(be, false, false, T(-0.5), cube, s, T(1.5), next, k, count);
    }
    detail::launch(be, "iter_norm_scale_kernel", stride, detail::iter_norm_scale_kernel<T>,
                   static_cast<const T*>(last.data()), static_cast<const T*>(st.trace.data()), w,
                   k, count);
    st.normalized = std::move(sigma);
  }

  template <class T>
  static void gradient(const iter_norm& method, backend& be, const settings& config,
                       const state<T>& st, const T* w, const T* grad_w, T* grad_sigma,
                       std::int64_t k, std::int64_t count) {
    const detail::tf32_scope tf32(be, config.tf32 && std::is_same_v<T, float>);
    const std::int64_t stride = count * k * k;
    const auto size = static_cast<std::size_t>(stride);
    const T* s = st.normalized.data();
    const T* trace = st.trace.data();
    auto b = be.allocate<T>(size);
    auto grad_s = be.allocate<T>(size);
    auto anticommutator = be.allocate<T>(size);
    auto product = be.allocate<T>(size);
    auto sandwich = be.allocate<T>(size);
    be.fill_zero(grad_s);
    detail::launch(be, "iter_norm_seed_kernel", stride, detail::iter_norm_seed_kernel<T>, grad_w,
                   trace, b.data(), k, count);
    for (int t = method.iterations - 2; t >= 0; --t) {
      const T* p = st.iterates.data() + static_cast<std::int64_t>(t) * 3 * stride;
      const T* square = p + stride;
      const T* cube = p + 2 * stride;
      detail::square_gemm<T>(be, false, false, T(-0.5), cube, b.data(), T(1), grad_s.data(), k,
                             count);
      detail::square_gemm<T>(be, false, false, T(1), s, b.data(), T(0), product.data(), k, count);
      detail::launch(be, "symmetrize_kernel", stride, detail::symmetrize_kernel<T>,
                     static_cast<const T*>(product.data()), T(1), anticommutator.data(), k, count);
      detail::square_gemm<T>(be, false, false, T(1), anticommutator.data(), p, T(0),
                             product.data(), k, count);  // N P
      detail::square_gemm<T>(be, false, false, T(1), p, product.data(), T(0), sandwich.data(), k,
                             count);  // P N P
      detail::square_gemm<T>(be, false, false, T(1), square, anticommutator.data(), T(0),
                             product.data(), k, count);  // P² N
      detail::launch(be, "iter_norm_adjoint_step_kernel", stride,
                     detail::iter_norm_adjoint_step_kernel<T>, b.data(),
                     static_cast<const T*>(product.data()),
                     static_cast<const T*>(sandwich.data()), k, count);
    }
    // Iteration 1 starts from P_0 = I, so its P³ is I.
    detail::launch(be, "axpby_kernel", stride, detail::axpby_kernel<T>, stride, T(1),
                   static_cast<const T*>(grad_s.data()), T(-0.5), static_cast<const T*>(b.data()),
                   grad_s.data());
    detail::launch(be, "symmetrize_kernel", stride, detail::symmetrize_kernel<T>,
                   static_cast<const T*>(grad_s.data()), T(0.5), grad_s.data(), k, count);
    auto dots = be.allocate<T>(2 * static_cast<std::size_t>(count));
    detail::batched_dot_kernel<T>
        <<<static_cast<unsigned>(count), detail::block_threads, 0, be.stream()>>>(
            grad_s.data(), s, k * k, dots.data());
    detail::batched_dot_kernel<T>
        <<<static_cast<unsigned>(count), detail::block_threads, 0, be.stream()>>>(
            grad_w, w, k * k, dots.data() + count);
    detail::check_launch("batched_dot_kernel");
    detail::launch(be, "iter_norm_finish_kernel", stride, detail::iter_norm_finish_kernel<T>,
                   static_cast<const T*>(grad_s.data()), trace,
                   static_cast<const T*>(dots.data()),
                   static_cast<const T*>(dots.data() + count), grad_sigma, k, count);
  }
};

}  // namespace spectral::cuda
