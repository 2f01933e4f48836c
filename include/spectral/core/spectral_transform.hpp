// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// spectral_transform: forward and backward of a spectral transformation over any method and
/// backend, the transform_context forward saves for backward, and covariance() /
/// transform_matrix() for diagnostics.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/concepts.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
#include <spectral/detail/batch_ops.hpp>
#include <spectral/detail/checks.hpp>
#include <spectral/detail/spectral_function.hpp>

#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace spectral {

namespace detail {
template <class T, class Method, class Backend>
struct method_state {
  using type = typename Method::template state<T, Backend>;
};
template <class T, spectral_function_method Method, class Backend>
struct method_state<T, Method, Backend> {
  using type = spectral_function_state<T, Backend>;
};

/// Backends whose buffers are host memory (the CPU): results can be read and errors thrown
/// where they arise, without a transfer.
template <class Backend>
concept host_backend = requires {
  requires Backend::host_memory;
};

/// What a backend is configured with and runs on: its `settings` and `stream_type` (CUDA: the
/// stream, sync_check, TF32, the memory resource), or nothing (the CPU).
struct no_settings {};
template <class Backend>
struct backend_traits {
  using settings = no_settings;
  using stream = std::nullptr_t;
};
template <class Backend>
requires requires {
  typename Backend::settings;
  typename Backend::stream_type;
}
struct backend_traits<Backend> {
  using settings = typename Backend::settings;
  using stream = typename Backend::stream_type;
};

template <class Backend, class Settings>
[[nodiscard]] Backend make_backend(const Settings& config) {
  if constexpr (std::is_constructible_v<Backend, const Settings&>) {
    return Backend(config);
  } else {
    return Backend{};
  }
}
}  // namespace detail

/// What a method records for its backward pass, for all groups at once.
template <class T, spectral_method Method, class Backend = cpu::backend>
using method_state_t = typename detail::method_state<T, Method, Backend>::type;

/**
 * @brief Everything forward saves for backward, per call, in the backend's memory. Owns it.
 *
 * Holds the centred input Z_c (N×D, row-major), the matrix forward applied for every group (one
 * batch: W, K×K each, or W̃, M×M each, when the groups were solved on the smaller side, with
 * Y = X W̃ instead of Y = W X; transform_matrix() gives W either way), the method's state and
 * the status word the steps recorded problems in. Also the public record of what forward
 * computed (the options, the method).
 */
template <class T, spectral_method Method, class Backend = cpu::backend>
struct transform_context {
  /// The backend's owning buffer of U.
  template <class U>
  using buffer = typename Backend::template buffer<U>;

  options opts;                  ///< the options forward ran with
  std::optional<Method> method;  ///< the method that made it
  bool gram_side = false;        ///< solved on the M×M Gram (see options::smaller_side)
  index_t sample_count = 0;      ///< N
  index_t feature_count = 0;     ///< D
  index_t solved_size = 0;       ///< K, or M when gram_side
  buffer<T> centered_data;       ///< Z_c, N×D row-major
  buffer<T> feature_mean_data;   ///< batch mean of each of the D features (features axis only)
  buffer<T> transform_data;      ///< W (or W̃) of every group, packed
  method_state_t<T, Method, Backend> state;  ///< what the method saved for its backward
  /// What forward's, then backward's steps recorded (backward adds to it, hence mutable).
  mutable buffer<status_word> status;

  /// N, the samples of the forward input.
  [[nodiscard]] index_t rows() const noexcept { return sample_count; }
  /// D, the features of the forward input.
  [[nodiscard]] index_t cols() const noexcept { return feature_count; }
  /// Whether no forward has filled the context.
  [[nodiscard]] bool empty() const noexcept { return !method.has_value(); }
  /// W (or W̃) of every group, a batch of `opts.groups` square matrices.
  [[nodiscard]] batch<const T> transforms() const {
    return dense_batch(static_cast<const T*>(transform_data.data()), solved_size, solved_size,
                       opts.groups);
  }
  /// Z_c seen column-major: a D×N matrix.
  [[nodiscard]] batch<const T> centered_columns() const {
    return dense_batch(static_cast<const T*>(centered_data.data()), feature_count, sample_count, 1);
  }

  /// The feature means (D; features axis only).
  [[nodiscard]] batch<const T> feature_means() const {
    return dense_batch(static_cast<const T*>(feature_mean_data.data()),
                       static_cast<index_t>(feature_mean_data.size()), 1, 1);
  }

  /**
   * @brief Throws what forward, or a backward on this context, recorded (device backends with
   *        `sync_check` off: call it when you choose; it waits for `stream`).
   * @throws invalid_input for non-finite z or grad_out, numerical_error for numerical failures
   */
  void check(typename detail::backend_traits<Backend>::stream stream = {}) const {
    SPECTRAL_EXPECTS(!empty(), "ctx: the context is empty (forward was not called)");
    if constexpr (detail::host_backend<Backend>) {
      (void)stream;
      throw_status(*status.data(), Method::name());
    } else {
      Backend::check_status(status.data(), stream, Method::name());
    }
  }

  /// Z_c, N×D, in host memory (CPU backend).
  [[nodiscard]] Eigen::Map<const row_matrix<T>> centered()
      const requires detail::host_backend<Backend> {
    return {centered_data.data(), sample_count, feature_count};
  }
  /// The D feature means in host memory (CPU backend; features axis only, else empty).
  [[nodiscard]] Eigen::Map<const vector<T>> feature_mean()
      const requires detail::host_backend<Backend> {
    return {feature_mean_data.data(), static_cast<index_t>(feature_mean_data.size())};
  }
  /// The matrix forward solved for group `group` in host memory (CPU backend): W (K×K), or W̃
  /// (M×M) when gram_side; transform_matrix() gives W either way.
  [[nodiscard]] Eigen::Map<const matrix<T>> solved_transform(
      index_t group) const requires detail::host_backend<Backend> {
    return {transform_data.data() + group * solved_size * solved_size, solved_size, solved_size};
  }
};

/**
 * @brief Applies a spectral transformation to a batch of embeddings and differentiates
 *        through it exactly (centring, covariance, the method's matrix function, the product).
 *
 * @tparam T       float or double
 * @tparam Method  a spectral_method: zca_whitening, pca_whitening, cholesky_whitening,
 *                 power_function, iter_norm, or your own (see core/concepts.hpp)
 * @tparam Backend the primitive provider (cpu::backend)
 *
 * Inputs are N×D row-major embeddings (rows = samples), accepted without copying. Outputs go
 * into caller-owned memory, or into new matrices with the one-argument overloads.
 * Not thread-safe for concurrent calls that share a context; the transform itself is immutable.
 */
template <real_scalar T, spectral_method Method, class Backend = cpu::backend>
class spectral_transform {
 public:
  using scalar_type = T;                                       ///< float or double
  using method_type = Method;                                  ///< the spectral_method
  using backend_type = Backend;                                ///< the primitive provider
  using context_type = transform_context<T, Method, Backend>;  ///< what forward returns
  /// The backend's own settings (CUDA: sync_check, tf32, memory; the CPU: none).
  using settings_type = typename detail::backend_traits<Backend>::settings;
  /// The backend's execution stream (CUDA: cudaStream_t; the CPU: std::nullptr_t, unused).
  using stream_type = typename detail::backend_traits<Backend>::stream;

  /// What the allocating forward returns.
  struct result {
    row_matrix<T> output;  ///< Y, N×D
    context_type context;  ///< what backward needs
  };

  /// @throws invalid_input for invalid options (groups < 1, eps < 0).
  explicit spectral_transform(Method method = Method{},
                              options opts = {},
                              settings_type config = {})
      : method_(std::move(method)),
        opts_(opts),
        config_(config),
        backend_(detail::make_backend<Backend>(config)) {
    opts_.validate();
  }

  /**
   * @brief Y = W(Σ(Z)) Z_c per group, written into `out` (N×D).
   * @param z   N×D embedding, finite, with at least 2 observations per covariance entry
   * @param out N×D destination (may share memory with z: z is copied into the context first)
   * @return the context backward needs
   * @throws invalid_input for shape mismatches, non-finite input, D % groups ≠ 0
   * @throws numerical_error for a singular covariance (eigen and Cholesky methods without eps)
   *         or a non-finite result
   */
  [[nodiscard]] context_type forward(
      embedding_cref<T> z, embedding_ref<T> out) const requires detail::host_backend<Backend>;

  /// Allocating overload of forward.
  [[nodiscard]] result forward(embedding_cref<T> z) const requires detail::host_backend<Backend>;

  /**
   * @brief Forward without backward: the Y of forward(), bit for bit, and no context.
   *
   * For calls no backward will follow (inference, evaluation, a tool writing Y). Nothing that
   * only backward needs outlives its use: Z_c, W and the method's intermediates are temporaries
   * of the call, and the method keeps no state (IterNorm's Newton route then holds one iterate
   * instead of P, P², P³ of every iteration).
   * @param z   N×D embedding, as for forward()
   * @param out N×D destination (may share memory with z)
   * @throws as forward()
   */
  void apply(embedding_cref<T> z,
             embedding_ref<T> out) const requires detail::host_backend<Backend>;

  /// Allocating overload of apply.
  [[nodiscard]] row_matrix<T> apply(
      embedding_cref<T> z) const requires detail::host_backend<Backend>;

  /**
   * @brief ∂⟨G, Y⟩/∂Z for the Y that produced `ctx`, written into `grad_in` (N×D).
   * @note grad_in may share memory with grad_out (then grad_out is copied first).
   * @throws invalid_input when grad_out's shape differs from the forward input or is not finite
   */
  void backward(const context_type& ctx,
                embedding_cref<T> grad_out,
                embedding_ref<T> grad_in) const requires detail::host_backend<Backend>;

  /// Allocating overload of backward.
  [[nodiscard]] row_matrix<T> backward(const context_type& ctx, embedding_cref<T> grad_out)
      const requires detail::host_backend<Backend>;

  // --- backends with their own memory (CUDA): device views, in stream order ------------------
  // Shapes are checked on the host before any device work; data problems (NaN, a singular Σ)
  // are recorded on the device and, with settings.sync_check (default), thrown at the end of
  // the call; without it, call context.check(stream) when you choose.

  /**
   * @brief Y = W(Σ(Z)) Z_c per group, written into `out` (N×D, may be `z` itself).
   * @throws invalid_input for shape mismatches, null pointers or D % groups ≠ 0 (before any
   *         device work), and with sync_check for non-finite input
   * @throws numerical_error with sync_check for a singular Σ (eigen and Cholesky methods
   *         without eps), a constant input or a non-finite result
   */
  [[nodiscard]] context_type forward(embedding_view<const T> z,
                                     embedding_view<T> out,
                                     stream_type stream = {}) const
      requires(!detail::host_backend<Backend>);

  /**
   * @brief Lower-precision input (half or bfloat16: what the reference feeds IterNorm under
   *        autocast, a known source of NaN), computed in T: z is widened into a T copy first.
   */
  template <class Low>
  requires(!std::is_same_v<std::remove_const_t<Low>, T>) [[nodiscard]] context_type
      forward(embedding_view<const Low> z, embedding_view<T> out, stream_type stream = {}) const
      requires(!detail::host_backend<Backend>);

  /// Forward without backward (see the host apply()): Y only, no context kept.
  void apply(embedding_view<const T> z, embedding_view<T> out, stream_type stream = {}) const
      requires(!detail::host_backend<Backend>);

  /**
   * @brief ∂⟨G, Y⟩/∂Z for the Y that produced `ctx`, into `grad_in` (may alias grad_out).
   * @note Run on the stream forward ran on, or order the streams yourself.
   */
  void backward(const context_type& ctx,
                embedding_view<const T> grad_out,
                embedding_view<T> grad_in,
                stream_type stream = {}) const requires(!detail::host_backend<Backend>);

  /**
   * @brief The algorithm itself, over the backend's memory: forward of `z` (D×N column-major,
   *        i.e. the N×D row-major embedding) into `out`, recording into `ctx` (nullptr: apply).
   *        Problems in the data are recorded in `status`; nothing here reads numbers back.
   */
  void run(
      Backend& be, batch<const T> z, batch<T> out, context_type* ctx, status_word* status) const;
  /// The backward over the backend's memory (grad_out and grad_in D×N, must not overlap).
  void run_backward(Backend& be,
                    const context_type& ctx,
                    batch<const T> grad_out,
                    batch<T> grad_in,
                    status_word* status) const;

  /// The method and its parameters.
  [[nodiscard]] const Method& method() const noexcept { return method_; }
  /// The options (axis, groups, eps).
  [[nodiscard]] const options& opts() const noexcept { return opts_; }
  /// The backend settings the transform was made with.
  [[nodiscard]] const settings_type& config() const noexcept { return config_; }

 private:
  Method method_;
  options opts_;
  settings_type config_;
  /// Handles, caches and the bound stream on CUDA (hence one transform per thread or stream);
  /// stateless on the CPU.
  mutable Backend backend_;
};

/**
 * @brief Σ (K×K) of one group of an N×D embedding, with the options' axis, divisor and eps.
 * @note The building block of forward, exposed for diagnostics and tests.
 */
template <class T>
[[nodiscard]] matrix<T> covariance(embedding_cref<T> z,
                                   const options& opts = {},
                                   index_t group = 0);

/**
 * @brief W (K×K) of one group of a forward pass: the context's own matrix, or, for a group
 *        solved on the smaller side, W built from the Gram's solution (spectral functions:
 *        g(ε) I + C diag(δ) Cᵀ from its eigenpairs; IterNorm: 1.5ᵀ I + B R Bᵀ from its
 *        iterates) at K·M² + K²·M, exact; a method with neither recomputes W from Σ.
 * @throws invalid_input for an empty context or a group out of range
 */
template <class T, spectral_method Method>
[[nodiscard]] matrix<T> transform_matrix(const transform_context<T, Method>& ctx, index_t group);

// --- implementation -----------------------------------------------------------------------------

namespace detail {

/// Whether forward solves this method on the M×M Gram G = XᵀX/(M−1) (+ eps·I) instead of the
/// K×K Σ = XXᵀ/(M−1) (+ eps·I). Exact for W = F(Σ) with F a fixed matrix function, because
/// F(XXᵀ + εI)X = X F(XᵀX + εI) (with X = U S Vᵀ both are U F(S² + ε) S Vᵀ), and cheaper
/// whenever M < K: a rank-deficient Σ is then solved at (about) its rank's size.
/// - spectral functions (ZCA, power): only when they can succeed on the K×K side too (eps > 0
///   or no inverse), so a singular Σ still fails with the K×K message;
/// - IterNorm: only without eps (its F depends on tr Σ, and eps adds K·eps to tr Σ but M·eps to
///   tr G); a method opts in with `static constexpr bool gram_side_without_eps = true`;
/// - PCA (output in Σ's eigenbasis) and Cholesky (not a function of the spectrum): never.
template <class Method>
[[nodiscard]] bool solves_on_gram_side(const Method& method,
                                       const options& opts,
                                       group_shape shape) {
  if (!opts.smaller_side || shape.observations >= shape.size) {
    return false;
  }
  if constexpr (spectral_function_method<Method>) {
    return opts.eps > 0.0 || !method.requires_positive_definite();
  } else if constexpr (requires { Method::gram_side_without_eps; }) {
    return Method::gram_side_without_eps && opts.eps == 0.0;
  } else {
    return false;
  }
}

/// The groups of a D×N column-major embedding: row block g (width rows, N columns) of each.
template <class T>
[[nodiscard]] batch<T> group_blocks(batch<T> columns, index_t groups) {
  const index_t width = columns.rows / groups;
  return {columns.data, width, columns.cols, columns.ld, width, groups};
}

/// How the whitening layout X (K×M) reads a group block B (w×N): X = B on the features axis,
/// X = Bᵀ on the samples axis.
[[nodiscard]] inline op whitening_op(axis a) {
  return a == axis::features ? op::none : op::transpose;
}

[[nodiscard]] inline op flip(op o) { return o == op::none ? op::transpose : op::none; }

/// Σ → W (and the state backward needs, when `st` is given) for any spectral_method.
template <class Backend, class T, spectral_method Method>
void solve(const primitives<Backend, T>& p,
           const Method& method,
           typename Backend::template buffer<T>&& sigma,
           index_t size,
           index_t count,
           batch<T> w,
           method_state_t<T, Method, Backend>* st,
           status_word* status,
           index_t covariance_size) {
  if constexpr (spectral_function_method<Method>) {
    spectral_function_compute<Backend, T>(p, method, std::move(sigma), size, count, w, st, status,
                                          covariance_size);
  } else {
    method.compute(p, std::move(sigma), size, count, w, st, status, covariance_size);
  }
}

/// Whether two views' memory ranges intersect.
template <class A, class B>
[[nodiscard]] bool overlaps(const A& a, const B& b) {
  if (a.size() == 0 || b.size() == 0) {
    return false;
  }
  const auto last = [](const auto& m) {
    return m.data() + (m.rows() - 1) * m.rowStride() + (m.cols() - 1) * m.colStride();
  };
  const auto* a_first = a.data();
  const auto* a_last = last(a);
  const auto* b_first = b.data();
  const auto* b_last = last(b);
  return std::less_equal<>{}(a_first, b_last) && std::less_equal<>{}(b_first, a_last);
}

/// Throws what a host status word records, with where it happened appended.
inline void throw_recorded(const status_word& s,
                           std::string_view method,
                           const options& opts,
                           group_shape shape) {
  if (s.flags == 0U) {
    return;
  }
  try {
    throw_status(s, method);
  } catch (const numerical_error& e) {
    SPECTRAL_FAIL(e.what(), " [", opts.groups, " group(s), ", to_string(opts.axis),
                  " axis, K=", shape.size, ", M=", shape.observations, ", eps=", opts.eps, "]");
  }
}

/// Z_c (D×N, the centred embedding read column-major) from z, along the options' axis: each
/// feature over the batch (features axis; its means into `means`), or each sample over its
/// group's features (samples axis). zc may be z's own memory.
template <class Backend, class T>
void center_embedding(const primitives<Backend, T>& p,
                      std::type_identity_t<batch<const T>> z,
                      batch<T> zc,
                      const options& opts,
                      T* means) {
  if (opts.axis == axis::features) {  // a mean per row of the D×N matrix
    p.center(z, zc, mean_over::columns, means);
  } else {  // a mean per column of each group's row block
    p.center(group_blocks(z, opts.groups), group_blocks(zc, opts.groups), mean_over::rows, nullptr);
  }
}

/// Σ += eps·I for every matrix (nothing for eps = 0).
template <class Backend, class T>
void add_shrinkage(const primitives<Backend, T>& p, batch<T> sigma, double eps) {
  if (eps != 0.0) {
    p.for_each(extent{sigma.count, sigma.rows, 1}, add_identity<T>{sigma, static_cast<T>(eps)});
  }
}

/// Σ = XXᵀ/(M−1) (K×K) of every group of Z_c, or on the smaller side G = XᵀX/(M−1) (M×M),
/// without eps. Symmetric by construction.
template <class Backend, class T>
void group_covariances_unshrunk(const primitives<Backend, T>& p,
                                std::type_identity_t<batch<const T>> zc,
                                const options& opts,
                                group_shape shape,
                                bool gram_side,
                                batch<T> sigma) {
  const op x_op = whitening_op(opts.axis);
  p.syrk(gram_side ? flip(x_op) : x_op,
         static_cast<T>(1.0 / static_cast<double>(shape.observations - 1)),
         group_blocks(zc, opts.groups), T(0), sigma);
}

/// The same + eps·I.
template <class Backend, class T>
void group_covariances(const primitives<Backend, T>& p,
                       std::type_identity_t<batch<const T>> zc,
                       const options& opts,
                       group_shape shape,
                       bool gram_side,
                       batch<T> sigma) {
  group_covariances_unshrunk(p, zc, opts, shape, gram_side, sigma);
  add_shrinkage(p, sigma, opts.eps);
}

}  // namespace detail

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::run(
    Backend& be, batch<const T> z, batch<T> out, context_type* ctx, status_word* status) const {
  using buffer = typename Backend::template buffer<T>;
  const primitives<Backend, T> p{be};
  const index_t d = z.rows;
  const index_t n = z.cols;
  const group_shape shape = checked_group_shape(n, d, opts_);
  const index_t groups = opts_.groups;
  const bool gram_side = detail::solves_on_gram_side(method_, opts_, shape);
  const index_t size = gram_side ? shape.observations : shape.size;

  buffer centered = p.allocate(n * d);
  buffer means = p.allocate(opts_.axis == axis::features ? d : 0);
  const batch<T> zc = dense_batch(centered.data(), d, n, 1);
  detail::center_embedding(p, z, zc, opts_, means.data());
  const batch<const T> blocks = detail::group_blocks(batch<const T>(zc), groups);
  buffer sigma = p.allocate(size * size * groups);
  const batch<T> s = dense_batch(sigma.data(), size, size, groups);
  // Σ first without eps: the constant-input check reads its trace before the shrinkage (the
  // eps added in T, then subtracted, would leave rounding above the check's floor in float).
  detail::group_covariances_unshrunk(p, zc, opts_, shape, gram_side, s);
  buffer checks = p.allocate(2 * groups);  // tr Σ and max|z| per group
  p.trace(s, checks.data());
  p.max_abs(detail::group_blocks(z, groups), checks.data() + groups);
  p.for_each(extent{groups, 1, 1},
             detail::check_not_constant<T>{
                 checks.data(), checks.data() + groups, static_cast<double>(shape.size),
                 static_cast<double>(std::numeric_limits<T>::epsilon()), status});
  detail::add_shrinkage(p, s, opts_.eps);

  buffer transform = p.allocate(size * size * groups);
  const batch<T> w = dense_batch(transform.data(), size, size, groups);
  detail::solve<Backend, T>(p, method_, std::move(sigma), size, groups, w,
                            ctx != nullptr ? &ctx->state : nullptr, status, shape.size);

  // Y_b = W Z_b from the left (samples axis, K×K) or Z_b Wᵀ from the right (features axis);
  // the Gram side (Y = X W̃, W̃ symmetric) swaps the two. In the D×N layout a group's block is
  // B = Z_bᵀ, so the output block is B Wᵀ from the left and W B from the right.
  const bool from_left = (opts_.axis == axis::samples) != gram_side;
  const batch<T> out_blocks = detail::group_blocks(out, groups);
  if (from_left) {
    p.gemm(op::none, op::transpose, T(1), blocks, w, T(0), out_blocks);
  } else {
    p.gemm(op::none, op::none, T(1), w, blocks, T(0), out_blocks);
  }
  p.check_finite(out_blocks, status, status_nonfinite_output);

  if (ctx != nullptr) {
    ctx->opts = opts_;
    ctx->method.emplace(method_);
    ctx->gram_side = gram_side;
    ctx->sample_count = n;
    ctx->feature_count = d;
    ctx->solved_size = size;
    ctx->centered_data = std::move(centered);
    ctx->feature_mean_data = std::move(means);
    ctx->transform_data = std::move(transform);
  }
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::run_backward(Backend& be,
                                                          const context_type& ctx,
                                                          batch<const T> grad_out,
                                                          batch<T> grad_in,
                                                          status_word* status) const {
  using buffer = typename Backend::template buffer<T>;
  const primitives<Backend, T> p{be};
  const group_shape shape = checked_group_shape(ctx.rows(), ctx.cols(), opts_);
  const index_t groups = opts_.groups;
  const index_t size = ctx.solved_size;
  const batch<const T> x = detail::group_blocks(ctx.centered_columns(), groups);
  const batch<const T> gy = detail::group_blocks(grad_out, groups);
  const batch<T> gx = detail::group_blocks(grad_in, groups);
  const batch<const T> w = ctx.transforms();
  const bool from_left = (opts_.axis == axis::samples) != ctx.gram_side;

  buffer grad_w_storage = p.allocate(size * size * groups);
  buffer grad_sigma_storage = p.allocate(size * size * groups);
  const batch<T> grad_w = dense_batch(grad_w_storage.data(), size, size, groups);
  const batch<T> grad_sigma = dense_batch(grad_sigma_storage.data(), size, size, groups);
  // Output blocks B Wᵀ (from the left) or W B: ∂L/∂W = Gᵀ B or G Bᵀ for the gradient's block G.
  if (from_left) {
    p.gemm(op::transpose, op::none, T(1), gy, x, T(0), grad_w);
  } else {
    p.gemm(op::none, op::transpose, T(1), gy, x, T(0), grad_w);
  }
  if constexpr (spectral_function_method<Method>) {
    detail::spectral_function_gradient<Backend, T>(p, method_, ctx.state, grad_w, grad_sigma);
  } else {
    method_.gradient(p, ctx.state, w, batch<const T>(grad_w), grad_sigma);
  }
  // The covariance's chain rule: ∂L/∂X gets sym(∂L/∂Σ)·2/(M − 1) applied to X.
  const T coupling = T(2) / static_cast<T>(shape.observations - 1);
  p.for_each(extent::of(grad_w), detail::combine_transpose<T>{grad_sigma, grad_w, T(0.5) * coupling,
                                                              T(0.5) * coupling});
  const batch<const T> sym = grad_w;
  if (from_left) {  // G_B = Gy W + B sym
    p.gemm(op::none, op::none, T(1), gy, w, T(0), gx);
    p.gemm(op::none, op::none, T(1), x, sym, T(1), gx);
  } else {  // G_B = Wᵀ Gy + sym B
    p.gemm(op::transpose, op::none, T(1), w, gy, T(0), gx);
    p.gemm(op::none, op::none, T(1), sym, x, T(1), gx);
  }
  // Through the centring: the mean along the centred dimension comes off.
  if (opts_.axis == axis::features) {
    p.center(grad_in, grad_in, mean_over::columns, nullptr);
  } else {
    p.center(gx, gx, mean_over::rows, nullptr);
  }
  p.check_finite(gx, status, status_nonfinite_grad_in);
}

template <class T>
matrix<T> covariance(embedding_cref<T> z, const options& opts, index_t group) {
  opts.validate();
  const group_shape shape = checked_group_shape(z.rows(), z.cols(), opts);
  SPECTRAL_EXPECTS(group >= 0 && group < opts.groups, "group: must be in [0, ", opts.groups,
                   "), got ", group);
  detail::expect_finite(z, "z");
  cpu::backend be;
  const primitives<cpu::backend, T> p{be};
  auto centered = p.allocate(z.rows() * z.cols());
  const batch<T> zc = dense_batch(centered.data(), z.cols(), z.rows(), 1);
  detail::center_embedding(p, detail::columns_of(z), zc, opts, static_cast<T*>(nullptr));
  matrix<T> all(shape.size, shape.size * opts.groups);
  detail::group_covariances(p, zc, opts, shape, false,
                            dense_batch(all.data(), shape.size, shape.size, opts.groups));
  return all.middleCols(group * shape.size, shape.size);
}

namespace detail {

/**
 * @brief W (K×K) of every group of a forward pass into `w` (groups × K × K), on the context's
 *        backend: the context's own matrices, or, for groups solved on the smaller side, W built
 *        from the Gram's solution where the method knows how, else by solving Σ again.
 */
template <class Backend, class T, spectral_method Method>
void transform_matrices(const primitives<Backend, T>& p,
                        const transform_context<T, Method, Backend>& ctx,
                        batch<T> w) {
  if (!ctx.gram_side) {
    p.for_each(extent::of(w), copy_entries<T>{ctx.transforms(), w});
    return;
  }
  const group_shape shape = checked_group_shape(ctx.rows(), ctx.cols(), ctx.opts);
  const double divisor = static_cast<double>(shape.observations - 1);
  const Method& method = *ctx.method;
  const batch<const T> x = group_blocks(ctx.centered_columns(), ctx.opts.groups);
  const op x_op = whitening_op(ctx.opts.axis);
  if constexpr (spectral_function_method<Method>) {
    spectral_function_from_gram<Backend, T>(p, method, ctx.state, x, x_op, divisor, ctx.opts.eps,
                                            w);
  } else if constexpr (requires {
                         method.transform_from_gram(p, ctx.state, x, x_op, divisor, ctx.opts.eps,
                                                    w);
                       }) {
    method.transform_from_gram(p, ctx.state, x, x_op, divisor, ctx.opts.eps, w);
  } else {  // solve the K×K Σ of the (already centred) input again
    options k_side = ctx.opts;
    k_side.smaller_side = false;
    const spectral_transform<T, Method, Backend> again(method, k_side);
    transform_context<T, Method, Backend> solved;
    solved.status = p.be.template zeros<status_word>(1);
    auto scratch = p.allocate(ctx.rows() * ctx.cols());
    again.run(p.be, ctx.centered_columns(), dense_batch(scratch.data(), ctx.cols(), ctx.rows(), 1),
              &solved, solved.status.data());
    p.for_each(extent::of(w), copy_entries<T>{solved.transforms(), w});
  }
}

}  // namespace detail

template <class T, spectral_method Method>
matrix<T> transform_matrix(const transform_context<T, Method>& ctx, index_t group) {
  SPECTRAL_EXPECTS(!ctx.empty(), "ctx: the context is empty (forward was not called)");
  SPECTRAL_EXPECTS(group >= 0 && group < ctx.opts.groups, "group: must be in [0, ", ctx.opts.groups,
                   "), got ", group);
  if (!ctx.gram_side) {
    return ctx.solved_transform(group);
  }
  const index_t k = checked_group_shape(ctx.rows(), ctx.cols(), ctx.opts).size;
  cpu::backend be;
  const primitives<cpu::backend, T> p{be};
  matrix<T> all(k, k * ctx.opts.groups);
  detail::transform_matrices(p, ctx, dense_batch(all.data(), k, k, ctx.opts.groups));
  return all.middleCols(group * k, k);
}

template <real_scalar T, spectral_method Method, class Backend>
auto spectral_transform<T, Method, Backend>::forward(embedding_cref<T> z,
                                                     embedding_ref<T> out) const
    -> context_type requires detail::host_backend<Backend> {
  const group_shape shape = checked_group_shape(z.rows(), z.cols(), opts_);
  detail::expect_shape(out, z.rows(), z.cols(), "out");
  detail::expect_finite(z, "z");
  Backend be;
  context_type ctx;
  ctx.status = be.template zeros<status_word>(1);
  auto out_columns = detail::columns_of(out);
  run(be, detail::columns_of(z), out_columns, &ctx, ctx.status.data());
  detail::throw_recorded(*ctx.status.data(), Method::name(), opts_, shape);
  return ctx;
}

template <real_scalar T, spectral_method Method, class Backend>
auto spectral_transform<T, Method, Backend>::forward(embedding_cref<T> z) const
    -> result requires detail::host_backend<Backend> {
  result r;
  r.output.resize(z.rows(), z.cols());
  r.context = forward(z, r.output);
  return r;
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::apply(
    embedding_cref<T> z, embedding_ref<T> out) const requires detail::host_backend<Backend> {
  const group_shape shape = checked_group_shape(z.rows(), z.cols(), opts_);
  detail::expect_shape(out, z.rows(), z.cols(), "out");
  detail::expect_finite(z, "z");
  Backend be;
  status_word status{};
  // Y is written at the end, after Z_c was taken, so out may share z's memory.
  auto out_columns = detail::columns_of(out);
  run(be, detail::columns_of(z), out_columns, nullptr, &status);
  detail::throw_recorded(status, Method::name(), opts_, shape);
}

template <real_scalar T, spectral_method Method, class Backend>
row_matrix<T> spectral_transform<T, Method, Backend>::apply(
    embedding_cref<T> z) const requires detail::host_backend<Backend> {
  row_matrix<T> out(z.rows(), z.cols());
  apply(z, out);
  return out;
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::backward(
    const context_type& ctx,
    embedding_cref<T> grad_out,
    embedding_ref<T> grad_in) const requires detail::host_backend<Backend> {
  SPECTRAL_EXPECTS(!ctx.empty(), "ctx: the context is empty (forward was not called)");
  SPECTRAL_EXPECTS(ctx.opts.groups == opts_.groups && ctx.opts.axis == opts_.axis,
                   "ctx: made by a transform with other options (axis ", to_string(ctx.opts.axis),
                   ", groups ", ctx.opts.groups, ")");
  detail::expect_shape(grad_out, ctx.rows(), ctx.cols(), "grad_out");
  detail::expect_shape(grad_in, ctx.rows(), ctx.cols(), "grad_in");
  detail::expect_finite(grad_out, "grad_out");
  const group_shape shape = checked_group_shape(ctx.rows(), ctx.cols(), opts_);

  // Backward writes grad_in while it still reads grad_out: read from a copy when they share
  // memory (e.g. an in-place backward), so aliasing costs a copy instead of a wrong gradient.
  if (detail::overlaps(grad_out, grad_in)) {
    const row_matrix<T> grad_out_copy = grad_out;
    backward(ctx, grad_out_copy, grad_in);
    return;
  }
  Backend be;
  status_word status{};
  auto grad_in_columns = detail::columns_of(grad_in);
  run_backward(be, ctx, detail::columns_of(grad_out), grad_in_columns, &status);
  detail::throw_recorded(status, Method::name(), opts_, shape);
}

template <real_scalar T, spectral_method Method, class Backend>
row_matrix<T> spectral_transform<T, Method, Backend>::backward(
    const context_type& ctx,
    embedding_cref<T> grad_out) const requires detail::host_backend<Backend> {
  row_matrix<T> grad_in(ctx.rows(), ctx.cols());
  backward(ctx, grad_out, grad_in);
  return grad_in;
}

// --- device-memory entry points -------------------------------------------------------------

namespace detail {

/// Host-side checks every device entry point runs before enqueuing any work.
template <class T>
void expect_view(const embedding_view<T>& view, index_t rows, index_t cols, const char* name) {
  SPECTRAL_EXPECTS(view.data != nullptr || rows * cols == 0, name, ": null pointer");
  SPECTRAL_EXPECTS(view.rows == rows && view.cols == cols, name, ": expected ", rows, "x", cols,
                   ", got ", view.rows, "x", view.cols);
  SPECTRAL_EXPECTS(view.row_stride >= view.cols, name, ": row_stride ", view.row_stride,
                   " is smaller than its ", view.cols, " columns");
}

/// Whether two views' address ranges intersect.
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

/// out = T(in): widens a lower-precision input.
template <class Low, class T>
struct widen {
  batch<const Low> in;
  batch<T> out;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = static_cast<T>(in(b, i, j));
  }
};

}  // namespace detail

template <real_scalar T, spectral_method Method, class Backend>
auto spectral_transform<T, Method, Backend>::forward(embedding_view<const T> z,
                                                     embedding_view<T> out,
                                                     stream_type stream) const -> context_type
    requires(!detail::host_backend<Backend>) {
  (void)checked_group_shape(z.rows, z.cols, opts_);
  detail::expect_view(z, z.rows, z.cols, "z");
  detail::expect_view(out, z.rows, z.cols, "out");
  backend_.bind(stream);
  context_type ctx;
  ctx.status = backend_.template zeros<status_word>(1);
  backend_.check_finite(z.columns(), ctx.status.data(), status_nonfinite_input);
  run(backend_, z.columns(), out.columns(), &ctx, ctx.status.data());
  if (config_.sync_check) {
    ctx.check(stream);
  }
  return ctx;
}

// Doxygen does not match this definition to its declaration (which carries the documentation)
// and would list it as a second, undocumented member: hidden from it.
/// @cond
template <real_scalar T, spectral_method Method, class Backend>
template <class Low>
requires(!std::is_same_v<std::remove_const_t<Low>, T>) auto spectral_transform<T, Method, Backend>::
    forward(embedding_view<const Low> z, embedding_view<T> out, stream_type stream) const
    -> context_type requires(!detail::host_backend<Backend>) {
  (void)checked_group_shape(z.rows, z.cols, opts_);
  detail::expect_view(z, z.rows, z.cols, "z");
  backend_.bind(stream);
  auto widened = backend_.template allocate<T>(z.rows * z.cols);
  const embedding_view<T> wide(widened.data(), z.rows, z.cols);
  backend_.for_each_entry(extent::of(z.columns()),
                          detail::widen<Low, T>{z.columns(), wide.columns()});
  return forward(embedding_view<const T>(wide), out, stream);
}
/// @endcond

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::apply(embedding_view<const T> z,
                                                   embedding_view<T> out,
                                                   stream_type stream) const
    requires(!detail::host_backend<Backend>) {
  (void)checked_group_shape(z.rows, z.cols, opts_);
  detail::expect_view(z, z.rows, z.cols, "z");
  detail::expect_view(out, z.rows, z.cols, "out");
  backend_.bind(stream);
  auto status = backend_.template zeros<status_word>(1);
  backend_.check_finite(z.columns(), status.data(), status_nonfinite_input);
  run(backend_, z.columns(), out.columns(), nullptr, status.data());
  if (config_.sync_check) {
    Backend::check_status(status.data(), stream, Method::name());
  }
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::backward(const context_type& ctx,
                                                      embedding_view<const T> grad_out,
                                                      embedding_view<T> grad_in,
                                                      stream_type stream) const
    requires(!detail::host_backend<Backend>) {
  SPECTRAL_EXPECTS(!ctx.empty(), "ctx: the context is empty (forward was not called)");
  SPECTRAL_EXPECTS(ctx.opts.groups == opts_.groups && ctx.opts.axis == opts_.axis,
                   "ctx: made by a transform with other options (axis ", to_string(ctx.opts.axis),
                   ", groups ", ctx.opts.groups, ")");
  detail::expect_view(grad_out, ctx.rows(), ctx.cols(), "grad_out");
  detail::expect_view(grad_in, ctx.rows(), ctx.cols(), "grad_in");
  backend_.bind(stream);
  status_word* status = ctx.status.data();
  // Backward writes grad_in while it still reads grad_out: read from a copy when they overlap.
  typename Backend::template buffer<T> copy;
  batch<const T> gy = grad_out.columns();
  if (detail::overlaps(grad_out, grad_in)) {
    copy = backend_.template allocate<T>(ctx.rows() * ctx.cols());
    const batch<T> packed = dense_batch(copy.data(), ctx.cols(), ctx.rows(), 1);
    backend_.for_each_entry(extent::of(packed), detail::copy_entries<T>{gy, packed});
    gy = packed;
  }
  backend_.check_finite(gy, status, status_nonfinite_gradient);
  run_backward(backend_, ctx, gy, grad_in.columns(), status);
  if (config_.sync_check) {
    ctx.check(stream);
  }
}

}  // namespace spectral
