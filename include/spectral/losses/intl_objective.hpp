// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// intl_objective: INTL's loss over V views (alignment plus trace loss) and its gradient through
/// the transform, on any backend.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/core/types.hpp>
#include <spectral/losses/loss_steps.hpp>
#include <spectral/losses/normalized_mse.hpp>
#include <spectral/losses/trace_loss.hpp>
#include <spectral/methods/iter_norm.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

namespace spectral {

/**
 * @brief The INTL objective for V ≥ 2 views (Weng et al., ICLR 2024, Sec. 4;
 *        `docs/math.md#intl-loss`):
 *        L = (1/(V−1)) Σ_{i≥1} [nMSE(Ẑ^i, Ẑ^0) + β TL(Ẑ^i)] + β TL(Ẑ^0), Ẑ^i = ST(Z^i).
 *
 * View 0 is the anchor: the other views are compared only with it, its trace loss weighs β and
 * the others' β/(V−1). Each view is transformed over its own batch. Gradients flow through the
 * transform into every view (no stop-gradient), as in the reference `intl` method.
 *
 * Written once for every backend: the CPU takes Eigen matrices, a device backend (CUDA) views
 * of its memory and a stream; both run the same steps (losses/loss_steps.hpp).
 */
template <real_scalar T, spectral_method Method = iter_norm, class Backend = cpu::backend>
class intl_objective {
 public:
  /// The transform applied to every view.
  using transform_type = spectral_transform<T, Method, Backend>;
  /// The backend's execution stream (CUDA: cudaStream_t; the CPU: unused).
  using stream_type = typename transform_type::stream_type;

  /// The value and its two parts (alignment = the nMSE average, trace = the weighted TL sum / β).
  struct terms {
    T total{};      ///< L
    T alignment{};  ///< (1/(V−1)) Σ_{i≥1} nMSE(Ẑ^i, Ẑ^0)
    T trace{};      ///< TL(Ẑ^0) + (1/(V−1)) Σ_{i≥1} TL(Ẑ^i): L = alignment + β·trace
  };

  /// @param transform the transform every view goes through
  /// @param beta      the trace loss weight β (see trade_off_beta())
  /// @throws invalid_input when beta is negative or not finite.
  intl_objective(transform_type transform, double beta)
      : transform_(std::move(transform)),
        beta_(beta),
        backend_(detail::make_backend<Backend>(transform_.config())) {
    SPECTRAL_EXPECTS(std::isfinite(beta) && beta >= 0.0, "beta: must be finite and >= 0, got ",
                     beta);
  }

  /**
   * @brief Evaluates L and, when `grads` is non-null, ∂L/∂Z^v for every view.
   * @param views V ≥ 2 embeddings of one shape (N×D)
   * @param grads resized to V matrices of N×D
   * @throws invalid_input for fewer than 2 views or mismatched shapes; whatever the transform
   * throws
   */
  terms evaluate(
      const std::vector<row_matrix<T>>& views,
      std::vector<row_matrix<T>>* grads = nullptr) const requires detail::host_backend<Backend>;

  /**
   * @brief L and, when `grads` is non-empty, ∂L/∂Z^v written into grads[v] (device memory).
   * @note Synchronises `stream` once, to return the terms.
   * @throws invalid_input for fewer than 2 views, mismatched shapes or a grads list of another
   *         length; whatever the transform throws
   */
  terms evaluate(const std::vector<embedding_view<const T>>& views,
                 const std::vector<embedding_view<T>>& grads = {},
                 stream_type stream = {}) const requires(!detail::host_backend<Backend>);

  /// The transform every view goes through.
  [[nodiscard]] const transform_type& transform() const noexcept { return transform_; }
  /// The trace loss weight β.
  [[nodiscard]] double beta() const noexcept { return beta_; }

 private:
  /// The algorithm: forward(v, out) → context, the losses on the backend, backward(ctx, g, v).
  template <class Forward, class Backward>
  terms run(std::span<const embedding_view<const T>> views,
            std::span<const embedding_view<T>> grads,
            const Forward& forward,
            const Backward& backward) const;

  transform_type transform_;
  double beta_;
  mutable Backend backend_;  ///< runs the losses (CUDA: handles, bound to the caller's stream)
};

// --- implementation -----------------------------------------------------------------------------

namespace detail {
/// Checks the views of the INTL objective: at least 2, all of view 0's shape.
template <class Shape>
void expect_views(std::size_t count, const Shape& shape_of) {
  SPECTRAL_EXPECTS(count >= 2, "views: the INTL objective needs at least 2 views, got ", count);
  const auto [n, d] = shape_of(0);
  for (std::size_t v = 1; v < count; ++v) {
    const auto [rows, cols] = shape_of(v);
    SPECTRAL_EXPECTS(rows == n && cols == d, "views: view ", v, " is ", rows, "x", cols,
                     " but view 0 is ", n, "x", d);
  }
}
}  // namespace detail

// Doxygen does not match this definition to its (private) declaration and would list it as a
// public, undocumented member: hidden from it.
/// @cond
template <real_scalar T, spectral_method Method, class Backend>
template <class Forward, class Backward>
auto intl_objective<T, Method, Backend>::run(std::span<const embedding_view<const T>> views,
                                             std::span<const embedding_view<T>> grads,
                                             const Forward& forward,
                                             const Backward& backward) const -> terms {
  const std::size_t count = views.size();
  const index_t n = views[0].rows;
  const index_t d = views[0].cols;
  const index_t plane = n * d;
  const axis a = transform_.opts().axis;
  const T others = T(1) / static_cast<T>(count - 1);
  const T beta = static_cast<T>(beta_);
  const bool want_grad = !grads.empty();
  const primitives<Backend, T> p{backend_};
  const auto views_count = static_cast<index_t>(count);

  // Every view's Y and ∂L/∂Y back to back; the scalars: TL of each view, then the nMSE of
  // views 1 … V−1 against view 0.
  auto outputs = p.allocate(views_count * plane);
  auto grad_out = p.allocate(want_grad ? views_count * plane : 0);
  auto values = p.allocate(2 * views_count - 1);
  const auto output_view = [&](std::size_t v) {
    return embedding_view<T>(outputs.data() + static_cast<index_t>(v) * plane, n, d);
  };
  const auto grad_columns = [&](std::size_t v) {
    return embedding_view<T>(grad_out.data() + static_cast<index_t>(v) * plane, n, d).columns();
  };

  std::vector<typename transform_type::context_type> contexts;
  contexts.reserve(count);
  for (std::size_t v = 0; v < count; ++v) {
    contexts.push_back(forward(views[v], output_view(v)));
  }
  // Each view's gradient is first written by its trace loss, then the nMSE terms add to it.
  for (std::size_t v = 0; v < count; ++v) {
    const T weight = v == 0 ? T(1) : others;
    const batch<T> g = want_grad ? grad_columns(v) : batch<T>{};
    detail::trace_loss_steps(p, output_view(v).columns(), a, values.data() + v,
                             want_grad ? &g : nullptr, beta * weight, false);
    if (v == 0) {
      continue;
    }
    const batch<T> g0 = want_grad ? grad_columns(0) : batch<T>{};
    detail::normalized_mse_steps(p, output_view(v).columns(), output_view(0).columns(),
                                 values.data() + count + v - 1, want_grad ? &g : nullptr,
                                 want_grad ? &g0 : nullptr, others, true);
  }
  if (want_grad) {
    for (std::size_t v = 0; v < count; ++v) {
      backward(contexts[v],
               embedding_view<const T>(grad_out.data() + static_cast<index_t>(v) * plane, n, d),
               grads[v]);
    }
  }
  const std::vector<T> host = backend_.template download<T>(values.data(), 2 * views_count - 1);
  terms out;
  for (std::size_t v = 0; v < count; ++v) {
    out.trace += (v == 0 ? T(1) : others) * host[v];
    if (v > 0) {
      out.alignment += others * host[count + v - 1];
    }
  }
  out.total = out.alignment + beta * out.trace;
  return out;
}
/// @endcond

template <real_scalar T, spectral_method Method, class Backend>
auto intl_objective<T, Method, Backend>::evaluate(const std::vector<row_matrix<T>>& views,
                                                  std::vector<row_matrix<T>>* grads) const
    -> terms requires detail::host_backend<Backend> {
  detail::expect_views(views.size(), [&](std::size_t v) {
    return std::pair{views[v].rows(), views[v].cols()};
  });
  std::vector<embedding_view<const T>> inputs;
  for (const row_matrix<T>& z : views) {
    inputs.emplace_back(z.data(), z.rows(), z.cols());
  }
  std::vector<embedding_view<T>> outputs;
  if (grads != nullptr) {
    grads->resize(views.size());
    for (row_matrix<T>& g : *grads) {
      g.resize(views[0].rows(), views[0].cols());
      outputs.emplace_back(g.data(), g.rows(), g.cols());
    }
  }
  using const_map = Eigen::Map<const row_matrix<T>, 0, Eigen::OuterStride<>>;
  using map = Eigen::Map<row_matrix<T>, 0, Eigen::OuterStride<>>;
  const auto host = [](auto view) {
    using M = std::conditional_t<std::is_const_v<std::remove_pointer_t<decltype(view.data)>>,
                                 const_map, map>;
    return M(view.data, view.rows, view.cols, Eigen::OuterStride<>(view.row_stride));
  };
  return run(
      inputs, outputs,
      [&](embedding_view<const T> z, embedding_view<T> out) {
        map out_map = host(out);
        return transform_.forward(host(z), out_map);
      },
      [&](const auto& ctx, embedding_view<const T> g, embedding_view<T> into) {
        map into_map = host(into);
        transform_.backward(ctx, host(g), into_map);
      });
}

template <real_scalar T, spectral_method Method, class Backend>
auto intl_objective<T, Method, Backend>::evaluate(const std::vector<embedding_view<const T>>& views,
                                                  const std::vector<embedding_view<T>>& grads,
                                                  stream_type stream) const -> terms
    requires(!detail::host_backend<Backend>) {
  detail::expect_views(views.size(), [&](std::size_t v) {
    return std::pair{views[v].rows, views[v].cols};
  });
  SPECTRAL_EXPECTS(grads.empty() || grads.size() == views.size(), "grads: expected ", views.size(),
                   " gradient views, got ", grads.size());
  for (std::size_t v = 0; v < views.size(); ++v) {
    detail::expect_view(views[v], views[0].rows, views[0].cols, "views");
  }
  for (const embedding_view<T>& g : grads) {
    detail::expect_view(g, views[0].rows, views[0].cols, "grads");
  }
  backend_.bind(stream);
  return run(
      views, grads,
      [&](embedding_view<const T> z, embedding_view<T> out) {
        return transform_.forward(z, out, stream);
      },
      [&](const auto& ctx, embedding_view<const T> g, embedding_view<T> into) {
        transform_.backward(ctx, g, into, stream);
      });
}

}  // namespace spectral
