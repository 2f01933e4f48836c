// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Seeded test data in double: anisotropic embeddings (z = randn·A + offset), covariances with an
/// exactly prescribed spectrum (isotropic, near-degenerate, rank-deficient;
/// docs/math.md#check-10) and the mapping between the K×M whitening layout and the N×D embedding
/// (docs/math.md#notation).
/// Everything is a pure function of its seed.

#include <common/reference.hpp>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

namespace spectral_test {

using rng_t = std::mt19937_64;
using reference::axis;

/// Standard normal N(0, 1) entries.
inline Eigen::MatrixXd randn(Eigen::Index rows, Eigen::Index cols, rng_t& rng) {
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index c = 0; c < cols; ++c) {
    for (Eigen::Index r = 0; r < rows; ++r) {
      m(r, c) = normal(rng);
    }
  }
  return m;
}

inline Eigen::MatrixXd randn(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  rng_t rng(seed);
  return randn(rows, cols, rng);
}

/// N×D row-major standard normal matrix filled in memory order (the losses' tests' data).
inline Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_gaussian(
    Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = normal(gen);
  }
  return m;
}

/// Anisotropic on both axes: diag(1..3)·(I + 0.3 G/√N) · G' · (I + 0.3 G''/√D), row-major.
inline Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_anisotropic(
    Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  const Eigen::VectorXd scale = Eigen::VectorXd::LinSpaced(rows, 1.0, 3.0);
  const Eigen::MatrixXd left = scale.asDiagonal() * (Eigen::MatrixXd::Identity(rows, rows) +
                                                     0.3 / std::sqrt(static_cast<double>(rows)) *
                                                         row_gaussian(rows, rows, seed + 1));
  const Eigen::MatrixXd right =
      Eigen::MatrixXd::Identity(cols, cols) +
      0.3 / std::sqrt(static_cast<double>(cols)) * row_gaussian(cols, cols, seed + 2);
  return left * row_gaussian(rows, cols, seed) * right;
}

/// Haar-distributed orthogonal matrix (QR of a Gaussian matrix with R's diagonal made positive).
inline Eigen::MatrixXd random_orthogonal(Eigen::Index k, rng_t& rng) {
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(randn(k, k, rng));
  Eigen::MatrixXd q = qr.householderQ();
  const Eigen::MatrixXd r = qr.matrixQR().triangularView<Eigen::Upper>();
  for (Eigen::Index j = 0; j < k; ++j) {
    if (r(j, j) < 0.0) {
      q.col(j) = -q.col(j);
    }
  }
  return q;
}

/// k eigenvalues from `largest` down to largest/condition, geometrically spaced (descending).
inline Eigen::VectorXd log_spaced(Eigen::Index k, double largest, double condition) {
  Eigen::VectorXd v(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    const double t = k == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(k - 1);
    v(i) = largest * std::pow(condition, -t);
  }
  return v;
}

/// Random per-row offset b (K-vector, entries in ±scale): X + b 1ᵀ must not change any output.
inline Eigen::VectorXd random_offset(Eigen::Index k, double scale, rng_t& rng) {
  std::uniform_real_distribution<double> uniform(-scale, scale);
  Eigen::VectorXd b(k);
  for (Eigen::Index i = 0; i < k; ++i) {
    b(i) = uniform(rng);
  }
  return b;
}

/**
 * @brief K×M layout X = A·randn(K, M) + b 1ᵀ with A = Q diag(√λ), λ log-spaced over `condition`.
 * E[Σ] = A Aᵀ has condition number `condition`; the sample Σ spreads it by (1 ± √(K/M))².
 */
inline Eigen::MatrixXd anisotropic_layout(Eigen::Index k,
                                          Eigen::Index m,
                                          double condition,
                                          std::uint64_t seed,
                                          double offset_scale = 2.0) {
  rng_t rng(seed);
  const Eigen::MatrixXd a =
      random_orthogonal(k, rng) * log_spaced(k, 1.0, condition).cwiseSqrt().asDiagonal();
  Eigen::MatrixXd x = a * randn(k, m, rng);
  x.colwise() += random_offset(k, offset_scale, rng);
  return x;
}

/// The brief's N×D form z = randn(N, D)·A + 1 bᵀ (anisotropic over the D features).
inline Eigen::MatrixXd anisotropic(Eigen::Index n,
                                   Eigen::Index d,
                                   double condition,
                                   std::uint64_t seed,
                                   double offset_scale = 2.0) {
  return anisotropic_layout(d, n, condition, seed, offset_scale).transpose();
}

/// K×M matrix whose rows are orthonormal and orthogonal to 1_M (needs K ≤ M − 1).
inline Eigen::MatrixXd orthonormal_centered_rows(Eigen::Index k, Eigen::Index m, rng_t& rng) {
  if (k > m - 1) {
    throw std::invalid_argument("orthonormal_centered_rows: needs K <= M - 1");
  }
  Eigen::MatrixXd g = randn(m, k, rng);
  g.rowwise() -= g.colwise().mean();  // remove the all-ones direction from every column
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, k);
  return q.transpose();
}

/**
 * @brief K×M layout whose covariance (divisor M−1) is exactly U diag(λ) Uᵀ for a random U,
 *        up to rounding (~1e-15). Zero entries of λ give a rank-deficient Σ; needs K ≤ M − 1.
 */
inline Eigen::MatrixXd spectrum_layout(const Eigen::VectorXd& eigenvalues,
                                       Eigen::Index m,
                                       std::uint64_t seed,
                                       double offset_scale = 2.0) {
  rng_t rng(seed);
  const Eigen::Index k = eigenvalues.size();
  const Eigen::MatrixXd u = random_orthogonal(k, rng);
  const Eigen::MatrixXd rows = orthonormal_centered_rows(k, m, rng);
  const double scale = std::sqrt(static_cast<double>(m - 1));
  Eigen::MatrixXd x = scale * u * eigenvalues.cwiseMax(0.0).cwiseSqrt().asDiagonal() * rows;
  x.colwise() += random_offset(k, offset_scale, rng);
  return x;
}

/// docs/math.md#check-10: K×M layout with Σ = c² I exactly (to ~1e-13).
inline Eigen::MatrixXd isotropic_layout(
    Eigen::Index k, Eigen::Index m, double c, std::uint64_t seed, double offset_scale = 2.0) {
  return spectrum_layout(Eigen::VectorXd::Constant(k, c * c), m, seed, offset_scale);
}

/// K eigenvalues log-spaced in [1, 4] except that the two smallest are 1 and 1 + gap
/// (relative eigen-gap `gap`, docs/math.md#check-20); gap = 0 gives an exactly repeated pair.
inline Eigen::VectorXd eigenvalues_with_gap(Eigen::Index k, double gap) {
  Eigen::VectorXd v = log_spaced(k, 4.0, 4.0);  // 4 … 1, descending
  v(k - 2) = 1.0 + gap;
  v(k - 1) = 1.0;
  return v;
}

// --- K×M layout ↔ N×D embedding -----------------------------------------------------------------

struct layout_shape {
  Eigen::Index size;          ///< K
  Eigen::Index observations;  ///< M
};

/// The K×M shape of one group of an N×D embedding (docs/math.md#notation).
inline layout_shape shape_of(Eigen::Index n, Eigen::Index d, axis ax, int groups = 1) {
  const Eigen::Index width = d / groups;
  return ax == axis::features ? layout_shape{width, n} : layout_shape{n, width};
}

/// One group's N×(D/G) block from its K×M layout: Xᵀ on the features axis, X on samples.
inline Eigen::MatrixXd to_embedding(const Eigen::MatrixXd& x, axis ax) {
  return ax == axis::features ? Eigen::MatrixXd(x.transpose()) : x;
}

/// One group's K×M layout from an N×D embedding (the inverse of to_embedding + concatenation).
inline Eigen::MatrixXd layout_of(const Eigen::MatrixXd& z, axis ax, int groups = 1, int group = 0) {
  const Eigen::Index width = z.cols() / groups;
  const Eigen::MatrixXd block = z.middleCols(group * width, width);
  return ax == axis::features ? Eigen::MatrixXd(block.transpose()) : block;
}

/// N×D embedding whose G column blocks have the given K×M layouts.
inline Eigen::MatrixXd from_layouts(const std::vector<Eigen::MatrixXd>& layouts, axis ax) {
  const Eigen::MatrixXd first = to_embedding(layouts.front(), ax);
  const Eigen::Index width = first.cols();
  Eigen::MatrixXd z(first.rows(), width * static_cast<Eigen::Index>(layouts.size()));
  for (std::size_t g = 0; g < layouts.size(); ++g) {
    z.middleCols(static_cast<Eigen::Index>(g) * width, width) = to_embedding(layouts[g], ax);
  }
  return z;
}

/// N×D embedding, every group anisotropic (anisotropic_layout) with its own seed.
inline Eigen::MatrixXd make_embedding(
    Eigen::Index n, Eigen::Index d, axis ax, int groups, double condition, std::uint64_t seed) {
  const layout_shape s = shape_of(n, d, ax, groups);
  std::vector<Eigen::MatrixXd> layouts;
  for (int g = 0; g < groups; ++g) {
    layouts.push_back(anisotropic_layout(s.size, s.observations, condition,
                                         seed + 1000003ULL * static_cast<std::uint64_t>(g)));
  }
  return from_layouts(layouts, ax);
}

/// N×D embedding, every group with covariance spectrum exactly `eigenvalues` (size K).
inline Eigen::MatrixXd make_embedding_with_spectrum(Eigen::Index n,
                                                    Eigen::Index d,
                                                    axis ax,
                                                    int groups,
                                                    const Eigen::VectorXd& eigenvalues,
                                                    std::uint64_t seed) {
  const layout_shape s = shape_of(n, d, ax, groups);
  if (s.size != eigenvalues.size()) {
    throw std::invalid_argument("make_embedding_with_spectrum: K does not match the spectrum");
  }
  std::vector<Eigen::MatrixXd> layouts;
  for (int g = 0; g < groups; ++g) {
    layouts.push_back(spectrum_layout(eigenvalues, s.observations,
                                      seed + 1000003ULL * static_cast<std::uint64_t>(g)));
  }
  return from_layouts(layouts, ax);
}

/// A random permutation of 0 … n−1.
inline Eigen::PermutationMatrix<Eigen::Dynamic> random_permutation(Eigen::Index n,
                                                                   std::uint64_t seed) {
  rng_t rng(seed);
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  Eigen::PermutationMatrix<Eigen::Dynamic> p(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    p.indices()(i) = order[static_cast<std::size_t>(i)];
  }
  return p;
}

}  // namespace spectral_test
