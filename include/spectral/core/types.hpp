// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The library's scalar concept and Eigen aliases: index_t, matrix, vector, row-major embeddings
/// and the views that bind them without copying.

#include <spectral/core/config.hpp>

#include <Eigen/Core>

#include <concepts>

namespace spectral {

/// Index and size type of every shape (Eigen's, signed).
using index_t = Eigen::Index;

/// Scalar types the library is instantiated for.
template <class T>
concept real_scalar = std::same_as<T, float> || std::same_as<T, double>;

/// Column-major dense matrix (covariances, transform matrices, eigenvectors).
template <class T>
using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

/// Column vector (eigenvalues, means).
template <class T>
using vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Row-major N×D matrix: the memory of a contiguous torch tensor or C-order numpy array.
template <class T>
using row_matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/**
 * @brief Read-only view of an N×D embedding (rows = samples).
 * @note Binding a row-major matrix, a `Map` over caller memory or a block of either never
 *       copies. Binding a column-major matrix makes one temporary row-major copy.
 */
template <class T>
using embedding_cref = Eigen::Ref<const row_matrix<T>>;

/// Writable view of an N×D embedding in caller-owned, row-major memory.
template <class T>
using embedding_ref = Eigen::Ref<row_matrix<T>>;

/// Wraps caller memory (C order, N rows of D values) as an embedding without copying.
template <class T>
[[nodiscard]] Eigen::Map<const row_matrix<T>> embedding_map(const T* data,
                                                            index_t rows,
                                                            index_t cols) {
  return Eigen::Map<const row_matrix<T>>(data, rows, cols);
}

/// Writable counterpart of embedding_map.
template <class T>
[[nodiscard]] Eigen::Map<row_matrix<T>> embedding_map(T* data, index_t rows, index_t cols) {
  return Eigen::Map<row_matrix<T>>(data, rows, cols);
}

namespace detail {

/// Copies the lower triangle over the upper one: the symmetric results of products whose two
/// triangles may round differently are made exactly symmetric.
template <class T>
void mirror_lower(matrix<T>& a) {
  a.template triangularView<Eigen::StrictlyUpper>() = a.transpose();
}

}  // namespace detail

}  // namespace spectral
