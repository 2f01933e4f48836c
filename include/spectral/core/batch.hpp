// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The data model both backends share: strided batches of column-major matrices (batch),
/// row-major embedding views (embedding_view) and the extent of elementwise launches.

#include <spectral/core/config.hpp>
#include <spectral/core/types.hpp>

#include <type_traits>

namespace spectral {

/**
 * @brief A strided batch of `count` column-major `rows`×`cols` matrices in host or device
 *        memory: entry (i, j) of matrix b is `data[b·stride + j·ld + i]`. A view; copies are
 *        cheap and never copy the entries.
 *
 * The data model both backends share. The G covariances of a grouped transform are one batch
 * (stride K²); so are their eigenvalues (a batch of K×1 columns) and one scalar per group (1×1,
 * stride 1). The N×D row-major embedding is, seen column-major, a D×N matrix with leading
 * dimension D: group g of the features axis is its row block g (rows K, stride K), group g of
 * the samples axis is the same row block read transposed. A stride of 0 repeats one matrix.
 */
template <class T>
struct batch {
  T* data = nullptr;   ///< first entry of matrix 0
  index_t rows = 0;    ///< rows of each matrix
  index_t cols = 0;    ///< columns of each matrix
  index_t ld = 0;      ///< distance between consecutive columns (>= rows)
  index_t stride = 0;  ///< distance between consecutive matrices (0: one matrix repeated)
  index_t count = 0;   ///< number of matrices

  /// Entry (i, j) of matrix b.
  SPECTRAL_HOST_DEVICE T& operator()(index_t b, index_t i, index_t j) const {
    return data[b * stride + j * ld + i];
  }
  /// First entry of matrix b.
  [[nodiscard]] SPECTRAL_HOST_DEVICE T* matrix(index_t b) const { return data + b * stride; }
  /// Entries per matrix.
  [[nodiscard]] SPECTRAL_HOST_DEVICE index_t area() const { return rows * cols; }
  /// Whether the batch holds no entries at all.
  [[nodiscard]] SPECTRAL_HOST_DEVICE bool empty() const { return rows * cols * count == 0; }
  /// Whether each matrix is packed (ld == rows) and the matrices follow each other.
  [[nodiscard]] SPECTRAL_HOST_DEVICE bool contiguous() const {
    return ld == rows && (count <= 1 || stride == rows * cols);
  }

  /// The rows×cols block at (row, col) of every matrix.
  [[nodiscard]] batch block(index_t row,
                            index_t col,
                            index_t block_rows,
                            index_t block_cols) const {
    return {data + col * ld + row, block_rows, block_cols, ld, stride, count};
  }
  /// Matrix b alone, as a batch of one.
  [[nodiscard]] batch single(index_t b) const { return {matrix(b), rows, cols, ld, 0, 1}; }

  /// A batch of mutable entries converts to a read-only one.
  template <class U = T>
  requires(!std::is_const_v<U>) operator batch<const U>()
      const {  // NOLINT(google-explicit-constructor)
    return {data, rows, cols, ld, stride, count};
  }
};

/**
 * @brief A non-owning view of an N×D row-major embedding (rows = samples) in a backend's
 *        memory: host memory for the CPU, device memory for CUDA.
 *
 * This is the memory of a contiguous torch tensor (row_stride = D) or of a row slice of a wider
 * one (row_stride > D). Column-major readers see the same bytes as a D×N matrix with leading
 * dimension row_stride (`columns()`), which is how the algorithm reads it.
 */
template <class T>
struct embedding_view {
  T* data = nullptr;       ///< first entry of row 0
  index_t rows = 0;        ///< N
  index_t cols = 0;        ///< D
  index_t row_stride = 0;  ///< distance between consecutive rows, in elements (>= D)

  embedding_view() = default;
  /// N×D rows at `pointer`, `stride` elements apart (0: packed, stride D).
  embedding_view(T* pointer, index_t n, index_t d, index_t stride = 0)
      : data(pointer), rows(n), cols(d), row_stride(stride == 0 ? d : stride) {}
  /// A view of mutable memory converts to a read-only view.
  template <class U>
  requires std::is_same_v<const U, T> &&(!std::is_same_v<U, T>)
      embedding_view(const embedding_view<U>& other)  // NOLINT(google-explicit-constructor)
      : data(other.data), rows(other.rows), cols(other.cols), row_stride(other.row_stride) {}

  /// The embedding seen column-major: one D×N matrix.
  [[nodiscard]] batch<T> columns() const { return {data, cols, rows, row_stride, 0, 1}; }
};

/// `count` packed rows×cols matrices back to back at `data`.
template <class T>
[[nodiscard]] batch<T> dense_batch(T* data, index_t rows, index_t cols, index_t count) {
  return {data, rows, cols, rows, rows * cols, count};
}

/// Matrix b of a batch in host memory as an Eigen matrix (no copy).
template <class T>
[[nodiscard]] auto host_map(const batch<T>& a, index_t b) {
  using plain = Eigen::Matrix<std::remove_const_t<T>, Eigen::Dynamic, Eigen::Dynamic>;
  using mapped = std::conditional_t<std::is_const_v<T>, const plain, plain>;
  return Eigen::Map<mapped, 0, Eigen::OuterStride<>>(a.matrix(b), a.rows, a.cols,
                                                     Eigen::OuterStride<>(a.ld));
}

namespace detail {
/// An N×D row-major Eigen matrix or map, seen column-major: a D×N batch of one (no copy).
template <class RowMajor>
[[nodiscard]] auto columns_of(RowMajor& m) {
  using S = std::remove_pointer_t<decltype(m.data())>;
  return batch<S>{m.data(), m.cols(), m.rows(), m.outerStride(), 0, 1};
}
}  // namespace detail

/// How a product operand is read.
enum class op : unsigned char {
  none,      ///< A as stored
  transpose  ///< Aᵀ
};

/// The rows of a product operand as read: rows of op(A).
template <class T>
[[nodiscard]] SPECTRAL_HOST_DEVICE index_t read_rows(const batch<T>& a, op o) {
  return o == op::none ? a.rows : a.cols;
}
/// The columns of op(A) (see read_rows).
template <class T>
[[nodiscard]] SPECTRAL_HOST_DEVICE index_t read_cols(const batch<T>& a, op o) {
  return o == op::none ? a.cols : a.rows;
}

/// The extent of an elementwise launch: `count` × `rows` × `cols` index triples.
struct extent {
  index_t count = 0;  ///< number of matrices (the b of f(b, i, j))
  index_t rows = 0;   ///< rows of each (the i)
  index_t cols = 0;   ///< columns of each (the j)

  /// The extent covering every entry of `a`.
  template <class T>
  [[nodiscard]] static extent of(const batch<T>& a) {
    return {a.count, a.rows, a.cols};
  }
  /// Number of index triples.
  [[nodiscard]] SPECTRAL_HOST_DEVICE index_t size() const { return count * rows * cols; }
};

}  // namespace spectral
