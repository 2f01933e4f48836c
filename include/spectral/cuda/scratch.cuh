// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// scratch_cache: the CUDA backend's reusable device temporaries.

#include <spectral/cuda/memory.cuh>

#include <array>
#include <cstddef>

#include <cuda_runtime.h>

namespace spectral::cuda {

/**
 * @brief The backend's scratch memory: one device buffer per kind of temporary a primitive
 *        needs for the duration of its own launches (solver workspace, solver info, pointer
 *        arrays, reduction partials, packed copies), grown when a call needs more and otherwise
 *        reused, so that a steady state of calls allocates nothing.
 *
 * Stream-ordered safety: a slot is only read and written by work enqueued on the backend's
 * stream, so a later primitive reusing it is ordered after every earlier user. A slot that
 * grows is freed in stream order (after the work already enqueued that reads it) before the
 * larger one is allocated. The backend drops the whole cache when it is bound to another
 * stream (backend::bind), so the cache never serves two streams.
 */
class scratch_cache {
 public:
  /// The kinds of temporary, one reusable buffer each.
  enum slot : int {
    solver_workspace,  ///< cuSOLVER's device workspace
    solver_info,       ///< cuSOLVER's per-matrix info
    pointers,          ///< pointer arrays of the pointer-array cuBLAS/cuSOLVER calls
    partials,          ///< reduction and centring partials (double)
    packed_matrices,   ///< packed copies of strided matrices (eigh)
    packed_values,     ///< packed eigenvalues (eigh)
    slot_count         ///< number of slots (not a slot)
  };

  /// At least `count` T in `which` (valid until the next get of the same slot). Growth frees
  /// the old buffer in stream order on the stream it was allocated on.
  template <class T>
  [[nodiscard]] T* get(slot which,
                       std::size_t count,
                       cudaStream_t stream,
                       const memory_resource& memory) {
    const std::size_t bytes = count * sizeof(T);
    device_buffer<std::byte>& held = slots_[static_cast<std::size_t>(which)];
    if (held.size() < bytes) {
      // Half again as much as before, so that slowly growing sizes settle after a few calls;
      // whole 256-byte units (the alignment of cudaMallocAsync) so carved regions stay aligned.
      std::size_t grown = held.size() + held.size() / 2;
      grown = grown > bytes ? grown : bytes;
      grown = (grown + alignment - 1) / alignment * alignment;
      held = device_buffer<std::byte>();  // freed (stream-ordered) before the larger one
      held = device_buffer<std::byte>(grown, stream, memory);
    }
    return reinterpret_cast<T*>(held.data());
  }

  /// Frees every slot, each in stream order on the stream it was allocated on.
  void release() noexcept {
    for (auto& held : slots_) {
      held = device_buffer<std::byte>();
    }
  }

  /// Bytes held (for tests and diagnostics).
  [[nodiscard]] std::size_t bytes() const noexcept {
    std::size_t total = 0;
    for (const auto& held : slots_) {
      total += held.size();
    }
    return total;
  }

  /// Alignment of every slot and of the regions callers carve from one.
  static constexpr std::size_t alignment = 256;

 private:
  std::array<device_buffer<std::byte>, slot_count> slots_;
};

}  // namespace spectral::cuda
