// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// INTL's losses written once against a backend's primitives (core/backend.hpp): the trace
/// loss and the normalised MSE, value and gradient, over embeddings seen column-major (the
/// N×D row-major embedding is one D×N matrix; embedding_view::columns()). The CPU entry points
/// (trace_loss.hpp, normalized_mse.hpp) and the CUDA ones (cuda/losses.cuh) check their
/// arguments and call these. Nothing here reads a number back to the host.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/options.hpp>

#include <cmath>
#include <type_traits>

namespace spectral::detail {

/// Norms below this are clamped, as torch.nn.functional.normalize does.
inline constexpr double normalize_min_norm = 1e-12;

// --- elementwise steps --------------------------------------------------------------------------

/// excess[k] = squares[k]/(M − 1) − 1: how far line k's variance is from 1 (one entry per k).
template <class T>
struct variance_excess {
  const T* squares;
  T* excess;
  T inverse_divisor;
  SPECTRAL_HOST_DEVICE void operator()(index_t /*b*/, index_t k, index_t /*j*/) const {
    excess[k] = squares[k] * inverse_divisor - T(1);
  }
};

/// grad (+)= factor · excess[k] · centered, with k the row (features axis) or the column (samples
/// axis) of the D×N matrix: ∂/∂y of Σ_k (d_k − 1)² is 4 (d_k − 1)(y − ȳ_k)/(M − 1).
template <class T>
struct trace_loss_gradient {
  batch<const T> centered;
  batch<T> grad;
  const T* excess;
  T factor;
  bool per_row;
  bool accumulate;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    const T g = factor * excess[per_row ? i : j] * centered(b, i, j);
    grad(b, i, j) = accumulate ? grad(b, i, j) + g : g;
  }
};

/// Per sample n: the clamped norms of a_n and b_n and the cosine ⟨a_n, b_n⟩/(‖a_n‖‖b_n‖).
template <class T>
struct cosine_terms {
  const T* aa;  ///< ‖a_n‖²
  const T* bb;
  const T* ab;  ///< ⟨a_n, b_n⟩
  T* norm_a;
  T* norm_b;
  T* cosine;
  SPECTRAL_HOST_DEVICE void operator()(index_t /*b*/, index_t n, index_t /*j*/) const {
    const T floor = static_cast<T>(normalize_min_norm);
    const T root_a = std::sqrt(aa[n]);
    const T root_b = std::sqrt(bb[n]);
    const T na = root_a > floor ? root_a : floor;
    const T nb = root_b > floor ? root_b : floor;
    norm_a[n] = na;
    norm_b[n] = nb;
    cosine[n] = ab[n] / (na * nb);
  }
};

/// ∂nMSE/∂a and ∂nMSE/∂b for sample n (column j of the D×N matrices):
/// −(2/N)(v_n − cos_n·u_n)/‖a_n‖ with u = a/‖a‖, v = b/‖b‖ (and the same with a and b swapped);
/// on a clamped row the divisor is the constant floor, so the projection term vanishes.
/// `factor` is −scale·2/N. Both entries are read before either gradient is written, so a
/// gradient may be written over its own input. A gradient with null data is skipped.
template <class T>
struct normalized_mse_gradients {
  batch<const T> a;
  batch<const T> b;
  batch<T> grad_a;
  batch<T> grad_b;
  const T* norm_a;
  const T* norm_b;
  const T* cosine;
  T factor;
  bool accumulate;
  SPECTRAL_HOST_DEVICE void operator()(index_t m, index_t i, index_t j) const {
    const T floor = static_cast<T>(normalize_min_norm);
    const T u = a(m, i, j) / norm_a[j];
    const T v = b(m, i, j) / norm_b[j];
    if (grad_a.data != nullptr) {
      const T g = factor * (v - (norm_a[j] > floor ? cosine[j] * u : T(0))) / norm_a[j];
      grad_a(m, i, j) = accumulate ? grad_a(m, i, j) + g : g;
    }
    if (grad_b.data != nullptr) {
      const T g = factor * (u - (norm_b[j] > floor ? cosine[j] * v : T(0))) / norm_b[j];
      grad_b(m, i, j) = accumulate ? grad_b(m, i, j) + g : g;
    }
  }
};

/// out[k] = value for k < length.
template <class T>
struct fill_values {
  T* out;
  T value;
  SPECTRAL_HOST_DEVICE void operator()(index_t /*b*/, index_t k, index_t /*j*/) const {
    out[k] = value;
  }
};

/// *value = offset + factor · *value (one entry).
template <class T>
struct affine_in_place {
  T* value;
  T offset;
  T factor;
  SPECTRAL_HOST_DEVICE void operator()(index_t /*b*/, index_t /*i*/, index_t /*j*/) const {
    *value = offset + factor * *value;
  }
};

// --- the losses ---------------------------------------------------------------------------------

/// The lines of a D×N matrix that the variances run along: its rows (features axis: D matrices
/// of 1×N) or its columns (samples axis: N matrices of D×1), as one batch.
template <class T>
[[nodiscard]] batch<T> variance_lines(batch<T> columns, axis a) {
  if (a == axis::features) {
    return {columns.data, 1, columns.cols, columns.ld, 1, columns.rows};
  }
  return {columns.data, columns.rows, 1, columns.ld, columns.ld, columns.cols};
}

/**
 * @brief INTL's trace loss TL = Σ_k (d_k − 1)² of y (D×N), into value[0] (backend memory);
 *        with `grad` (D×N), grad = scale·∂TL/∂y, or grad += it when `accumulate`.
 *
 * d_k is the variance (divisor M − 1) of line k of the whitening layout: over the D features of
 * sample k (samples axis) or over the N samples of feature k (features axis). The caller has
 * checked the shapes and that M ≥ 2.
 */
template <class Backend, class T>
void trace_loss_steps(const primitives<Backend, T>& p,
                      std::type_identity_t<batch<const T>> y,
                      axis a,
                      T* value,
                      const batch<T>* grad,
                      T scale,
                      bool accumulate) {
  const index_t d = y.rows;
  const index_t n = y.cols;
  const bool features = a == axis::features;
  const index_t lines = features ? d : n;         // K
  const index_t observations = features ? n : d;  // M
  // One buffer: the centred y (D×N), the sums of squares and the excesses (K each).
  auto scratch = p.allocate(d * n + 2 * lines);
  const batch<T> centered = dense_batch(scratch.data(), d, n, 1);
  T* squares = scratch.data() + d * n;
  T* excess = squares + lines;
  p.center(y, centered, features ? mean_over::columns : mean_over::rows, nullptr);
  const batch<const T> line_batch = variance_lines(batch<const T>(centered), a);
  p.dot(line_batch, line_batch, squares);
  p.for_each(extent{1, lines, 1},
             variance_excess<T>{squares, excess,
                                static_cast<T>(1.0 / static_cast<double>(observations - 1))});
  const batch<const T> excess_column = dense_batch(static_cast<const T*>(excess), lines, 1, 1);
  p.dot(excess_column, excess_column, value);
  if (grad != nullptr) {
    const T factor = scale * static_cast<T>(4.0 / static_cast<double>(observations - 1));
    p.for_each(extent::of(*grad),
               trace_loss_gradient<T>{centered, *grad, excess, factor, features, accumulate});
  }
}

/**
 * @brief The normalised MSE 2 − (2/N) Σ_n ⟨a_n/‖a_n‖, b_n/‖b_n‖⟩ of two D×N matrices (sample n
 *        is column n) into value[0]; grad_a, grad_b (if non-null) = scale·∂/∂a, ∂/∂b, or += when
 *        `accumulate`. The caller has checked that the shapes agree and are non-empty.
 */
template <class Backend, class T>
void normalized_mse_steps(const primitives<Backend, T>& p,
                          std::type_identity_t<batch<const T>> a,
                          std::type_identity_t<batch<const T>> b,
                          T* value,
                          const batch<T>* grad_a,
                          const batch<T>* grad_b,
                          T scale,
                          bool accumulate) {
  const index_t n = a.cols;
  // One buffer of 7 per-sample terms: ‖a‖², ‖b‖², ⟨a, b⟩, the two clamped norms, the cosine, 1.
  auto scratch = p.allocate(7 * n);
  T* aa = scratch.data();
  T* bb = aa + n;
  T* ab = bb + n;
  T* norm_a = ab + n;
  T* norm_b = norm_a + n;
  T* cosine = norm_b + n;
  T* ones = cosine + n;
  const batch<const T> a_samples = variance_lines(a, axis::samples);
  const batch<const T> b_samples = variance_lines(b, axis::samples);
  p.dot(a_samples, a_samples, aa);
  p.dot(b_samples, b_samples, bb);
  p.dot(a_samples, b_samples, ab);
  p.for_each(extent{1, n, 1}, cosine_terms<T>{aa, bb, ab, norm_a, norm_b, cosine});
  p.for_each(extent{1, n, 1}, fill_values<T>{ones, T(1)});
  const T two_over_n = static_cast<T>(2.0 / static_cast<double>(n));
  p.dot(dense_batch(static_cast<const T*>(cosine), n, 1, 1),
        dense_batch(static_cast<const T*>(ones), n, 1, 1), value);
  p.for_each(extent{1, 1, 1}, affine_in_place<T>{value, T(2), -two_over_n});
  if (grad_a != nullptr || grad_b != nullptr) {
    p.for_each(extent::of(a),
               normalized_mse_gradients<T>{a, b, grad_a != nullptr ? *grad_a : batch<T>{},
                                           grad_b != nullptr ? *grad_b : batch<T>{}, norm_a, norm_b,
                                           cosine, -scale * two_over_n, accumulate});
  }
}

}  // namespace spectral::detail
