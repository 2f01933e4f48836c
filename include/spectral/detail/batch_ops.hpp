// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/status.hpp>

#include <cmath>

/// @file
/// What the algorithm uses of a backend, with the scalar type fixed (so mutable batches convert
/// to read-only ones at the call), and the elementwise steps every method shares, as functors
/// for Backend::for_each_entry.

namespace spectral::detail {

/// `count` packed size×size matrices in a buffer (or `count` columns of `size` for size×1).
template <class Buffer>
[[nodiscard]] auto square_batch(Buffer& buffer, index_t size, index_t count, index_t cols = -1) {
  return dense_batch(buffer.data(), size, cols < 0 ? size : cols, count);
}

/// A batch of `count` scalars, one per matrix (1×1, stride 1).
template <class T>
[[nodiscard]] batch<T> scalar_batch(T* data, index_t count) {
  return {data, 1, 1, 1, 1, count};
}

// --- shared elementwise steps (launched over the extent of their output) ------------------------

/// out = α·in + β·inᵀ per matrix (out may be neither in's memory nor overlap it).
template <class T>
struct combine_transpose {
  batch<const T> in;
  batch<T> out;
  T alpha;
  T beta;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = alpha * in(b, i, j) + beta * in(b, j, i);
  }
};

/// Copies the lower triangle over the upper one (launched over the full square).
template <class T>
struct mirror_lower_entries {
  batch<T> a;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    if (i < j) {
      a(b, i, j) = a(b, j, i);
    }
  }
};

/// a += shift·I.
template <class T>
struct add_identity {
  batch<T> a;
  T shift;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t /*j*/) const {
    a(b, i, i) += shift;
  }
};

/// out = scale·I (launched over the full square).
template <class T>
struct fill_identity {
  batch<T> out;
  T scale;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = i == j ? scale : T(0);
  }
};

/// out = in (any shapes with the same extent).
template <class T>
struct copy_entries {
  batch<const T> in;
  batch<T> out;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    out(b, i, j) = in(b, i, j);
  }
};

/// y += α·x.
template <class T>
struct add_scaled {
  batch<const T> x;
  batch<T> y;
  T alpha;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    y(b, i, j) += alpha * x(b, i, j);
  }
};

/// The constant-input check: Σ (before eps) no larger than the rounding noise centring leaves
/// in a constant input, ≈ K·(2ε·max|z|)², means every observation is identical and a transform
/// would only amplify noise. `trace` is tr Σ before eps (or of the Gram: the same), `largest`
/// max|z| of the group's input; launched over one entry per group.
template <class T>
struct check_not_constant {
  const T* trace;
  const T* largest;
  double covariance_size;  ///< K
  double epsilon;          ///< the scalar type's machine epsilon
  status_word* status;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t /*i*/, index_t /*j*/) const {
    const double noise = 4.0 * epsilon * static_cast<double>(largest[b]);
    const double t = static_cast<double>(trace[b]);
    const double floor = covariance_size * noise * noise;
    if (!(t > floor)) {
      report(status, status_constant_input, static_cast<int>(b), t, floor);
    }
  }
};

}  // namespace spectral::detail
