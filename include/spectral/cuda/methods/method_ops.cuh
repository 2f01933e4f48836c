// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <spectral/cuda/backend.cuh>
#include <spectral/cuda/kernels/launch.cuh>

#include <cstdint>

namespace spectral::cuda {

/**
 * @brief How a method runs on the CUDA backend: specialised per method (or per method family)
 *        in cuda/methods/. Each specialisation provides
 *        - `state<T>`: what forward keeps for backward, in device memory;
 *        - `compute(method, backend&, settings, sigma, w, state, k, count, status)`: Σ → W for
 *          `count` K×K groups at once (sigma's buffer may be consumed);
 *        - `gradient(method, backend&, settings, state, w, grad_w, grad_sigma, k, count)`;
 *        - optionally `validate(method)`: throws invalid_input, when the transform is made, for
 *          method settings this backend does not support.
 * A spectral-function method (value/derivative) gets the generic eigen path for free; a hook
 * method needs its own specialisation.
 */
template <class Method>
struct method_ops;

namespace detail {

/// Launches a grid-stride kernel over `work` items on the backend's stream.
template <class Kernel, class... Args>
void launch(const backend& be, const char* name, std::int64_t work, Kernel kernel,
            Args... args) {
  kernel<<<grid_blocks(work), block_threads, 0, be.stream()>>>(args...);
  check_launch(name);
}

/// C_b = alpha · op(A_b) op(B_b) + beta · C_b for `count` K×K matrices stored back to back.
template <class T>
void square_gemm(backend& be, bool transpose_a, bool transpose_b, T alpha, const T* a,
                 const T* b, T beta, T* c, std::int64_t k, std::int64_t count) {
  be.gemm<T>(transpose_a, transpose_b, k, k, k, alpha, a, k, k * k, b, k, k * k, beta, c, k, k * k,
             count);
}

/// Switches TF32 on for the lifetime of the guard (float only) and back off afterwards.
class tf32_scope {
 public:
  tf32_scope(backend& be, bool on) : be_(be), on_(on) {
    if (on_) {
      be_.use_tf32(true);
    }
  }
  tf32_scope(const tf32_scope&) = delete;
  tf32_scope& operator=(const tf32_scope&) = delete;
  ~tf32_scope() {
    if (on_) {
      try {
        be_.use_tf32(false);
      } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot report
      }
    }
  }

 private:
  backend& be_;
  bool on_;
};

}  // namespace detail
}  // namespace spectral::cuda
