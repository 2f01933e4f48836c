// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/options.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/kernels/batched.cuh>
#include <spectral/cuda/kernels/centering.cuh>
#include <spectral/cuda/kernels/losses.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/methods/iter_norm.cuh>
#include <spectral/cuda/methods/method_ops.cuh>
#include <spectral/cuda/methods/spectral_function.cuh>
#include <spectral/cuda/methods/whitening.cuh>
#include <spectral/cuda/status.cuh>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>

namespace spectral::cuda {

/**
 * @brief What a CUDA forward saves for backward, in device memory (owned, freed in stream
 *        order on the stream forward ran on).
 *
 * W of group g is the K×K column-major matrix at `transform.data() + g·K²`, as on the CPU.
 */
template <class T, class Method>
struct transform_context {
  options opts;
  std::int64_t rows = 0;                                  ///< N
  std::int64_t cols = 0;                                  ///< D
  device_buffer<T> centered;                              ///< Z_c, N×D row-major
  device_buffer<T> feature_mean;                          ///< D means (features axis only)
  device_buffer<T> transform;                             ///< W per group, G×K×K
  typename method_ops<Method>::template state<T> state;  ///< the method's saved state
  /// What forward's and then backward's kernels recorded (backward adds to it, hence mutable).
  mutable device_buffer<device_status> status;

  /// Synchronises `stream` and throws what forward, or a backward on this context, recorded
  /// (only needed with sync_check off).
  /// @throws invalid_input for non-finite z or grad_out, numerical_error for numerical failures.
  void check(cudaStream_t stream) const { check_status(status.data(), stream, Method::name()); }
  [[nodiscard]] std::int64_t group_size() const noexcept {
    return opts.axis == axis::features ? cols / opts.groups : rows;
  }
};

}  // namespace spectral::cuda

namespace spectral {

/**
 * @brief The spectral transformation on the GPU: the same methods, options and semantics as the
 *        CPU transform, on device memory, with all G groups in one batched call per step.
 *
 * @tparam T      float or double
 * @tparam Method any method with a `cuda::method_ops` specialisation (every built-in one, and any
 *                spectral-function method)
 *
 * Every call takes the stream to run on (default: the legacy default stream). Inputs and
 * outputs are device embedding views (a contiguous torch CUDA tensor is one without a copy).
 * Shapes and options are checked on the host before any device work; data problems (NaN,
 * singular Σ) are recorded on the device and, with `settings.sync_check` (default), thrown at
 * the end of the call. Move-only and not thread-safe: one transform per thread or stream.
 * @note Constructing a transform needs no GPU; the first forward/backward does (cuda_error).
 */
template <real_scalar T, spectral_method Method>
class spectral_transform<T, Method, cuda::backend> {
 public:
  using scalar_type = T;
  using method_type = Method;
  using context_type = cuda::transform_context<T, Method>;

  /// @throws invalid_input for invalid options, or method settings this backend does not
  ///         support (IterNorm's eigen route).
  explicit spectral_transform(Method method = Method{}, options opts = {},
                              cuda::settings config = {})
      : method_(std::move(method)), opts_(opts), config_(config), backend_(config.memory) {
    opts_.validate();
    if constexpr (requires { cuda::method_ops<Method>::validate(method_); }) {
      cuda::method_ops<Method>::validate(method_);
    }
  }

  /**
   * @brief Y = W(Σ(Z)) Z_c per group, written into `out` (N×D, may be `z` itself).
   * @throws invalid_input for shape mismatches, null pointers or D % groups ≠ 0 (before any
   *         device work), and with sync_check for non-finite input
   * @throws numerical_error with sync_check for a singular Σ (eigen and Cholesky methods
   *         without eps), a constant input or a non-finite result
   * @throws cuda_error when there is no GPU or a CUDA library call fails
   */
  [[nodiscard]] context_type forward(cuda::embedding_view<const T> z, cuda::embedding_view<T> out,
                                     cudaStream_t stream = nullptr);

  /**
   * @brief Half or bfloat16 input (what the reference feeds IterNorm under fp16 autocast, a
   *        known source of NaN), computed in float32: z is widened into a float copy, and the
   *        output, the context and backward are float.
   */
  template <class Low>
    requires(std::is_same_v<T, float> &&
             (std::is_same_v<Low, __half> || std::is_same_v<Low, __nv_bfloat16>))
  [[nodiscard]] context_type forward(cuda::embedding_view<const Low> z, cuda::embedding_view<T> out,
                                     cudaStream_t stream = nullptr);

  /**
   * @brief ∂⟨G, Y⟩/∂Z for the Y that produced `ctx`, written into `grad_in` (may alias grad_out).
   * @note Run on the stream forward ran on, or order the streams yourself.
   * @throws invalid_input for shape mismatches or a context from other options; with sync_check
   *         for non-finite grad_out
   */
  void backward(const context_type& ctx, cuda::embedding_view<const T> grad_out,
                cuda::embedding_view<T> grad_in, cudaStream_t stream = nullptr);

  [[nodiscard]] const Method& method() const noexcept { return method_; }
  [[nodiscard]] const options& opts() const noexcept { return opts_; }
  [[nodiscard]] const cuda::settings& config() const noexcept { return config_; }

 private:
  Method method_;
  options opts_;
  cuda::settings config_;
  cuda::backend backend_;
};

// --- implementation -----------------------------------------------------------------------------

namespace cuda::detail {

/// Whether two device views' address ranges intersect.
template <class A, class B>
[[nodiscard]] bool overlaps(const embedding_view<A>& a, const embedding_view<B>& b) {
  if (a.rows * a.cols == 0 || b.rows * b.cols == 0) {
    return false;
  }
  const auto* a_first = reinterpret_cast<const char*>(a.data);
  const auto* a_last = reinterpret_cast<const char*>(a.data + (a.rows - 1) * a.row_stride + a.cols);
  const auto* b_first = reinterpret_cast<const char*>(b.data);
  const auto* b_last = reinterpret_cast<const char*>(b.data + (b.rows - 1) * b.row_stride + b.cols);
  return std::less<>{}(a_first, b_last) && std::less<>{}(b_first, a_last);
}

/// Centres `in` into `out` along the options' axis (in place when in == out). With `status`,
/// also records non-finite entries and the largest |in| per group.
template <class T>
void center(backend& be, const options& opts, const T* in, std::int64_t in_stride, T* out,
            std::int64_t out_stride, std::int64_t rows, std::int64_t cols, T* mean,
            T* group_max_abs, device_status* status, unsigned flag) {
  const std::int64_t width = cols / opts.groups;
  if (opts.axis == axis::features) {
    center_features_kernel<T><<<grid_blocks(cols), block_threads, 0, be.stream()>>>(
        in, rows, cols, in_stride, out, out_stride, mean, group_max_abs, width, status, flag);
    check_launch("center_features_kernel");
  } else {
    center_samples_kernel<T>
        <<<grid_blocks(rows * opts.groups * warp_threads), block_threads, 0, be.stream()>>>(
            in, rows, opts.groups, width, in_stride, out, out_stride, group_max_abs, status, flag);
    check_launch("center_samples_kernel");
  }
}

/// Σ_g = X_g X_gᵀ/(M − 1) + eps·I for every group of a centred N×D buffer (ld D), into
/// `sigma` (G×K×K). Column-major, the buffer is D×N: on the features axis X_g is its K×N row
/// block g; on the samples axis its w×N row block g is X_gᵀ.
template <class T>
void covariance(backend& be, const options& opts, const T* centered, std::int64_t n,
                std::int64_t d, const group_shape& shape, T* sigma) {
  const std::int64_t groups = opts.groups;
  const std::int64_t width = d / groups;
  const std::int64_t k = shape.size;
  launch(be, "fill_scaled_identity_kernel", groups * k * k, fill_scaled_identity_kernel<T>, sigma,
         k, groups, static_cast<T>(opts.eps));
  const T inverse_divisor = T(1) / static_cast<T>(shape.observations - 1);
  if (opts.axis == axis::features) {
    be.gemm<T>(false, true, k, k, n, inverse_divisor, centered, d, width, centered, d, width, T(1),
               sigma, k, k * k, groups);
  } else {
    be.gemm<T>(true, false, k, k, width, inverse_divisor, centered, d, width, centered, d, width,
               T(1), sigma, k, k * k, groups);
  }
  // A full GEMM need not round both triangles alike; the CPU's Σ is exactly symmetric, and
  // IterNorm reads both triangles.
  launch(be, "mirror_lower_kernel", groups * k * k, mirror_lower_kernel<T>, sigma, k, groups);
}

}  // namespace cuda::detail

template <real_scalar T, spectral_method Method>
auto spectral_transform<T, Method, cuda::backend>::forward(cuda::embedding_view<const T> z,
                                                          cuda::embedding_view<T> out,
                                                          cudaStream_t stream) -> context_type {
  using ops = cuda::method_ops<Method>;
  const group_shape shape = checked_group_shape(z.rows, z.cols, opts_);
  cuda::detail::expect_view(z, z.rows, z.cols, "z");
  cuda::detail::expect_view(out, z.rows, z.cols, "out");
  backend_.bind(stream);

  const std::int64_t n = z.rows;
  const std::int64_t d = z.cols;
  const std::int64_t groups = opts_.groups;
  const std::int64_t width = d / groups;
  const std::int64_t k = shape.size;
  const std::int64_t area = k * k;
  context_type ctx;
  ctx.opts = opts_;
  ctx.rows = n;
  ctx.cols = d;
  ctx.status = backend_.allocate<cuda::device_status>(1);
  backend_.fill_zero(ctx.status);
  cuda::device_status* status = ctx.status.data();
  ctx.centered = backend_.allocate<T>(static_cast<std::size_t>(n * d));
  if (opts_.axis == axis::features) {
    ctx.feature_mean = backend_.allocate<T>(static_cast<std::size_t>(d));
  }
  auto max_abs = backend_.allocate<T>(static_cast<std::size_t>(groups));
  backend_.fill_zero(max_abs);
  cuda::detail::center<T>(backend_, opts_, z.data, z.row_stride, ctx.centered.data(), d, n, d,
                          ctx.feature_mean.data(), max_abs.data(), status,
                          cuda::status_nonfinite_input);

  auto sigma = backend_.allocate<T>(static_cast<std::size_t>(groups * area));
  cuda::detail::covariance<T>(backend_, opts_, ctx.centered.data(), n, d, shape, sigma.data());
  const T* x = ctx.centered.data();
  auto trace = backend_.allocate<T>(static_cast<std::size_t>(groups));
  cuda::detail::batched_trace_kernel<T>
      <<<static_cast<unsigned>(groups), cuda::detail::block_threads, 0, backend_.stream()>>>(
          sigma.data(), k, trace.data());
  cuda::detail::check_launch("batched_trace_kernel");
  cuda::detail::launch(backend_, "check_not_constant_kernel", groups,
                       cuda::detail::check_not_constant_kernel<T>,
                       static_cast<const T*>(trace.data()), static_cast<const T*>(max_abs.data()),
                       opts_.eps, static_cast<double>(std::numeric_limits<T>::epsilon()), k,
                       groups, status);

  ctx.transform = backend_.allocate<T>(static_cast<std::size_t>(groups * area));
  ops::template compute<T>(method_, backend_, config_, std::move(sigma), ctx.transform.data(),
                           ctx.state, k, groups, status);

  const T* w = ctx.transform.data();
  if (opts_.axis == axis::features) {  // Y_g = W_g X_g
    backend_.gemm<T>(false, false, k, n, k, T(1), w, k, area, x, d, width, T(0), out.data,
                     out.row_stride, width, groups);
  } else {  // Y_gᵀ = X_gᵀ W_gᵀ
    backend_.gemm<T>(false, true, width, n, n, T(1), x, d, width, w, n, area, T(0), out.data,
                     out.row_stride, width, groups);
  }
  cuda::detail::launch(backend_, "check_finite_kernel", n * d, cuda::detail::check_finite_kernel<T>,
                       static_cast<const T*>(out.data), n, d, out.row_stride, width, status,
                       static_cast<unsigned>(cuda::status_nonfinite_output));
  if (config_.sync_check) {
    ctx.check(stream);
  }
  return ctx;
}

template <real_scalar T, spectral_method Method>
template <class Low>
  requires(std::is_same_v<T, float> &&
           (std::is_same_v<Low, __half> || std::is_same_v<Low, __nv_bfloat16>))
auto spectral_transform<T, Method, cuda::backend>::forward(cuda::embedding_view<const Low> z,
                                                          cuda::embedding_view<T> out,
                                                          cudaStream_t stream) -> context_type {
  (void)checked_group_shape(z.rows, z.cols, opts_);
  cuda::detail::expect_view(z, z.rows, z.cols, "z");
  backend_.bind(stream);
  auto widened = backend_.allocate<T>(static_cast<std::size_t>(z.rows * z.cols));
  cuda::detail::launch(backend_, "widen_kernel", z.rows * z.cols,
                       cuda::detail::widen_kernel<Low, T>, z.data, z.rows, z.cols, z.row_stride,
                       widened.data());
  return forward(cuda::embedding_view<const T>(widened.data(), z.rows, z.cols), out, stream);
}

template <real_scalar T, spectral_method Method>
void spectral_transform<T, Method, cuda::backend>::backward(const context_type& ctx,
                                                           cuda::embedding_view<const T> grad_out,
                                                           cuda::embedding_view<T> grad_in,
                                                           cudaStream_t stream) {
  using ops = cuda::method_ops<Method>;
  SPECTRAL_EXPECTS(!ctx.transform.empty(), "ctx: the context is empty (forward was not called)");
  SPECTRAL_EXPECTS(ctx.opts.groups == opts_.groups && ctx.opts.axis == opts_.axis,
                   "ctx: made by a transform with other options (axis ", to_string(ctx.opts.axis),
                   ", groups ", ctx.opts.groups, ")");
  cuda::detail::expect_view(grad_out, ctx.rows, ctx.cols, "grad_out");
  cuda::detail::expect_view(grad_in, ctx.rows, ctx.cols, "grad_in");
  const group_shape shape = checked_group_shape(ctx.rows, ctx.cols, opts_);
  backend_.bind(stream);

  const std::int64_t n = ctx.rows;
  const std::int64_t d = ctx.cols;
  const std::int64_t groups = opts_.groups;
  const std::int64_t width = d / groups;
  const std::int64_t k = shape.size;
  const std::int64_t area = k * k;
  cuda::device_status* status = ctx.status.data();

  // Backward writes grad_in while it still reads grad_out: read from a copy when they overlap.
  cuda::device_buffer<T> grad_out_copy;
  const T* gy = grad_out.data;
  std::int64_t gy_stride = grad_out.row_stride;
  if (cuda::detail::overlaps(grad_out, grad_in)) {
    grad_out_copy = backend_.allocate<T>(static_cast<std::size_t>(n * d));
    SPECTRAL_CUDA_TRY(cudaMemcpy2DAsync(grad_out_copy.data(), static_cast<std::size_t>(d) * sizeof(T),
                                        grad_out.data,
                                        static_cast<std::size_t>(grad_out.row_stride) * sizeof(T),
                                        static_cast<std::size_t>(d) * sizeof(T),
                                        static_cast<std::size_t>(n), cudaMemcpyDeviceToDevice,
                                        backend_.stream()));
    gy = grad_out_copy.data();
    gy_stride = d;
  }
  cuda::detail::launch(backend_, "check_finite_kernel", n * d, cuda::detail::check_finite_kernel<T>,
                       gy, n, d, gy_stride, width, status,
                       static_cast<unsigned>(cuda::status_nonfinite_gradient));

  const T* x = ctx.centered.data();
  const T* w = ctx.transform.data();
  auto grad_w = backend_.allocate<T>(static_cast<std::size_t>(groups * area));
  auto grad_sigma = backend_.allocate<T>(static_cast<std::size_t>(groups * area));
  if (opts_.axis == axis::features) {  // G_W = G_Y X_gᵀ
    backend_.gemm<T>(false, true, k, k, n, T(1), gy, gy_stride, width, x, d, width, T(0),
                     grad_w.data(), k, area, groups);
  } else {
    backend_.gemm<T>(true, false, k, k, width, T(1), gy, gy_stride, width, x, d, width, T(0),
                     grad_w.data(), k, area, groups);
  }
  ops::template gradient<T>(method_, backend_, config_, ctx.state, w, grad_w.data(),
                            grad_sigma.data(), k, groups);
  // sym(∂L/∂Σ) · 2/(M − 1): the covariance's chain rule to X.
  const T coupling = T(2) / static_cast<T>(shape.observations - 1);
  cuda::detail::launch(backend_, "symmetrize_kernel", groups * area,
                       cuda::detail::symmetrize_kernel<T>,
                       static_cast<const T*>(grad_sigma.data()), T(0.5) * coupling,
                       grad_sigma.data(), k, groups);
  const T* sym = grad_sigma.data();
  T* gx = grad_in.data;
  const std::int64_t gx_stride = grad_in.row_stride;
  if (opts_.axis == axis::features) {  // G_X = Wᵀ G_Y + sym X
    backend_.gemm<T>(true, false, k, n, k, T(1), w, k, area, gy, gy_stride, width, T(0), gx,
                     gx_stride, width, groups);
    backend_.gemm<T>(false, false, k, n, k, T(1), sym, k, area, x, d, width, T(1), gx, gx_stride,
                     width, groups);
  } else {  // G_Xᵀ = G_Yᵀ W + Xᵀ sym
    backend_.gemm<T>(false, false, width, n, n, T(1), gy, gy_stride, width, w, n, area, T(0), gx,
                     gx_stride, width, groups);
    backend_.gemm<T>(false, false, width, n, n, T(1), x, d, width, sym, n, area, T(1), gx,
                     gx_stride, width, groups);
  }
  // Through the centring: subtract the mean along the centred axis.
  cuda::detail::center<T>(backend_, opts_, gx, gx_stride, gx, gx_stride, n, d, nullptr, nullptr,
                          nullptr, 0U);
  cuda::detail::launch(backend_, "check_finite_kernel", n * d, cuda::detail::check_finite_kernel<T>,
                       static_cast<const T*>(gx), n, d, gx_stride, width, status,
                       static_cast<unsigned>(cuda::status_nonfinite_grad_in));
  if (config_.sync_check) {
    ctx.check(backend_.stream());
  }
}

}  // namespace spectral
