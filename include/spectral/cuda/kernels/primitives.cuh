// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Kernels of the batched primitives (cuda/batched.cuh) over strided batches
// (core/batch.hpp): the generic elementwise launcher, grid-wide deterministic reductions,
// the finiteness check and the centring kernels.

#include <spectral/core/batch.hpp>
#include <spectral/core/config.hpp>
#include <spectral/core/status.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cuda/kernels/launch.cuh>
#include <spectral/cuda/status.cuh>

#include <cstdint>

namespace spectral::cuda::detail {

// --- index decoding ----------------------------------------------------------------------------

/// An entry's (matrix, row, column).
struct entry_index {
  index_t b;
  index_t i;
  index_t j;
};

/// Decodes a flat index column-major: i fastest, then j, then b (rows, cols > 0). 32-bit
/// division when everything fits, which is several times cheaper than 64-bit on the GPU.
__device__ inline entry_index decode_entry(index_t idx, index_t rows, index_t cols) {
  constexpr index_t small = index_t{1} << 32;
  if (idx < small && rows < small && cols < small) {
    const auto x = static_cast<unsigned>(idx);
    const auto r = static_cast<unsigned>(rows);
    const auto c = static_cast<unsigned>(cols);
    const unsigned column = x / r;
    const unsigned matrix = column / c;
    return {static_cast<index_t>(matrix), static_cast<index_t>(x - column * r),
            static_cast<index_t>(column - matrix * c)};
  }
  const index_t column = idx / rows;
  const index_t matrix = column / cols;
  return {matrix, idx - column * rows, column - matrix * cols};
}

// --- the generic elementwise launcher ----------------------------------------------------------

/// f(b, i, j) for every index triple of `e` (grid-stride; consecutive threads take consecutive
/// rows, so column-major reads and writes coalesce).
template <class F>
__global__ void for_each_entry_kernel(extent e, F f) {
  const index_t n = e.size();
  for (index_t idx = global_thread(); idx < n; idx += grid_threads()) {
    const entry_index at = decode_entry(idx, e.rows, e.cols);
    f(at.b, at.i, at.j);
  }
}

/// dst = src entry by entry.
template <class T>
struct copy_entries {
  batch<const T> src;
  batch<T> dst;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    dst(b, i, j) = src(b, i, j);
  }
};

/// The strict upper triangle takes the lower one's values (exactly symmetric results).
template <class T>
struct mirror_lower_entries {
  batch<T> c;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    if (i < j) {
      c(b, i, j) = c(b, j, i);
    }
  }
};

/// Zeroes the strict upper triangle (potrf leaves its input there).
template <class T>
struct zero_upper_entries {
  batch<T> c;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    if (i < j) {
      c(b, i, j) = T(0);
    }
  }
};

/// c = value everywhere.
template <class T>
struct fill_entries {
  batch<T> c;
  T value;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    c(b, i, j) = value;
  }
};

/// c = a − mean of the row (means in double, `rows` per matrix back to back).
template <class T>
struct subtract_row_means {
  batch<const T> a;
  batch<T> c;
  const double* mean;
  SPECTRAL_HOST_DEVICE void operator()(index_t b, index_t i, index_t j) const {
    c(b, i, j) = static_cast<T>(static_cast<double>(a(b, i, j)) - mean[b * a.rows + i]);
  }
};

// --- deterministic reductions -------------------------------------------------------------------

/// Sum in double.
struct sum_combine {
  static constexpr double identity = 0.0;
  __device__ double operator()(double x, double y) const { return x + y; }
};

/// Maximum of non-negative values that keeps a NaN (fmax would drop it).
struct max_combine {
  static constexpr double identity = 0.0;
  __device__ double operator()(double x, double y) const { return (x > y || isnan(x)) ? x : y; }
};

/// Element e of matrix b's reduction: the diagonal.
template <class T>
struct trace_reader {
  batch<const T> a;
  __device__ double operator()(index_t b, index_t e) const {
    return static_cast<double>(a(b, e, e));
  }
};

/// Element e (column-major) of matrix b: a ∘ b.
template <class T>
struct dot_reader {
  batch<const T> a;
  batch<const T> b;
  __device__ double operator()(index_t m, index_t e) const {
    const index_t j = e / a.rows;
    const index_t i = e - j * a.rows;
    return static_cast<double>(a(m, i, j)) * static_cast<double>(b(m, i, j));
  }
};

/// Element e (column-major) of matrix b: |a|.
template <class T>
struct abs_reader {
  batch<const T> a;
  __device__ double operator()(index_t b, index_t e) const {
    const index_t j = e / a.rows;
    const index_t i = e - j * a.rows;
    return fabs(static_cast<double>(a(b, i, j)));
  }
};

/// Combines `value` over a warp (xor butterfly: every lane ends with the same value, formed
/// in the same order on every run).
template <class Combine>
__device__ double warp_combine(double value, Combine combine) {
  for (int offset = warp_threads / 2; offset > 0; offset /= 2) {
    value = combine(value, __shfl_xor_sync(0xffffffffU, value, offset));
  }
  return value;
}

/// Combines `value` over the block in a fixed order; the result is valid in thread 0.
template <class Combine>
__device__ double block_combine(double value, Combine combine) {
  __shared__ double per_warp[block_threads / warp_threads];
  value = warp_combine(value, combine);
  const int lane = static_cast<int>(threadIdx.x) % warp_threads;
  const int warp = static_cast<int>(threadIdx.x) / warp_threads;
  if (lane == 0) {
    per_warp[warp] = value;
  }
  __syncthreads();
  double total = Combine::identity;
  if (threadIdx.x == 0) {
    for (int w = 0; w < static_cast<int>(blockDim.x) / warp_threads; ++w) {
      total = combine(total, per_warp[w]);
    }
  }
  __syncthreads();  // per_warp is reused by the next call
  return total;
}

/// First pass: task t = (matrix b, chunk c) combines elements [c·chunk, (c+1)·chunk) of
/// matrix b in one block; the result goes to partials[t], or straight to out[b] as T when a
/// matrix is one chunk. The element → thread mapping depends only on the shape, so the
/// result is the same on every run and every device.
template <class T, class Reader, class Combine>
__global__ void reduce_chunks_kernel(Reader read,
                                     Combine combine,
                                     index_t count,
                                     index_t work,
                                     index_t chunk,
                                     index_t chunks,
                                     double* partials,
                                     T* out) {
  const index_t tasks = count * chunks;
  for (index_t task = blockIdx.x; task < tasks; task += gridDim.x) {  // uniform in the block
    const index_t b = task / chunks;
    const index_t begin = (task - b * chunks) * chunk;
    const index_t end = begin + chunk < work ? begin + chunk : work;
    double value = Combine::identity;
    for (index_t e = begin + threadIdx.x; e < end; e += blockDim.x) {
      value = combine(value, read(b, e));
    }
    value = block_combine(value, combine);
    if (threadIdx.x == 0) {
      if (chunks == 1) {
        out[b] = static_cast<T>(value);
      } else {
        partials[task] = value;
      }
    }
  }
}

/// Second pass: one warp per matrix combines its chunks' partials in a fixed order.
template <class T, class Combine>
__global__ void reduce_partials_kernel(
    Combine combine, const double* partials, index_t count, index_t chunks, T* out) {
  const int lane = static_cast<int>(threadIdx.x) % warp_threads;
  const index_t warps = grid_threads() / warp_threads;
  for (index_t b = global_thread() / warp_threads; b < count; b += warps) {
    double value = Combine::identity;
    for (index_t c = lane; c < chunks; c += warp_threads) {
      value = combine(value, partials[b * chunks + c]);
    }
    value = warp_combine(value, combine);
    if (lane == 0) {
      out[b] = static_cast<T>(value);
    }
  }
}

// --- finiteness -------------------------------------------------------------------------------

/// One pass over every entry; per warp, the first lane holding a NaN or Inf reports it (one
/// atomic per warp at most, none once the flag is set). `packed`: the batch is contiguous,
/// entries are read at their flat index.
template <class T>
__global__ void check_finite_batch_kernel(batch<const T> a,
                                          bool packed,
                                          status_word* status,
                                          unsigned flag) {
  const index_t area = a.rows * a.cols;
  const index_t n = a.count * area;
  const index_t bound = (n + warp_threads - 1) / warp_threads * warp_threads;
  const int lane = static_cast<int>(threadIdx.x) % warp_threads;
  // The grid's threads are a multiple of 32, so every lane of a warp runs the same iterations.
  for (index_t idx = global_thread(); idx < bound; idx += grid_threads()) {
    double value = 0.0;
    index_t b = 0;
    bool bad = false;
    if (idx < n) {
      if (packed) {
        value = static_cast<double>(a.data[idx]);
        b = idx / area;
      } else {
        const entry_index at = decode_entry(idx, a.rows, a.cols);
        value = static_cast<double>(a(at.b, at.i, at.j));
        b = at.b;
      }
      bad = !isfinite(value);
    }
    const unsigned mask = __ballot_sync(0xffffffffU, bad);
    if (mask != 0U && lane == __ffs(static_cast<int>(mask)) - 1) {
      const unsigned seen = *static_cast<volatile unsigned*>(&status->flags);
      if ((seen & flag) == 0U) {
        report(status, flag, static_cast<int>(b), value, 0.0);
      }
    }
  }
}

// --- centring ---------------------------------------------------------------------------------

/// Mean over rows (one mean per column), fused: a group of `group` threads (a power of two,
/// 32..256) owns one column at a time; its lanes read consecutive rows (coalesced), combine
/// their sums in a fixed shared-memory tree, then write the centred column. C may be A.
template <class T>
__global__ void center_over_rows_kernel(batch<const T> a, batch<T> c, T* means, int group) {
  __shared__ double sums[block_threads];
  const int per_block = block_threads / group;
  const int lane = static_cast<int>(threadIdx.x) % group;
  const int slot = static_cast<int>(threadIdx.x) / group;
  const index_t columns = a.count * a.cols;
  const auto rows = static_cast<double>(a.rows);
  for (index_t first = static_cast<index_t>(blockIdx.x) * per_block; first < columns;
       first += static_cast<index_t>(gridDim.x) * per_block) {  // uniform in the block
    const index_t column = first + slot;
    const bool active = column < columns;
    const index_t b = active ? column / a.cols : 0;
    const index_t j = active ? column - b * a.cols : 0;
    double sum = 0.0;
    if (active) {
      for (index_t i = lane; i < a.rows; i += group) {
        sum += static_cast<double>(a(b, i, j));
      }
    }
    sums[threadIdx.x] = sum;
    __syncthreads();
    for (int step = group / 2; step > 0; step /= 2) {
      if (lane < step) {
        sums[threadIdx.x] += sums[threadIdx.x + static_cast<unsigned>(step)];
      }
      __syncthreads();
    }
    const double mean = sums[slot * group] / rows;
    if (active) {
      for (index_t i = lane; i < a.rows; i += group) {
        c(b, i, j) = static_cast<T>(static_cast<double>(a(b, i, j)) - mean);
      }
      if (lane == 0 && means != nullptr) {
        means[column] = static_cast<T>(mean);
      }
    }
    __syncthreads();  // sums is reused by the next column group
  }
}

/// Mean over columns (one mean per row), first pass: task = (matrix b, tile of `tile_rows`
/// rows, split s of `split_cols` columns). Thread (x, y) = (row in the tile, column lane):
/// a warp reads consecutive rows of a column (coalesced); the lanes' sums are combined in a
/// fixed shared-memory tree into partials[(b·splits + s)·rows + i].
template <class T>
__global__ void row_sum_partials_kernel(batch<const T> a,
                                        int tile_rows,
                                        index_t tiles,
                                        index_t split_cols,
                                        index_t splits,
                                        double* partials) {
  __shared__ double sums[block_threads];
  const int x = static_cast<int>(threadIdx.x) % tile_rows;
  const int y = static_cast<int>(threadIdx.x) / tile_rows;
  const int lanes = block_threads / tile_rows;
  const index_t tasks = a.count * tiles * splits;
  for (index_t task = blockIdx.x; task < tasks; task += gridDim.x) {  // uniform in the block
    const index_t s = task % splits;
    const index_t tile = (task / splits) % tiles;
    const index_t b = task / (splits * tiles);
    const index_t i = tile * tile_rows + x;
    const index_t begin = s * split_cols;
    const index_t end = begin + split_cols < a.cols ? begin + split_cols : a.cols;
    double sum = 0.0;
    if (i < a.rows) {
      for (index_t j = begin + y; j < end; j += lanes) {
        sum += static_cast<double>(a(b, i, j));
      }
    }
    sums[threadIdx.x] = sum;
    __syncthreads();
    for (int step = lanes / 2; step > 0; step /= 2) {
      if (y < step) {
        sums[threadIdx.x] += sums[threadIdx.x + static_cast<unsigned>(step * tile_rows)];
      }
      __syncthreads();
    }
    if (y == 0 && i < a.rows) {
      partials[(b * splits + s) * a.rows + i] = sums[x];
    }
    __syncthreads();  // sums is reused by the next task
  }
}

/// Mean over columns, second pass: one thread per (matrix, row) sums its splits in order.
template <class T>
__global__ void row_means_kernel(const double* partials,
                                 index_t count,
                                 index_t rows,
                                 index_t cols,
                                 index_t splits,
                                 double* mean,
                                 T* means) {
  for (index_t r = global_thread(); r < count * rows; r += grid_threads()) {
    const index_t b = r / rows;
    const index_t i = r - b * rows;
    double sum = 0.0;
    for (index_t s = 0; s < splits; ++s) {
      sum += partials[(b * splits + s) * rows + i];
    }
    const double m = sum / static_cast<double>(cols);
    mean[r] = m;
    if (means != nullptr) {
      means[r] = static_cast<T>(m);
    }
  }
}

// --- factorisations ---------------------------------------------------------------------------

/// One warp per eigenvector of a strided batch of K×K eigenvector matrices: flips it so that
/// its largest-magnitude entry (the first on a tie, as the CPU backend picks) is positive.
template <class T>
__global__ void fix_signs_kernel(batch<T> vectors) {
  const int lane = static_cast<int>(threadIdx.x) % warp_threads;
  const index_t warps = grid_threads() / warp_threads;
  const index_t k = vectors.rows;
  const index_t columns = vectors.count * vectors.cols;
  for (index_t column = global_thread() / warp_threads; column < columns; column += warps) {
    const index_t b = column / vectors.cols;
    T* u = vectors.matrix(b) + (column - b * vectors.cols) * vectors.ld;
    T best = T(-1);
    index_t best_index = 0;
    for (index_t i = lane; i < k; i += warp_threads) {
      const T magnitude = u[i] < T(0) ? -u[i] : u[i];
      if (magnitude > best) {
        best = magnitude;
        best_index = i;
      }
    }
    for (int offset = warp_threads / 2; offset > 0; offset /= 2) {
      const T other = __shfl_xor_sync(0xffffffffU, best, offset);
      const index_t other_index = __shfl_xor_sync(0xffffffffU, best_index, offset);
      if (other > best || (other == best && other_index < best_index)) {
        best = other;
        best_index = other_index;
      }
    }
    const bool flip = u[best_index] < T(0);
    __syncwarp();
    if (flip) {
      for (index_t i = lane; i < k; i += warp_threads) {
        u[i] = -u[i];
      }
    }
  }
}

/// Cholesky outcome per matrix: a nonzero info, or a pivot L_ii that is not positive (NaN
/// included), is recorded as status_not_positive_definite with the smallest L_ii² (0 when
/// the factorisation stopped).
template <class T>
__global__ void potrf_status_kernel(batch<const T> lower, const int* info, status_word* status) {
  for (index_t b = global_thread(); b < lower.count; b += grid_threads()) {
    double smallest = 0.0;
    bool positive = info[b] == 0;
    if (positive) {
      smallest = 1.0e308;
      for (index_t i = 0; i < lower.rows; ++i) {
        const double pivot = static_cast<double>(lower(b, i, i));
        const double square = pivot * pivot;
        positive = positive && pivot > 0.0;
        smallest = (square < smallest || isnan(square)) ? square : smallest;  // NaN stays
      }
    }
    if (!positive) {
      report(status, status_not_positive_definite, static_cast<int>(b),
             info[b] == 0 ? smallest : 0.0, 0.0);
    }
  }
}

/// The per-matrix pointers of one or two batches for the pointer-array library calls:
/// out[b] = first + b·first_stride, out[count + b] = second + b·second_stride.
template <class T>
__global__ void batch_pointers_kernel(
    T* first, index_t first_stride, T* second, index_t second_stride, index_t count, T** out) {
  for (index_t b = global_thread(); b < count; b += grid_threads()) {
    out[b] = first + b * first_stride;
    if (second != nullptr) {
      out[count + b] = second + b * second_stride;
    }
  }
}

}  // namespace spectral::cuda::detail
