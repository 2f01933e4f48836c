// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/**
 * @file
 * @brief The CUDA backend's batched primitives (core/backend.hpp's `batched_backend`) over
 *        strided batches of device memory; included by cuda/backend.cuh, which declares them.
 *
 * Everything is enqueued on the backend's bound stream; nothing waits for the host except
 * `upload` and `download`. Design notes:
 *
 * - Scratch memory (solver workspaces and info, pointer arrays, reduction partials, packed
 *   copies) comes from the backend's scratch_cache: grown when a call needs more, reused
 *   otherwise, touched only by work on the bound stream. A steady state of calls allocates
 *   nothing (the default memory resource also keeps freed memory in its pool).
 * - Reductions (trace, dot, max_abs) split every matrix into chunks of 2048 elements; one
 *   block per (matrix, chunk) writes a double partial, then one warp per matrix combines its
 *   partials in a fixed order (a matrix of one chunk is written directly). The whole GPU works
 *   even for one large matrix, and the result is the same on every run and device (the
 *   mapping of elements to threads depends on the shape only).
 * - Centring over rows (a mean per column) is one fused kernel: a group of 32–256 threads per
 *   column (more for longer columns) reads it coalesced, combines in a fixed tree, writes the
 *   centred column. Centring over columns (a mean per row, the strided direction of a
 *   column-major matrix) takes three launches so that short wide matrices use the whole GPU
 *   too: partial row sums per (row tile, column split), a fixed-order sum of the splits, and an
 *   elementwise subtraction.
 */

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/error.cuh>
#include <spectral/cuda/kernels/eigen.cuh>
#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/kernels/primitives.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/scratch.cuh>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

namespace spectral::cuda {

namespace detail {

/// Host-side checks of a batch argument (before anything is enqueued).
template <class T>
void expect_batch(const batch<T>& x, const char* what, bool output) {
  SPECTRAL_EXPECTS(x.rows >= 0 && x.cols >= 0 && x.count >= 0, what, ": negative extent (", x.count,
                   " matrices of ", x.rows, "x", x.cols, ")");
  if (x.empty()) {
    return;
  }
  SPECTRAL_EXPECTS(x.data != nullptr, what, ": null device pointer");
  SPECTRAL_EXPECTS(x.cols <= 1 || x.ld >= x.rows, what, ": leading dimension ", x.ld,
                   " is smaller than its ", x.rows, " rows");
  SPECTRAL_EXPECTS(x.stride >= 0, what, ": negative stride ", x.stride);
  SPECTRAL_EXPECTS(!output || x.count == 1 || x.stride != 0, what, ": ", x.count,
                   " output matrices at stride 0 would overwrite each other");
}

/// The stride an operand is read with against `count` output matrices: its own, or 0 for a
/// single matrix repeated.
template <class T>
[[nodiscard]] index_t operand_stride(const batch<T>& x, index_t count, const char* what) {
  SPECTRAL_EXPECTS(x.count == count || x.count == 1, what, ": ", x.count, " matrices against ",
                   count, " (need as many, or one)");
  return x.count == 1 ? 0 : x.stride;
}

/// Leading dimension for cuBLAS/cuSOLVER (at least max(1, rows); a one-column matrix's ld is
/// not used to address it).
template <class T>
[[nodiscard]] index_t blas_ld(const batch<T>& x) {
  return std::max<index_t>({x.ld, x.rows, index_t{1}});
}

/// Blocks for a loop over `tasks` block-sized tasks (capped: the kernels loop over the rest).
[[nodiscard]] inline unsigned task_blocks(index_t tasks) {
  return static_cast<unsigned>(std::clamp<index_t>(tasks, 1, index_t{1} << 20));
}

}  // namespace detail

// --- memory -------------------------------------------------------------------------------------

template <class T, std::integral Count>
device_buffer<T> backend::zeros(Count count) const {
  device_buffer<T> out = allocate<T>(count);
  if (!out.empty()) {
    SPECTRAL_CUDA_TRY(cudaMemsetAsync(out.data(), 0, out.size() * sizeof(T), stream_));
  }
  return out;
}

template <class T>
device_buffer<T> backend::upload(const T* host, index_t count) const {
  device_buffer<T> out = allocate<T>(count);
  if (count > 0) {
    SPECTRAL_EXPECTS(host != nullptr, "upload: null host pointer");
    SPECTRAL_CUDA_TRY(
        cudaMemcpyAsync(out.data(), host, out.size() * sizeof(T), cudaMemcpyHostToDevice, stream_));
    // The host memory may be pinned, when the copy really is asynchronous: wait, so that the
    // caller may free or reuse it on return.
    SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream_));
  }
  return out;
}

template <class T>
std::vector<T> backend::download(const T* device, index_t count) const {
  SPECTRAL_EXPECTS(count >= 0, "download: negative element count ", count);
  std::vector<T> out(static_cast<std::size_t>(count));
  if (count > 0) {
    SPECTRAL_EXPECTS(device != nullptr, "download: null device pointer");
    SPECTRAL_CUDA_TRY(cudaMemcpyAsync(out.data(), device, out.size() * sizeof(T),
                                      cudaMemcpyDeviceToHost, stream_));
  }
  SPECTRAL_CUDA_TRY(cudaStreamSynchronize(stream_));
  return out;
}

// --- products -----------------------------------------------------------------------------------

template <class T>
void backend::mirror_lower(batch<T> c) {
  for_each_entry(extent::of(c), detail::mirror_lower_entries<T>{c});
}

template <class T>
void backend::gemm(op op_a,
                   op op_b,
                   std::type_identity_t<T> alpha,
                   std::type_identity_t<batch<const T>> a,
                   std::type_identity_t<batch<const T>> b,
                   std::type_identity_t<T> beta,
                   batch<T> c) {
  detail::expect_batch(a, "gemm A", false);
  detail::expect_batch(b, "gemm B", false);
  detail::expect_batch(c, "gemm C", true);
  const index_t m = read_rows(a, op_a);
  const index_t k = read_cols(a, op_a);
  SPECTRAL_EXPECTS(c.rows == m && c.cols == read_cols(b, op_b) && read_rows(b, op_b) == k,
                   "gemm: op(A) is ", m, "x", k, ", op(B) ", read_rows(b, op_b), "x",
                   read_cols(b, op_b), ", C ", c.rows, "x", c.cols);
  const index_t stride_a = detail::operand_stride(a, c.count, "gemm A");
  const index_t stride_b = detail::operand_stride(b, c.count, "gemm B");
  if (c.empty()) {
    return;
  }
  strided_gemm<T>(op_a == op::transpose, op_b == op::transpose, m, c.cols, k, alpha, a.data,
                  detail::blas_ld(a), stride_a, b.data, detail::blas_ld(b), stride_b, beta, c.data,
                  detail::blas_ld(c), c.stride, c.count);
}

template <class T>
void backend::syrk(op op_a,
                   std::type_identity_t<T> alpha,
                   std::type_identity_t<batch<const T>> a,
                   std::type_identity_t<T> beta,
                   batch<T> c) {
  detail::expect_batch(a, "syrk A", false);
  detail::expect_batch(c, "syrk C", true);
  const index_t n = read_rows(a, op_a);
  const index_t k = read_cols(a, op_a);
  SPECTRAL_EXPECTS(c.rows == n && c.cols == n, "syrk: op(A) is ", n, "x", k, ", C must be ", n, "x",
                   n, ", got ", c.rows, "x", c.cols);
  const index_t stride_a = detail::operand_stride(a, c.count, "syrk A");
  if (c.empty()) {
    return;
  }
  const bool transpose = op_a == op::transpose;
  if (c.count == 1) {
    const int ni = detail::as_int(n, "syrk n");
    const int ki = detail::as_int(k, "syrk k");
    const int lda = detail::as_int(detail::blas_ld(a), "syrk lda");
    const int ldc = detail::as_int(detail::blas_ld(c), "syrk ldc");
    const cublasOperation_t trans = transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
    if constexpr (std::is_same_v<T, float>) {
      SPECTRAL_CUBLAS_TRY(cublasSsyrk(blas(), CUBLAS_FILL_MODE_LOWER, trans, ni, ki, &alpha, a.data,
                                      lda, &beta, c.data, ldc));
    } else {
      SPECTRAL_CUBLAS_TRY(cublasDsyrk(blas(), CUBLAS_FILL_MODE_LOWER, trans, ni, ki, &alpha, a.data,
                                      lda, &beta, c.data, ldc));
    }
  } else {
    // No batched syrk in cuBLAS: op(A)·op(A)ᵀ as one strided-batched gemm (both triangles).
    strided_gemm<T>(transpose, !transpose, n, n, k, alpha, a.data, detail::blas_ld(a), stride_a,
                    a.data, detail::blas_ld(a), stride_a, beta, c.data, detail::blas_ld(c),
                    c.stride, c.count);
  }
  mirror_lower(c);
}

template <class T>
void backend::symmetric_product(std::type_identity_t<T> alpha,
                                std::type_identity_t<batch<const T>> a,
                                std::type_identity_t<batch<const T>> b,
                                std::type_identity_t<T> beta,
                                batch<T> c) {
  SPECTRAL_EXPECTS(c.rows == c.cols, "symmetric_product: C must be square, got ", c.rows, "x",
                   c.cols);
  gemm<T>(op::none, op::none, alpha, a, b, beta, c);
  if (!c.empty()) {
    mirror_lower(c);
  }
}

// --- factorisations -----------------------------------------------------------------------------

template <class T>
void backend::eigh(batch<T> a, batch<T> values, status_word* status) {
  detail::expect_batch(a, "eigh A", true);
  detail::expect_batch(values, "eigh values", true);
  SPECTRAL_EXPECTS(a.rows == a.cols, "eigh: A must be square, got ", a.rows, "x", a.cols);
  SPECTRAL_EXPECTS(values.rows == a.rows && values.cols == 1 && values.count == a.count,
                   "eigh: values must be ", a.count, " columns of ", a.rows, ", got ", values.count,
                   " matrices of ", values.rows, "x", values.cols);
  SPECTRAL_EXPECTS(status != nullptr, "eigh: null status word");
  if (a.empty()) {
    return;
  }
  constexpr cudaDataType type = detail::data_type<T>();
  (void)solver();  // throws when bind() was not called
  const auto& h = *handles_;
  const index_t k = a.rows;
  const index_t count = a.count;
  // syevd takes any leading dimension; syevBatched wants the matrices at stride lda·K and the
  // values at stride K: other layouts are solved in packed copies.
  const bool direct_a = count == 1 || a.stride == a.ld * k;
  const bool direct_values = count == 1 || values.stride == k;
  batch<T> solved = a;
  batch<T> solved_values = values;
  if (!direct_a) {
    solved = dense_batch(
        scratch<T>(scratch_cache::packed_matrices, static_cast<std::size_t>(count * k * k)), k, k,
        count);
    for_each_entry(extent::of(a), detail::copy_entries<T>{a, solved});
  }
  if (!direct_values) {
    solved_values =
        dense_batch(scratch<T>(scratch_cache::packed_values, static_cast<std::size_t>(count * k)),
                    k, index_t{1}, count);
  }
  const index_t lda = detail::blas_ld(solved);
  std::size_t device_bytes = 0;
  std::size_t host_bytes = 0;
  if (count == 1) {
    SPECTRAL_CUSOLVER_TRY(cusolverDnXsyevd_bufferSize(
        h.solver(), h.params(), CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, k, type,
        solved.data, lda, type, solved_values.data, type, &device_bytes, &host_bytes));
  } else {
    (void)detail::as_int(lda * k * count, "batched eigensolver: lda*K*groups");  // documented
    SPECTRAL_CUSOLVER_TRY(cusolverDnXsyevBatched_bufferSize(
        h.solver(), h.params(), CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, k, type,
        solved.data, lda, type, solved_values.data, type, &device_bytes, &host_bytes, count));
  }
  char* workspace = scratch<char>(scratch_cache::solver_workspace, device_bytes);
  int* info = scratch<int>(scratch_cache::solver_info, static_cast<std::size_t>(count));
  if (host_workspace_.size() < host_bytes) {
    host_workspace_.resize(host_bytes);
  }
  if (count == 1) {
    SPECTRAL_CUSOLVER_TRY(cusolverDnXsyevd(h.solver(), h.params(), CUSOLVER_EIG_MODE_VECTOR,
                                           CUBLAS_FILL_MODE_LOWER, k, type, solved.data, lda, type,
                                           solved_values.data, type, workspace, device_bytes,
                                           host_workspace_.data(), host_bytes, info));
  } else {
    SPECTRAL_CUSOLVER_TRY(cusolverDnXsyevBatched(
        h.solver(), h.params(), CUSOLVER_EIG_MODE_VECTOR, CUBLAS_FILL_MODE_LOWER, k, type,
        solved.data, lda, type, solved_values.data, type, workspace, device_bytes,
        host_workspace_.data(), host_bytes, info, count));
  }
  detail::solver_info_kernel<int>
      <<<detail::grid_blocks(count), detail::block_threads, 0, stream_>>>(info, count, status);
  detail::check_launch("solver_info_kernel");
  detail::fix_signs_kernel<T><<<detail::grid_blocks(count * k * detail::warp_threads),
                                detail::block_threads, 0, stream_>>>(solved);
  detail::check_launch("fix_signs_kernel");
  if (!direct_a) {
    for_each_entry(extent::of(a), detail::copy_entries<T>{solved, a});
  }
  if (!direct_values) {
    for_each_entry(extent::of(values), detail::copy_entries<T>{solved_values, values});
  }
}

template <class T>
void backend::potrf(batch<T> a, status_word* status) {
  detail::expect_batch(a, "potrf A", true);
  SPECTRAL_EXPECTS(a.rows == a.cols, "potrf: A must be square, got ", a.rows, "x", a.cols);
  SPECTRAL_EXPECTS(status != nullptr, "potrf: null status word");
  if (a.empty()) {
    return;
  }
  const index_t k = a.rows;
  const index_t count = a.count;
  const index_t lda = detail::blas_ld(a);
  int* info = scratch<int>(scratch_cache::solver_info, static_cast<std::size_t>(count));
  if (count == 1) {
    // One (possibly large) matrix: the blocked 64-bit factorisation.
    constexpr cudaDataType type = detail::data_type<T>();
    (void)solver();
    const auto& h = *handles_;
    std::size_t device_bytes = 0;
    std::size_t host_bytes = 0;
    SPECTRAL_CUSOLVER_TRY(cusolverDnXpotrf_bufferSize(h.solver(), h.params(),
                                                      CUBLAS_FILL_MODE_LOWER, k, type, a.data, lda,
                                                      type, &device_bytes, &host_bytes));
    char* workspace = scratch<char>(scratch_cache::solver_workspace, device_bytes);
    if (host_workspace_.size() < host_bytes) {
      host_workspace_.resize(host_bytes);
    }
    SPECTRAL_CUSOLVER_TRY(cusolverDnXpotrf(h.solver(), h.params(), CUBLAS_FILL_MODE_LOWER, k, type,
                                           a.data, lda, type, workspace, device_bytes,
                                           host_workspace_.data(), host_bytes, info));
  } else {
    const int n = detail::as_int(k, "potrf size");
    const int ld = detail::as_int(lda, "potrf lda");
    const int batch_count = detail::as_int(count, "potrf batch");
    T** array = scratch<T*>(scratch_cache::pointers, static_cast<std::size_t>(count));
    detail::batch_pointers_kernel<T>
        <<<detail::grid_blocks(count), detail::block_threads, 0, stream_>>>(
            a.data, a.stride, nullptr, 0, count, array);
    detail::check_launch("batch_pointers_kernel");
    if constexpr (std::is_same_v<T, float>) {
      SPECTRAL_CUSOLVER_TRY(cusolverDnSpotrfBatched(solver(), CUBLAS_FILL_MODE_LOWER, n, array, ld,
                                                    info, batch_count));
    } else {
      SPECTRAL_CUSOLVER_TRY(cusolverDnDpotrfBatched(solver(), CUBLAS_FILL_MODE_LOWER, n, array, ld,
                                                    info, batch_count));
    }
  }
  for_each_entry(extent::of(a), detail::zero_upper_entries<T>{a});
  detail::potrf_status_kernel<T>
      <<<detail::grid_blocks(count), detail::block_threads, 0, stream_>>>(a, info, status);
  detail::check_launch("potrf_status_kernel");
}

template <class T>
void backend::solve_lower(std::type_identity_t<batch<const T>> lower, batch<T> c) {
  detail::expect_batch(lower, "solve_lower L", false);
  detail::expect_batch(c, "solve_lower C", true);
  SPECTRAL_EXPECTS(lower.rows == lower.cols && lower.rows == c.rows, "solve_lower: L is ",
                   lower.rows, "x", lower.cols, ", C ", c.rows, "x", c.cols);
  const index_t stride_l = detail::operand_stride(lower, c.count, "solve_lower L");
  if (c.empty()) {
    return;
  }
  const int m = detail::as_int(c.rows, "solve_lower rows");
  const int n = detail::as_int(c.cols, "solve_lower cols");
  const int ldl = detail::as_int(detail::blas_ld(lower), "solve_lower ldl");
  const int ldc = detail::as_int(detail::blas_ld(c), "solve_lower ldc");
  const T one = T(1);
  if (c.count == 1) {
    if constexpr (std::is_same_v<T, float>) {
      SPECTRAL_CUBLAS_TRY(cublasStrsm(blas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N,
                                      CUBLAS_DIAG_NON_UNIT, m, n, &one, lower.data, ldl, c.data,
                                      ldc));
    } else {
      SPECTRAL_CUBLAS_TRY(cublasDtrsm(blas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER, CUBLAS_OP_N,
                                      CUBLAS_DIAG_NON_UNIT, m, n, &one, lower.data, ldl, c.data,
                                      ldc));
    }
    return;
  }
  const int batch_count = detail::as_int(c.count, "solve_lower batch");
  T** arrays = scratch<T*>(scratch_cache::pointers, static_cast<std::size_t>(2 * c.count));
  detail::batch_pointers_kernel<T>
      <<<detail::grid_blocks(c.count), detail::block_threads, 0, stream_>>>(
          const_cast<T*>(lower.data), stride_l, c.data, c.stride, c.count, arrays);
  detail::check_launch("batch_pointers_kernel");
  if constexpr (std::is_same_v<T, float>) {
    SPECTRAL_CUBLAS_TRY(cublasStrsmBatched(blas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER,
                                           CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m, n, &one, arrays,
                                           ldl, arrays + c.count, ldc, batch_count));
  } else {
    SPECTRAL_CUBLAS_TRY(cublasDtrsmBatched(blas(), CUBLAS_SIDE_LEFT, CUBLAS_FILL_MODE_LOWER,
                                           CUBLAS_OP_N, CUBLAS_DIAG_NON_UNIT, m, n, &one, arrays,
                                           ldl, arrays + c.count, ldc, batch_count));
  }
}

// --- elementwise --------------------------------------------------------------------------------

template <class F>
void backend::for_each_entry(extent e, F f) {
  static_assert(std::is_trivially_copyable_v<F>,
                "for_each_entry: the functor is copied to the device; hold batches and scalars "
                "by value");
  SPECTRAL_EXPECTS(e.count >= 0 && e.rows >= 0 && e.cols >= 0, "for_each_entry: negative extent (",
                   e.count, " x ", e.rows, "x", e.cols, ")");
  const index_t n = e.size();
  if (n == 0) {
    return;
  }
  detail::for_each_entry_kernel<F>
      <<<detail::grid_blocks(n), detail::block_threads, 0, stream_>>>(e, f);
  detail::check_launch("for_each_entry_kernel");
}

// --- reductions ---------------------------------------------------------------------------------

template <class T, class Reader, class Combine>
void backend::reduce(
    Reader reader, Combine combine, index_t count, index_t work, T* out, const char* name) {
  if (count == 0) {
    return;
  }
  SPECTRAL_EXPECTS(out != nullptr, name, ": null output pointer");
  constexpr index_t chunk = index_t{detail::block_threads} * 8;
  const index_t chunks = work <= chunk ? 1 : (work + chunk - 1) / chunk;
  double* partial_sums = chunks > 1 ? scratch<double>(scratch_cache::partials,
                                                      static_cast<std::size_t>(count * chunks))
                                    : nullptr;
  detail::reduce_chunks_kernel<T, Reader, Combine>
      <<<detail::task_blocks(count * chunks), detail::block_threads, 0, stream_>>>(
          reader, combine, count, work, chunk, chunks, partial_sums, out);
  detail::check_launch(name);
  if (chunks > 1) {
    detail::reduce_partials_kernel<T, Combine>
        <<<detail::grid_blocks(count * detail::warp_threads), detail::block_threads, 0, stream_>>>(
            combine, partial_sums, count, chunks, out);
    detail::check_launch(name);
  }
}

template <class T>
void backend::trace(std::type_identity_t<batch<const T>> a, T* out) {
  detail::expect_batch(a, "trace A", false);
  reduce(detail::trace_reader<T>{a}, detail::sum_combine{}, a.count, std::min(a.rows, a.cols), out,
         "trace");
}

template <class T>
void backend::dot(std::type_identity_t<batch<const T>> a,
                  std::type_identity_t<batch<const T>> b,
                  T* out) {
  detail::expect_batch(a, "dot A", false);
  detail::expect_batch(b, "dot B", false);
  SPECTRAL_EXPECTS(a.rows == b.rows && a.cols == b.cols && a.count == b.count, "dot: A is ",
                   a.count, " matrices of ", a.rows, "x", a.cols, ", B ", b.count, " of ", b.rows,
                   "x", b.cols);
  reduce(detail::dot_reader<T>{a, b}, detail::sum_combine{}, a.count, a.rows * a.cols, out, "dot");
}

template <class T>
void backend::max_abs(std::type_identity_t<batch<const T>> a, T* out) {
  detail::expect_batch(a, "max_abs A", false);
  reduce(detail::abs_reader<T>{a}, detail::max_combine{}, a.count, a.rows * a.cols, out, "max_abs");
}

template <class U>
void backend::check_finite(batch<U> input, status_word* status, unsigned flag) {
  using T = std::remove_const_t<U>;
  static_assert(real_scalar<T>, "check_finite: float or double matrices");
  const batch<const T> a = input;
  detail::expect_batch(a, "check_finite A", false);
  SPECTRAL_EXPECTS(status != nullptr, "check_finite: null status word");
  SPECTRAL_EXPECTS(flag != 0U && (flag & (flag - 1U)) == 0U &&
                       flag < (1U << static_cast<unsigned>(status_flag_count)),
                   "check_finite: flag ", flag, " is not one status flag");
  if (a.empty()) {
    return;
  }
  detail::check_finite_batch_kernel<T>
      <<<detail::grid_blocks(a.count * a.rows * a.cols), detail::block_threads, 0, stream_>>>(
          a, a.contiguous(), status, flag);
  detail::check_launch("check_finite_batch_kernel");
}

// --- centring -----------------------------------------------------------------------------------

template <class T>
void backend::center(std::type_identity_t<batch<const T>> a,
                     batch<T> c,
                     mean_over over,
                     std::type_identity_t<T>* means) {
  detail::expect_batch(a, "center A", false);
  detail::expect_batch(c, "center C", true);
  SPECTRAL_EXPECTS(a.rows == c.rows && a.cols == c.cols && a.count == c.count, "center: A is ",
                   a.count, " matrices of ", a.rows, "x", a.cols, ", C ", c.count, " of ", c.rows,
                   "x", c.cols);
  SPECTRAL_EXPECTS(c.data != a.data || (c.ld == a.ld && c.stride == a.stride),
                   "center: C may be A itself, not a view of it with another layout");
  if (c.empty()) {
    // A mean over zero entries is NaN (as on the CPU).
    const index_t length = over == mean_over::columns ? a.rows : a.cols;
    if (means != nullptr && a.count > 0 && length > 0) {
      for_each_entry(extent{a.count, length, 1},
                     detail::fill_entries<T>{dense_batch(means, length, index_t{1}, a.count),
                                             std::numeric_limits<T>::quiet_NaN()});
    }
    return;
  }
  if (over == mean_over::rows) {
    // A group of threads per column, sized to the column: 32 for up to 256 rows, up to 256.
    int group = detail::warp_threads;
    while (group < detail::block_threads && index_t{group} * 8 < a.rows) {
      group *= 2;
    }
    const index_t per_block = detail::block_threads / group;
    detail::center_over_rows_kernel<T>
        <<<detail::task_blocks((a.count * a.cols + per_block - 1) / per_block),
           detail::block_threads, 0, stream_>>>(a, c, means, group);
    detail::check_launch("center_over_rows_kernel");
    return;
  }
  // Over columns: tiles of up to 32 consecutive rows (a warp reads 32 rows of one column) by
  // 256/tile column lanes; columns split so that every matrix gives several blocks of work.
  int tile_rows = 1;
  while (tile_rows < detail::warp_threads && index_t{tile_rows} < a.rows) {
    tile_rows *= 2;
  }
  const index_t lanes = detail::block_threads / tile_rows;
  const index_t tiles = (a.rows + tile_rows - 1) / tile_rows;
  constexpr index_t max_splits = 256;
  index_t split_cols = lanes * 8;
  index_t splits = (a.cols + split_cols - 1) / split_cols;
  if (splits > max_splits) {
    split_cols = (a.cols + max_splits - 1) / max_splits;
    splits = (a.cols + split_cols - 1) / split_cols;
  }
  const index_t sums = a.count * a.rows * splits;
  const index_t aligned = (sums + 31) / 32 * 32;  // the means start 256 bytes aligned
  double* partial_sums = scratch<double>(scratch_cache::partials,
                                         static_cast<std::size_t>(aligned + a.count * a.rows));
  double* row_mean = partial_sums + aligned;
  detail::row_sum_partials_kernel<T>
      <<<detail::task_blocks(a.count * tiles * splits), detail::block_threads, 0, stream_>>>(
          a, tile_rows, tiles, split_cols, splits, partial_sums);
  detail::check_launch("row_sum_partials_kernel");
  detail::row_means_kernel<T>
      <<<detail::grid_blocks(a.count * a.rows), detail::block_threads, 0, stream_>>>(
          partial_sums, a.count, a.rows, a.cols, splits, row_mean, means);
  detail::check_launch("row_means_kernel");
  for_each_entry(extent::of(c), detail::subtract_row_means<T>{a, c, row_mean});
}

}  // namespace spectral::cuda

static_assert(spectral::batched_backend<spectral::cuda::backend>,
              "spectral::cuda::backend must supply every batched primitive");
