// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/concepts.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
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
template <class T, class Method>
struct method_state {
  using type = typename Method::template state<T>;
};
template <class T, spectral_function_method Method>
struct method_state<T, Method> {
  using type = spectral_function_state<T>;
};
}  // namespace detail

/// What a method records per group for its backward pass.
template <class T, spectral_method Method>
using method_state_t = typename detail::method_state<T, Method>::type;

/**
 * @brief Everything forward saves for backward, per call. Owns its memory.
 *
 * Holds the centred input Z_c (N×D) and, per group, the matrix forward applied and the
 * method's state. Also the public record of what forward computed (the options, the method).
 * A group solved on the smaller side (`gram_side`) holds the M×M W̃ = F(XᵀX/(M−1)) with
 * Y = X W̃ instead of the K×K W = F(Σ) with Y = W X; transform_matrix() gives W either way.
 */
template <class T, spectral_method Method>
struct transform_context {
  struct group {
    matrix<T> transform;              ///< W (K×K), or W̃ (M×M) when gram_side
    method_state_t<T, Method> state;  ///< the method's saved state
    bool gram_side = false;           ///< solved on the M×M Gram (see options::smaller_side)
  };
  options opts;
  std::optional<Method> method;  ///< the method that made it (rebuilds W for gram_side groups)
  row_matrix<T> centered;    ///< Z_c, N×D
  vector<T> feature_mean;    ///< batch mean of each of the D features (features axis only)
  std::vector<group> groups;

  [[nodiscard]] index_t rows() const noexcept { return centered.rows(); }
  [[nodiscard]] index_t cols() const noexcept { return centered.cols(); }
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
  using scalar_type = T;
  using method_type = Method;
  using context_type = transform_context<T, Method>;

  struct result {
    row_matrix<T> output;
    context_type context;
  };

  /// @throws invalid_input for invalid options (groups < 1, eps < 0).
  explicit spectral_transform(Method method = Method{}, options opts = {})
      : method_(std::move(method)), opts_(opts) {
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
  [[nodiscard]] context_type forward(embedding_cref<T> z, embedding_ref<T> out) const;

  /// Allocating overload of forward.
  [[nodiscard]] result forward(embedding_cref<T> z) const;

  /**
   * @brief Forward without backward: the Y of forward(), bit for bit, and no context.
   *
   * For calls no backward will follow (inference, evaluation, a tool writing Y). Nothing that
   * only backward needs outlives its use: Z_c is a temporary of the call, each group's W and the
   * method's intermediates live only while that group is transformed, and a method with a
   * state-free solve (`compute_forward_only`, see core/concepts.hpp) uses it; IterNorm's Newton
   * route then keeps one iterate instead of P, P², P³ of every iteration.
   * @param z   N×D embedding, as for forward()
   * @param out N×D destination (may share memory with z)
   * @throws as forward()
   */
  void apply(embedding_cref<T> z, embedding_ref<T> out) const;

  /// Allocating overload of apply.
  [[nodiscard]] row_matrix<T> apply(embedding_cref<T> z) const;

  /**
   * @brief ∂⟨G, Y⟩/∂Z for the Y that produced `ctx`, written into `grad_in` (N×D).
   * @note grad_in may share memory with grad_out (then grad_out is copied first).
   * @throws invalid_input when grad_out's shape differs from the forward input or is not finite
   */
  void backward(const context_type& ctx, embedding_cref<T> grad_out,
                embedding_ref<T> grad_in) const;

  /// Allocating overload of backward.
  [[nodiscard]] row_matrix<T> backward(const context_type& ctx, embedding_cref<T> grad_out) const;

  [[nodiscard]] const Method& method() const noexcept { return method_; }
  [[nodiscard]] const options& opts() const noexcept { return opts_; }

 private:
  /// forward() with ctx, apply() without: one loop, so both produce the same bits.
  void run(embedding_cref<T> z, embedding_ref<T> out, context_type* ctx) const;
  [[nodiscard]] matrix<T> gradient(const typename context_type::group& g,
                                   const matrix<T>& grad_w) const;
  /// Whether W multiplies a group's N×w block Z_b of Z_c from the left (Y_b = W Z_b) or from the
  /// right (Y_b = Z_b Wᵀ). Samples axis: X = Z_b, Y = W X, so left. Features axis: X = Z_bᵀ,
  /// Y_bᵀ = W X, so right. The Gram side (Y = X W̃) swaps the two, using that W̃ = F(G) is
  /// symmetric (W̃ᵀ = W̃, exactly: every solve mirrors its triangle).
  [[nodiscard]] bool applies_from_left(const typename context_type::group& g) const {
    return (opts_.axis == axis::samples) != g.gram_side;
  }

  Method method_;
  options opts_;
};

/**
 * @brief Σ (K×K) of one group of an N×D embedding, with the options' axis, divisor and eps.
 * @note The building block of forward, exposed for diagnostics and tests.
 */
template <class T>
[[nodiscard]] matrix<T> covariance(embedding_cref<T> z, const options& opts = {}, index_t group = 0);

/**
 * @brief W (K×K) of one group of a forward pass: the context's own matrix, or, for a group
 *        solved on the smaller side, W built from the Gram's solution (spectral functions:
 *        g(ε) I + C diag(δ) Cᵀ from its eigenpairs; IterNorm: 1.5ᵀ I + B R Bᵀ from its
 *        iterates) at K·M² + K²·M, exact; a user method with neither recomputes W from Σ.
 * @throws invalid_input for an empty context or a group out of range
 */
template <class T, spectral_method Method>
[[nodiscard]] matrix<T> transform_matrix(const transform_context<T, Method>& ctx, index_t group);

// --- implementation -----------------------------------------------------------------------------

namespace detail {

/// Calls fn with the group's K×M whitening-layout view of an N×w row-major block: Zᵀ on the
/// features axis, Z itself on the samples axis. Both are views, so nothing is copied.
template <class Block, class Fn>
decltype(auto) as_whitening_layout(axis a, Block&& block, Fn&& fn) {
  if (a == axis::features) {
    return fn(block.transpose());
  }
  return fn(block);
}

template <class T>
void center(embedding_cref<T> z, row_matrix<T>& centered, const options& opts,
            vector<T>* feature_mean = nullptr) {
  centered = z;
  const index_t width = z.cols() / opts.groups;
  if (opts.axis == axis::features) {
    const Eigen::Matrix<T, 1, Eigen::Dynamic> mean = centered.colwise().mean();
    centered.rowwise() -= mean;
    if (feature_mean != nullptr) {
      *feature_mean = mean.transpose();
    }
    return;
  }
  for (index_t g = 0; g < opts.groups; ++g) {
    auto block = centered.middleCols(g * width, width);
    block.colwise() -= block.rowwise().mean().eval();
  }
}

/// Throws numerical_error when Σ (before eps) is no larger than the rounding noise that
/// centring leaves in a constant input (≈ K·(2ε·max|z|)²): every observation is the same, and a
/// transform would only amplify that noise into an O(1) output. `sigma` may be the K×K
/// covariance or the M×M Gram: both have the same trace.
template <class T, class Block>
void expect_not_constant(std::string_view method, const matrix<T>& sigma, double eps,
                         const Block& z_block, index_t group, index_t covariance_size) {
  const double largest = static_cast<double>(z_block.cwiseAbs().maxCoeff());
  const double noise = 4.0 * std::numeric_limits<T>::epsilon() * largest;  // 2x the bound above
  const double k = static_cast<double>(covariance_size);
  const double trace = static_cast<double>(sigma.trace()) - static_cast<double>(sigma.rows()) * eps;
  if (!(trace > k * noise * noise)) {
    SPECTRAL_FAIL(method, ": z's covariance (group ", group, ") is zero up to rounding (trace ", trace,
                  ", input magnitude ", largest,
                  "); every observation is identical after centring, nothing to transform");
  }
}

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
[[nodiscard]] bool solves_on_gram_side(const Method& method, const options& opts,
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

/// Σ → W (and the state backward needs) for any spectral_method. `covariance_size` is K when
/// `sigma` is the M×M Gram, so that positive-definiteness is judged as for the K×K Σ.
template <class Backend, class T, spectral_method Method>
void solve(const Method& method, const matrix<T>& sigma, matrix<T>& w,
           method_state_t<T, Method>& state, index_t covariance_size = 0) {
  if constexpr (spectral_function_method<Method>) {
    spectral_function_compute<Backend, T>(method, sigma, w, state, covariance_size);
  } else {
    method.compute(Backend{}, sigma, w, state);
  }
}

/// Σ → W alone, for a forward no backward follows: the method's state-free solve when it has
/// one (`compute_forward_only`), else solve() with a state dropped on return.
template <class Backend, class T, spectral_method Method>
void solve_forward_only(const Method& method, const matrix<T>& sigma, matrix<T>& w,
                        index_t covariance_size = 0) {
  if constexpr (requires { method.compute_forward_only(Backend{}, sigma, w); }) {
    method.compute_forward_only(Backend{}, sigma, w);
  } else {
    method_state_t<T, Method> state;
    solve<Backend, T>(method, sigma, w, state, covariance_size);
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

}  // namespace detail

template <class T>
matrix<T> covariance(embedding_cref<T> z, const options& opts, index_t group) {
  opts.validate();
  const group_shape shape = checked_group_shape(z.rows(), z.cols(), opts);
  SPECTRAL_EXPECTS(group >= 0 && group < opts.groups, "group: must be in [0, ", opts.groups,
                   "), got ", group);
  detail::expect_finite(z, "z");
  row_matrix<T> centered;
  detail::center<T>(z, centered, opts);
  const index_t width = z.cols() / opts.groups;
  return detail::as_whitening_layout(opts.axis, centered.middleCols(group * width, width),
                                     [&](auto x) {
                                       return cpu::backend::gram(
                                           x, static_cast<double>(shape.observations - 1),
                                           opts.eps);
                                     });
}

template <class T, spectral_method Method>
matrix<T> transform_matrix(const transform_context<T, Method>& ctx, index_t group) {
  SPECTRAL_EXPECTS(!ctx.groups.empty() && ctx.method.has_value(),
                   "ctx: the context is empty (forward was not called)");
  SPECTRAL_EXPECTS(group >= 0 && group < static_cast<index_t>(ctx.groups.size()),
                   "group: must be in [0, ", ctx.groups.size(), "), got ", group);
  const auto& g = ctx.groups[static_cast<std::size_t>(group)];
  if (!g.gram_side) {
    return g.transform;
  }
  // W from the Gram side's solution (K·M² + K²·M) where the method knows how, else from Σ.
  const group_shape shape = checked_group_shape(ctx.rows(), ctx.cols(), ctx.opts);
  const double divisor = static_cast<double>(shape.observations - 1);
  const index_t width = ctx.cols() / ctx.opts.groups;
  const auto x = [&] {  // K×M, the whitening layout
    return detail::as_whitening_layout(ctx.opts.axis, ctx.centered.middleCols(group * width, width),
                                       [](auto block) { return matrix<T>(block); });
  };
  const Method& method = *ctx.method;
  if constexpr (spectral_function_method<Method>) {
    return detail::spectral_function_from_gram<T>(method, g.state, x(), divisor, ctx.opts.eps);
  } else if constexpr (requires { method.transform_from_gram(g.state, matrix<T>{}, divisor); }) {
    return method.transform_from_gram(g.state, x(), divisor);
  } else {
    const matrix<T> sigma = covariance<T>(ctx.centered, ctx.opts, group);
    matrix<T> w;
    method_state_t<T, Method> state;
    detail::solve<cpu::backend, T>(method, sigma, w, state);
    return w;
  }
}

template <real_scalar T, spectral_method Method, class Backend>
matrix<T> spectral_transform<T, Method, Backend>::gradient(const typename context_type::group& g,
                                                           const matrix<T>& grad_w) const {
  if constexpr (spectral_function_method<Method>) {
    return detail::spectral_function_gradient<Backend, T>(method_, g.state, grad_w);
  } else {
    return method_.gradient(Backend{}, g.state, g.transform, grad_w);
  }
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::run(embedding_cref<T> z, embedding_ref<T> out,
                                                 context_type* ctx) const {
  const group_shape shape = checked_group_shape(z.rows(), z.cols(), opts_);
  detail::expect_shape(out, z.rows(), z.cols(), "out");
  detail::expect_finite(z, "z");

  row_matrix<T> scratch;  // Z_c of a call without context
  row_matrix<T>& centered = ctx != nullptr ? ctx->centered : scratch;
  if (ctx != nullptr) {
    ctx->opts = opts_;
    ctx->method.emplace(method_);  // copy-constructible is all a method needs to be
    ctx->groups.resize(static_cast<std::size_t>(opts_.groups));
  }
  const bool gram_side = detail::solves_on_gram_side(method_, opts_, shape);
  detail::center<T>(z, centered, opts_, ctx != nullptr ? &ctx->feature_mean : nullptr);
  const index_t width = z.cols() / opts_.groups;
  const double divisor = static_cast<double>(shape.observations - 1);

  for (index_t g = 0; g < opts_.groups; ++g) {
    typename context_type::group transient;  // a group without context, gone after this one
    auto& group = ctx != nullptr ? ctx->groups[static_cast<std::size_t>(g)] : transient;
    auto x_block = centered.middleCols(g * width, width);
    auto y_block = out.middleCols(g * width, width);
    group.gram_side = gram_side;
    // The K×K Σ = XXᵀ/(M−1), or on the smaller side the M×M G = XᵀX/(M−1); + eps·I either way.
    const matrix<T> sigma = detail::as_whitening_layout(opts_.axis, x_block, [&](auto x) {
      return gram_side ? Backend::gram(x.transpose(), divisor, opts_.eps)
                       : Backend::gram(x, divisor, opts_.eps);
    });
    detail::expect_not_constant<T>(Method::name(), sigma, opts_.eps,
                                   z.middleCols(g * width, width), g, shape.size);
    try {
      if (ctx != nullptr) {
        detail::solve<Backend, T>(method_, sigma, group.transform, group.state, shape.size);
      } else {
        detail::solve_forward_only<Backend, T>(method_, sigma, group.transform, shape.size);
      }
    } catch (const numerical_error& e) {
      SPECTRAL_FAIL(e.what(), " [group ", g, " of ", opts_.groups, ", ", to_string(opts_.axis),
                    " axis, K=", shape.size, ", M=", shape.observations, ", eps=", opts_.eps, "]");
    }
    const matrix<T>& w = group.transform;
    if (applies_from_left(group)) {
      y_block.noalias() = w * x_block;
    } else {
      y_block.noalias() = x_block * w.transpose();
    }
  }
  detail::ensure_finite_result(out, std::string(Method::name()) + " output");
}

template <real_scalar T, spectral_method Method, class Backend>
auto spectral_transform<T, Method, Backend>::forward(embedding_cref<T> z,
                                                     embedding_ref<T> out) const -> context_type {
  context_type ctx;
  run(z, out, &ctx);
  return ctx;
}

template <real_scalar T, spectral_method Method, class Backend>
auto spectral_transform<T, Method, Backend>::forward(embedding_cref<T> z) const -> result {
  result r;
  r.output.resize(z.rows(), z.cols());
  r.context = forward(z, r.output);
  return r;
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::apply(embedding_cref<T> z,
                                                   embedding_ref<T> out) const {
  run(z, out, nullptr);
}

template <real_scalar T, spectral_method Method, class Backend>
row_matrix<T> spectral_transform<T, Method, Backend>::apply(embedding_cref<T> z) const {
  row_matrix<T> out(z.rows(), z.cols());
  run(z, out, nullptr);
  return out;
}

template <real_scalar T, spectral_method Method, class Backend>
void spectral_transform<T, Method, Backend>::backward(const context_type& ctx,
                                                      embedding_cref<T> grad_out,
                                                      embedding_ref<T> grad_in) const {
  SPECTRAL_EXPECTS(!ctx.groups.empty(), "ctx: the context is empty (forward was not called)");
  SPECTRAL_EXPECTS(ctx.opts.groups == opts_.groups && ctx.opts.axis == opts_.axis,
                   "ctx: made by a transform with other options (axis ", to_string(ctx.opts.axis),
                   ", groups ", ctx.opts.groups, ")");
  detail::expect_shape(grad_out, ctx.rows(), ctx.cols(), "grad_out");
  detail::expect_shape(grad_in, ctx.rows(), ctx.cols(), "grad_in");
  detail::expect_finite(grad_out, "grad_out");

  const group_shape shape = checked_group_shape(ctx.rows(), ctx.cols(), opts_);
  const index_t width = ctx.cols() / opts_.groups;
  const T coupling = T(2) / static_cast<T>(shape.observations - 1);  // dΣ/dX_c factor

  // Backward writes grad_in while it still reads grad_out: read from a copy when they share
  // memory (e.g. an in-place backward), so aliasing costs a copy instead of a wrong gradient.
  row_matrix<T> grad_out_copy;
  if (detail::overlaps(grad_out, grad_in)) {
    grad_out_copy = grad_out;
    backward(ctx, grad_out_copy, grad_in);
    return;
  }

  for (index_t g = 0; g < opts_.groups; ++g) {
    const auto& group = ctx.groups[static_cast<std::size_t>(g)];
    auto x_block = ctx.centered.middleCols(g * width, width);
    auto gy_block = grad_out.middleCols(g * width, width);
    auto gx_block = grad_in.middleCols(g * width, width);
    const matrix<T>& w = group.transform;
    // Y_b = W Z_b (from the left) or Z_b Wᵀ, with Σ (or G) = Z_b Z_bᵀ or Z_bᵀ Z_b over (M−1).
    const bool left = applies_from_left(group);
    const matrix<T> grad_w = left ? matrix<T>(gy_block * x_block.transpose())
                                  : matrix<T>(gy_block.transpose() * x_block);
    const matrix<T> grad_sigma = gradient(group, grad_w);
    const matrix<T> sym = T(0.5) * coupling * (grad_sigma + grad_sigma.transpose());
    if (left) {
      gx_block.noalias() = w.transpose() * gy_block;
      gx_block.noalias() += sym * x_block;
    } else {
      gx_block.noalias() = gy_block * w;
      gx_block.noalias() += x_block * sym;
    }
    if (opts_.axis == axis::features) {  // the centring's Jacobian: each feature over the batch
      gx_block.rowwise() -= gx_block.colwise().mean().eval();
    } else {  // each sample over its features
      gx_block.colwise() -= gx_block.rowwise().mean().eval();
    }
  }
  detail::ensure_finite_result(grad_in, std::string(Method::name()) + " gradient");
}

template <real_scalar T, spectral_method Method, class Backend>
row_matrix<T> spectral_transform<T, Method, Backend>::backward(const context_type& ctx,
                                                               embedding_cref<T> grad_out) const {
  row_matrix<T> grad_in(ctx.rows(), ctx.cols());
  backward(ctx, grad_out, grad_in);
  return grad_in;
}

}  // namespace spectral
