// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// handles: the cuBLAS and cuSOLVER handles a CUDA backend owns.

#include <spectral/cuda/device.cuh>
#include <spectral/cuda/error.cuh>

#include <utility>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

namespace spectral::cuda {

/**
 * @brief Move-only owner of one cuBLAS handle, one cuSOLVER handle and its parameter object.
 *
 * Created lazily by the backend on first use so that transforms can be built, and their inputs
 * validated, on machines without a GPU. Not thread-safe: one per thread or stream.
 */
class handles {
 public:
  /// @throws cuda_error when there is no device or a handle cannot be created.
  handles() {
    require_device();
    SPECTRAL_CUBLAS_TRY(cublasCreate(&blas_));
    try {
      SPECTRAL_CUSOLVER_TRY(cusolverDnCreate(&solver_));
      SPECTRAL_CUSOLVER_TRY(cusolverDnCreateParams(&params_));
    } catch (...) {
      destroy();
      throw;
    }
  }
  handles(const handles&) = delete;
  handles& operator=(const handles&) = delete;
  /// Takes over `other`'s handles, leaving it empty.
  handles(handles&& other) noexcept { swap(other); }
  /// Destroys the handles held, then takes over `other`'s.
  handles& operator=(handles&& other) noexcept {
    if (this != &other) {
      destroy();
      swap(other);
    }
    return *this;
  }
  ~handles() { destroy(); }

  /// Points both libraries at `stream` (cheap; done at every public call).
  void bind(cudaStream_t stream) {
    SPECTRAL_CUBLAS_TRY(cublasSetStream(blas_, stream));
    SPECTRAL_CUSOLVER_TRY(cusolverDnSetStream(solver_, stream));
  }

  /// The cuBLAS handle.
  [[nodiscard]] cublasHandle_t blas() const noexcept { return blas_; }
  /// The cuSOLVER dense handle.
  [[nodiscard]] cusolverDnHandle_t solver() const noexcept { return solver_; }
  /// The cuSOLVER parameter object of the 64-bit API (cusolverDnX*).
  [[nodiscard]] cusolverDnParams_t params() const noexcept { return params_; }

 private:
  void destroy() noexcept {
    if (params_ != nullptr) {
      (void)cusolverDnDestroyParams(params_);
    }
    if (solver_ != nullptr) {
      (void)cusolverDnDestroy(solver_);
    }
    if (blas_ != nullptr) {
      (void)cublasDestroy(blas_);
    }
    params_ = nullptr;
    solver_ = nullptr;
    blas_ = nullptr;
  }
  void swap(handles& other) noexcept {
    std::swap(blas_, other.blas_);
    std::swap(solver_, other.solver_);
    std::swap(params_, other.params_);
  }

  cublasHandle_t blas_ = nullptr;
  cusolverDnHandle_t solver_ = nullptr;
  cusolverDnParams_t params_ = nullptr;
};

}  // namespace spectral::cuda
