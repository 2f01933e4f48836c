// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The CUDA backend: settings and backend, whose batched primitives (cuda/batched.cuh) run on
/// cuBLAS, cuSOLVER and the library's kernels in stream order.

#include <spectral/core/backend.hpp>
#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cuda/error.cuh>
#include <spectral/cuda/handles.cuh>
#include <spectral/cuda/kernels/eigen.cuh>
#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/memory.cuh>
#include <spectral/cuda/scratch.cuh>
#include <spectral/cuda/status.cuh>

#include <climits>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

namespace spectral::cuda {

/// How a CUDA transform runs.
struct settings {
  /// forward/backward synchronise at the end and throw what the device recorded. Training loops
  /// set this to false and call `context.check(stream)` when they choose: then IterNorm's
  /// forward and backward never synchronise with the host.
  bool sync_check = true;
  /// Float GEMMs (and syrk) on TF32 tensor cores (10-bit mantissa inputs; see README for the
  /// measured accuracy). Off by default: strict float32.
  bool tf32 = false;
  /// Device memory for contexts and workspaces.
  memory_resource memory = stream_ordered_resource();
};

/**
 * @brief The CUDA backend: cuBLAS/cuSOLVER handles bound to the caller's stream, device memory
 *        from a memory_resource, and the batched primitives the transform and methods use.
 *
 * Every primitive works on `count` column-major matrices stored with a fixed stride (the G
 * groups of one transform) and issues one batched call, never a loop over groups.
 *
 * It is a `spectral::batched_backend` (core/backend.hpp): the primitives over `batch<T>` views
 * of device memory (declared in the second half of the class, implemented in
 * cuda/batched.cuh) are enqueued on the bound stream and never wait for the host, except
 * `upload` and `download`. The scratch memory they need lives in a cache the backend owns
 * (scratch.cuh) and is reused from call to call.
 * Move-only; not thread-safe (use one per thread or stream).
 */
class backend {
 public:
  /// What `allocate`, `zeros` and `upload` return (batched_backend's owned buffer).
  template <class T>
  using buffer = device_buffer<T>;

  /// What a transform on this backend is configured with, and the stream its calls run on.
  using settings = cuda::settings;
  /// The stream every call is enqueued on.
  using stream_type = cudaStream_t;

  /// A backend allocating from `memory` (default: the stream-ordered cudaMallocAsync pool).
  explicit backend(memory_resource memory = stream_ordered_resource()) : memory_(memory) {}
  /// A backend with a transform's settings: its memory resource, and TF32 math when asked.
  explicit backend(const settings& config) : memory_(config.memory), tf32_(config.tf32) {}

  /// Creates the handles on first use (throws cuda_error without a GPU) and binds `stream`.
  /// Binding another stream than before drops the scratch cache (freed in stream order on the
  /// old stream), so scratch memory is never shared between two streams' work.
  void bind(cudaStream_t stream) {
    if (!handles_) {
      handles_.emplace();
      if (tf32_) {
        use_tf32(true);
      }
    }
    handles_->bind(stream);
    if (stream != stream_) {
      scratch_.release();
    }
    stream_ = stream;
  }
  /// The stream bound last (nullptr, the default stream, before any bind).
  [[nodiscard]] cudaStream_t stream() const noexcept { return stream_; }
  /// The resource device memory comes from.
  [[nodiscard]] const memory_resource& memory() const noexcept { return memory_; }
  /// Bytes the scratch cache holds (grows to the largest call's need, then stays).
  [[nodiscard]] std::size_t scratch_bytes() const noexcept { return scratch_.bytes(); }

  /// `count` uninitialised T from the memory resource, allocated in order on the bound stream.
  template <class T, std::integral Count>
  [[nodiscard]] device_buffer<T> allocate(Count count) const {
    if constexpr (std::is_signed_v<Count>) {
      SPECTRAL_EXPECTS(count >= 0, "allocate: negative element count ", count);
    }
    return device_buffer<T>(static_cast<std::size_t>(count), stream_, memory_);
  }
  /// Sets every byte of `target` to zero, in order on the bound stream.
  template <class T>
  void fill_zero(device_buffer<T>& target) const {
    if (!target.empty()) {
      SPECTRAL_CUDA_TRY(cudaMemsetAsync(target.data(), 0, target.size() * sizeof(T), stream_));
    }
  }

  /// Waits for `stream` and throws what a status word in device memory records.
  static void check_status(const status_word* status,
                           cudaStream_t stream,
                           std::string_view method) {
    cuda::check_status(status, stream, method);
  }

  /// TF32 tensor-core math for float GEMMs until switched off again.
  void use_tf32(bool on) {
    SPECTRAL_CUBLAS_TRY(
        cublasSetMathMode(blas(), on ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
  }

  /// The cuBLAS handle. @throws invalid_input before the first bind().
  [[nodiscard]] cublasHandle_t blas() const;
  /// The cuSOLVER handle. @throws invalid_input before the first bind().
  [[nodiscard]] cusolverDnHandle_t solver() const;

  // --- batched_backend (core/backend.hpp): primitives over strided batches ------------------
  //
  // Every batch is a view of device memory. Inputs may repeat one matrix (stride 0, or a
  // count of 1 against an output of several); outputs need distinct matrices. Shapes are
  // checked on the host (invalid_input) before anything is enqueued. Scalars are deduced from
  // the output, so read-only operands may be given as mutable batches.

  /// `count` T with every byte zero (cudaMemsetAsync on the bound stream): 0 for float and
  /// double, "no problem" for a status_word.
  template <class T, std::integral Count>
  [[nodiscard]] device_buffer<T> zeros(Count count) const;

  /// A device copy of `count` host values. Synchronises the bound stream before returning, so
  /// the host memory (pageable or pinned) may be reused at once: upload is a setup step, the
  /// one primitive besides download that waits.
  template <class T>
  [[nodiscard]] device_buffer<T> upload(const T* host, index_t count) const;

  /// `count` values from device memory, copied to the host after everything enqueued before
  /// on the bound stream (synchronises the stream).
  template <class T>
  [[nodiscard]] std::vector<T> download(const T* device, index_t count) const;

  /// C = α·op(A)·op(B) + β·C per matrix: one cublas?gemmStridedBatched (sizes, leading
  /// dimensions and the count must fit in int).
  template <class T>
  void gemm(op op_a,
            op op_b,
            std::type_identity_t<T> alpha,
            std::type_identity_t<batch<const T>> a,
            std::type_identity_t<batch<const T>> b,
            std::type_identity_t<T> beta,
            batch<T> c);

  /// C = α·op(A)·op(A)ᵀ + β·C with both triangles equal. One matrix: cublas?syrk (lower
  /// triangle; the upper triangle of C is not read) and a mirror kernel. Several: cuBLAS has no
  /// batched syrk, so one gemmStridedBatched computes both triangles and the mirror kernel
  /// makes them exactly equal.
  template <class T>
  void syrk(op op_a,
            std::type_identity_t<T> alpha,
            std::type_identity_t<batch<const T>> a,
            std::type_identity_t<T> beta,
            batch<T> c);

  /// C = α·A·B + β·C for a product known to be symmetric: gemm, then the lower triangle
  /// mirrored so that the result is exactly symmetric.
  template <class T>
  void symmetric_product(std::type_identity_t<T> alpha,
                         std::type_identity_t<batch<const T>> a,
                         std::type_identity_t<batch<const T>> b,
                         std::type_identity_t<T> beta,
                         batch<T> c);

  /// In place: each symmetric K×K A_b (lower triangle read) becomes its eigenvectors, values
  /// (K×1 each) its eigenvalues ascending; each eigenvector's largest-|entry| is positive.
  /// One matrix: cusolverDnXsyevd; several: cusolverDnXsyevBatched, which needs the matrices
  /// at stride ld·K and the values at stride K: other layouts go through packed copies.
  /// A nonzero info of matrix b → status_solver_failed (group b, the info).
  template <class T>
  void eigh(batch<T> a, batch<T> values, status_word* status);

  /// In place: each A_b becomes its lower Cholesky factor, strict upper triangle zeroed. One
  /// matrix: cusolverDnXpotrf; several: cusolverDn?potrfBatched. A failed factorisation (a
  /// nonzero info, or a pivot that is not positive, NaN included) →
  /// status_not_positive_definite (group b, value: the smallest squared pivot, 0 when the
  /// factorisation stopped; bound 0).
  template <class T>
  void potrf(batch<T> a, status_word* status);

  /// C ← L⁻¹·C per matrix for lower-triangular, non-unit L: cublas?trsm for one matrix,
  /// cublas?trsmBatched (pointer arrays) for several.
  template <class T>
  void solve_lower(std::type_identity_t<batch<const T>> lower, batch<T> c);

  /// f(b, i, j) for every index triple of `e`, concurrently: one grid-stride launch of
  /// for_each_entry_kernel (i fastest, so consecutive threads touch consecutive rows of a
  /// column-major matrix). F: a trivially copyable functor with a SPECTRAL_HOST_DEVICE call
  /// operator (no extended lambdas).
  template <class F>
  void for_each_entry(extent e, F f);

  /// out[b] = tr A_b (out: `count` T of device memory). Like dot and max_abs: two passes over
  /// the whole GPU whatever the count (per-chunk partials in double, then a fixed-order sum),
  /// deterministic from run to run and from device to device.
  template <class T>
  void trace(std::type_identity_t<batch<const T>> a, T* out);

  /// out[b] = Σ A_b ∘ B_b.
  template <class T>
  void dot(std::type_identity_t<batch<const T>> a, std::type_identity_t<batch<const T>> b, T* out);

  /// out[b] = max |A_b| (NaN when A_b holds a NaN, 0 for an empty matrix).
  template <class T>
  void max_abs(std::type_identity_t<batch<const T>> a, T* out);

  /// Records `flag` (group b, the value, bound 0) for a NaN or Inf in A_b: one pass.
  template <class U>
  void check_finite(batch<U> a, status_word* status, unsigned flag);

  /// C = A minus its means: over columns, each row loses the mean of its entries (a mean per
  /// row); over rows, each column loses the mean of its entries (a mean per column). The means
  /// (computed in double) go to `means` when it is not null: `count` vectors of rows (over
  /// columns) or cols (over rows) values, back to back (NaN for a mean over zero entries).
  /// C may be A itself (same data, ld and stride), no other overlap.
  template <class T>
  void center(std::type_identity_t<batch<const T>> a,
              batch<T> c,
              mean_over over,
              std::type_identity_t<T>* means);

 private:
  template <class T>
  [[nodiscard]] T* scratch(scratch_cache::slot which, std::size_t count) {
    return scratch_.get<T>(which, count, stream_, memory_);
  }
  template <class T, class Reader, class Combine>
  void reduce(
      Reader reader, Combine combine, index_t count, index_t work, T* out, const char* name);
  template <class T>
  void mirror_lower(batch<T> c);

  /// C_b = alpha · op(A_b) op(B_b) + beta · C_b for b < count: one cublas?gemmStridedBatched
  /// over raw pointers (gemm and syrk over batches end here).
  template <class T>
  void strided_gemm(bool transpose_a,
                    bool transpose_b,
                    std::int64_t m,
                    std::int64_t n,
                    std::int64_t k,
                    T alpha,
                    const T* a,
                    std::int64_t lda,
                    std::int64_t stride_a,
                    const T* b,
                    std::int64_t ldb,
                    std::int64_t stride_b,
                    T beta,
                    T* c,
                    std::int64_t ldc,
                    std::int64_t stride_c,
                    std::int64_t count);

  memory_resource memory_;
  bool tf32_ = false;  ///< float GEMMs on TF32 tensor cores (settings::tf32)
  std::optional<handles> handles_;
  cudaStream_t stream_ = nullptr;
  std::vector<char> host_workspace_;  ///< cuSOLVER's host workspace; outlives every call
  scratch_cache scratch_;             ///< the batched primitives' reusable device temporaries
};

// --- implementation -----------------------------------------------------------------------------

namespace detail {

template <class T>
constexpr cudaDataType data_type() {
  return std::is_same_v<T, float> ? CUDA_R_32F : CUDA_R_64F;
}

inline int as_int(std::int64_t value, const char* what) {
  SPECTRAL_EXPECTS(value >= 0 && value <= INT_MAX, what, ": ", value,
                   " exceeds the 32-bit size cuBLAS accepts");
  return static_cast<int>(value);
}

}  // namespace detail

template <class T>
void backend::strided_gemm(bool transpose_a,
                           bool transpose_b,
                           std::int64_t m,
                           std::int64_t n,
                           std::int64_t k,
                           T alpha,
                           const T* a,
                           std::int64_t lda,
                           std::int64_t stride_a,
                           const T* b,
                           std::int64_t ldb,
                           std::int64_t stride_b,
                           T beta,
                           T* c,
                           std::int64_t ldc,
                           std::int64_t stride_c,
                           std::int64_t count) {
  const cublasOperation_t op_a = transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int mi = detail::as_int(m, "gemm m");
  const int ni = detail::as_int(n, "gemm n");
  const int ki = detail::as_int(k, "gemm k");
  const int ldai = detail::as_int(lda, "gemm lda");
  const int ldbi = detail::as_int(ldb, "gemm ldb");
  const int ldci = detail::as_int(ldc, "gemm ldc");
  const int batch = detail::as_int(count, "gemm batch");
  if constexpr (std::is_same_v<T, float>) {
    SPECTRAL_CUBLAS_TRY(cublasSgemmStridedBatched(blas(), op_a, op_b, mi, ni, ki, &alpha, a, ldai,
                                                  stride_a, b, ldbi, stride_b, &beta, c, ldci,
                                                  stride_c, batch));
  } else {
    SPECTRAL_CUBLAS_TRY(cublasDgemmStridedBatched(blas(), op_a, op_b, mi, ni, ki, &alpha, a, ldai,
                                                  stride_a, b, ldbi, stride_b, &beta, c, ldci,
                                                  stride_c, batch));
  }
}

inline cublasHandle_t backend::blas() const {
  SPECTRAL_EXPECTS(handles_.has_value(), "backend: bind(stream) was not called");
  return handles_->blas();
}

inline cusolverDnHandle_t backend::solver() const {
  SPECTRAL_EXPECTS(handles_.has_value(), "backend: bind(stream) was not called");
  return handles_->solver();
}

namespace detail {

/// Launches a grid-stride kernel over `work` items on the backend's stream.
template <class Kernel, class... Args>
void launch(const backend& be, const char* name, std::int64_t work, Kernel kernel, Args... args) {
  kernel<<<grid_blocks(work), block_threads, 0, be.stream()>>>(args...);
  check_launch(name);
}

}  // namespace detail

}  // namespace spectral::cuda

// The batched primitives (batched_backend) and their kernels.
#include <spectral/cuda/batched.cuh>  // IWYU pragma: export
