// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Device memory: memory_resource (where it comes from), stream_ordered_resource() (the default)
/// and device_buffer, the CUDA backend's owning buffer.

#include <spectral/core/batch.hpp>
#include <spectral/core/error.hpp>
#include <spectral/cuda/error.cuh>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <cuda_runtime.h>

namespace spectral::cuda {

/**
 * @brief Where the CUDA backend gets device memory: a pair of stream-ordered functions.
 *
 * The default uses cudaMallocAsync/cudaFreeAsync (the driver's pool, no synchronisation).
 * Frameworks pass their own (LibTorch's caching allocator) so that contexts and workspaces
 * live in memory the framework owns and accounts for.
 */
struct memory_resource {
  /// Returns `bytes` of device memory usable in order on `stream` (throws on failure).
  using allocate_fn = void* (*)(void* state, std::size_t bytes, cudaStream_t stream);
  /// Frees, in order on `stream`, what allocate returned for `bytes`; never throws.
  using deallocate_fn = void (*)(void* state,
                                 void* pointer,
                                 std::size_t bytes,
                                 cudaStream_t stream) noexcept;

  void* state = nullptr;               ///< passed to both functions as is (the allocator object)
  allocate_fn allocate = nullptr;      ///< the allocation function
  deallocate_fn deallocate = nullptr;  ///< the matching deallocation function
};

namespace detail {

/**
 * @brief Once per device (per process): sets the release threshold of the device's default
 *        cudaMallocAsync pool to UINT64_MAX, so that memory freed with cudaFreeAsync stays in
 *        the pool instead of going back to the driver at the next synchronisation.
 *
 * Without it the pool's threshold is 0 and every stream synchronisation (each `download`, each
 * `check_status`) trims the pool, so the next call's allocations are real driver allocations
 * again; with it, the workspaces of one call are the memory of the next. The setting belongs
 * to the process-wide default pool (other users of that pool keep their memory too;
 * `cudaMemPoolTrimTo` gives it back). A pool the application made current with
 * `cudaDeviceSetMemPool` is not touched. A failure (a device without memory pools) is left for
 * cudaMallocAsync itself to report.
 */
inline void keep_default_pool_memory() noexcept {
  static std::atomic<std::uint64_t> configured{0};  // one bit per device ordinal below 64
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    (void)cudaGetLastError();
    return;
  }
  const std::uint64_t bit =
      device >= 0 && device < 64 ? (std::uint64_t{1} << static_cast<unsigned>(device)) : 0U;
  if (bit != 0U && ((configured.load(std::memory_order_relaxed) & bit) != 0U ||
                    (configured.fetch_or(bit, std::memory_order_relaxed) & bit) != 0U)) {
    return;  // set before: only the first call for a device gets past here
  }
  cudaMemPool_t pool = nullptr;
  std::uint64_t threshold = UINT64_MAX;
  if (cudaDeviceGetDefaultMemPool(&pool, device) != cudaSuccess ||
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold) != cudaSuccess) {
    (void)cudaGetLastError();
  }
}

inline void* pool_allocate(void* /*state*/, std::size_t bytes, cudaStream_t stream) {
  keep_default_pool_memory();
  void* pointer = nullptr;
  SPECTRAL_CUDA_TRY(cudaMallocAsync(&pointer, bytes, stream));
  return pointer;
}
inline void pool_deallocate(void* /*state*/,
                            void* pointer,
                            std::size_t /*bytes*/,
                            cudaStream_t stream) noexcept {
  (void)cudaFreeAsync(pointer, stream);  // a destructor cannot report; the pool outlives us
}
}  // namespace detail

/// The default resource: the CUDA driver's stream-ordered pool (the device's default
/// cudaMallocAsync pool, whose release threshold the first allocation on each device raises to
/// UINT64_MAX so that freed memory is kept for the next call; see keep_default_pool_memory).
[[nodiscard]] inline memory_resource stream_ordered_resource() noexcept {
  return {nullptr, &detail::pool_allocate, &detail::pool_deallocate};
}

/**
 * @brief An owning, move-only array of T in device memory, allocated and freed in stream order.
 * @note Freed on the stream it was allocated on; work on another stream that still reads it
 *       must be ordered before destruction by the caller.
 */
template <class T>
class device_buffer {
 public:
  device_buffer() = default;
  /// `count` uninitialised T from `resource`, allocated in order on `stream` (freed there too).
  device_buffer(std::size_t count,
                cudaStream_t stream,
                memory_resource resource = stream_ordered_resource())
      : size_(count), stream_(stream), resource_(resource) {
    if (count > 0) {
      data_ = static_cast<T*>(resource_.allocate(resource_.state, count * sizeof(T), stream));
    }
  }
  device_buffer(const device_buffer&) = delete;
  device_buffer& operator=(const device_buffer&) = delete;
  /// Takes over `other`'s memory, leaving it empty.
  device_buffer(device_buffer&& other) noexcept { swap(other); }
  /// Frees the memory held (in stream order), then takes over `other`'s.
  device_buffer& operator=(device_buffer&& other) noexcept {
    if (this != &other) {
      release();
      swap(other);
    }
    return *this;
  }
  ~device_buffer() { release(); }

  /// The device pointer (null when empty).
  [[nodiscard]] T* data() noexcept { return data_; }
  /// The device pointer (null when empty).
  [[nodiscard]] const T* data() const noexcept { return data_; }
  /// Number of T held.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Whether the buffer holds nothing.
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  void release() noexcept {
    if (data_ != nullptr) {
      resource_.deallocate(resource_.state, data_, size_ * sizeof(T), stream_);
    }
    data_ = nullptr;
    size_ = 0;
  }
  void swap(device_buffer& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(stream_, other.stream_);
    std::swap(resource_, other.resource_);
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
  memory_resource resource_ = stream_ordered_resource();
};

/// Device embeddings are the core's view (core/batch.hpp) over device memory: the memory of a
/// contiguous torch CUDA tensor (row_stride = D) or of a row slice of a wider one.
using spectral::embedding_view;

namespace detail {

/// Host-side checks every public entry point runs before enqueuing any work.
template <class T>
void expect_view(const embedding_view<T>& view,
                 std::int64_t rows,
                 std::int64_t cols,
                 const char* name) {
  SPECTRAL_EXPECTS(view.data != nullptr || rows * cols == 0, name, ": null device pointer");
  SPECTRAL_EXPECTS(view.rows == rows && view.cols == cols, name, ": expected ", rows, "x", cols,
                   ", got ", view.rows, "x", view.cols);
  SPECTRAL_EXPECTS(view.row_stride >= view.cols, name, ": row_stride ", view.row_stride,
                   " is smaller than its ", view.cols, " columns");
}

}  // namespace detail
}  // namespace spectral::cuda
