// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/error.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/core/types.hpp>
#include <spectral/losses/normalized_mse.hpp>
#include <spectral/losses/trace_loss.hpp>
#include <spectral/methods/iter_norm.hpp>

#include <cmath>
#include <vector>

namespace spectral {

/**
 * @brief The INTL objective for V ≥ 2 views (Weng et al., ICLR 2024, §4; spec §5.2):
 *        L = (1/(V−1)) Σ_{i≥1} [nMSE(Ẑ^i, Ẑ^0) + β TL(Ẑ^i)] + β TL(Ẑ^0), Ẑ^i = ST(Z^i).
 *
 * View 0 is the anchor: the other views are compared only with it, its trace loss weighs β and
 * the others' β/(V−1). Each view is transformed over its own batch. Gradients flow through the
 * transform into every view (no stop-gradient), as in the reference `intl` method.
 */
template <real_scalar T, spectral_method Method = iter_norm, class Backend = cpu::backend>
class intl_objective {
 public:
  using transform_type = spectral_transform<T, Method, Backend>;

  /// The value and its two parts (alignment = the nMSE average, trace = the weighted TL sum / β).
  struct terms {
    T total{};
    T alignment{};
    T trace{};
  };

  /// @throws invalid_input when beta is negative or not finite.
  intl_objective(transform_type transform, double beta)
      : transform_(std::move(transform)), beta_(beta) {
    SPECTRAL_EXPECTS(std::isfinite(beta) && beta >= 0.0, "beta: must be finite and >= 0, got ",
                     beta);
  }

  /**
   * @brief Evaluates L and, when `grads` is non-null, ∂L/∂Z^v for every view.
   * @param views V ≥ 2 embeddings of one shape (N×D)
   * @param grads resized to V matrices of N×D
   * @throws invalid_input for fewer than 2 views or mismatched shapes; whatever the transform throws
   */
  terms evaluate(const std::vector<row_matrix<T>>& views,
                 std::vector<row_matrix<T>>* grads = nullptr) const;

  [[nodiscard]] const transform_type& transform() const noexcept { return transform_; }
  [[nodiscard]] double beta() const noexcept { return beta_; }

 private:
  transform_type transform_;
  double beta_;
};

// --- implementation -----------------------------------------------------------------------------

template <real_scalar T, spectral_method Method, class Backend>
auto intl_objective<T, Method, Backend>::evaluate(const std::vector<row_matrix<T>>& views,
                                                  std::vector<row_matrix<T>>* grads) const
    -> terms {
  const std::size_t count = views.size();
  SPECTRAL_EXPECTS(count >= 2, "views: the INTL objective needs at least 2 views, got ", count);
  for (std::size_t v = 1; v < count; ++v) {
    SPECTRAL_EXPECTS(views[v].rows() == views[0].rows() && views[v].cols() == views[0].cols(),
                     "views: view ", v, " is ", views[v].rows(), "x", views[v].cols(),
                     " but view 0 is ", views[0].rows(), "x", views[0].cols());
  }
  const axis a = transform_.opts().axis;
  const T others = T(1) / static_cast<T>(count - 1);
  const T beta = static_cast<T>(beta_);
  const bool want_grad = grads != nullptr;

  std::vector<row_matrix<T>> outputs(count);
  std::vector<typename transform_type::context_type> contexts;
  contexts.reserve(count);
  std::vector<row_matrix<T>> grad_out(count);
  for (std::size_t v = 0; v < count; ++v) {
    outputs[v].resize(views[v].rows(), views[v].cols());
    contexts.push_back(transform_.forward(views[v], outputs[v]));
    grad_out[v] = row_matrix<T>::Zero(views[v].rows(), views[v].cols());
  }

  terms out;
  row_matrix<T> grad_a(outputs[0].rows(), outputs[0].cols());
  row_matrix<T> grad_b(outputs[0].rows(), outputs[0].cols());
  embedding_ref<T> ref_a(grad_a);
  embedding_ref<T> ref_b(grad_b);
  for (std::size_t v = 0; v < count; ++v) {
    const T weight = v == 0 ? T(1) : others;
    out.trace += weight * trace_loss<T>(outputs[v], a, want_grad ? &ref_a : nullptr);
    if (want_grad) {
      grad_out[v] += (beta * weight) * grad_a;
    }
    if (v == 0) {
      continue;
    }
    out.alignment += others * normalized_mse<T>(outputs[v], outputs[0], want_grad ? &ref_a : nullptr,
                                                want_grad ? &ref_b : nullptr);
    if (want_grad) {
      grad_out[v] += others * grad_a;
      grad_out[0] += others * grad_b;
    }
  }
  out.total = out.alignment + beta * out.trace;
  if (want_grad) {
    grads->resize(count);
    for (std::size_t v = 0; v < count; ++v) {
      (*grads)[v] = transform_.backward(contexts[v], grad_out[v]);
    }
  }
  return out;
}

}  // namespace spectral
