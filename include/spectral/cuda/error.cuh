// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// cuda_error and the macros that turn a failed CUDA runtime, cuBLAS or cuSOLVER call into it.

#include <spectral/core/error.hpp>

#include <stdexcept>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cusolverDn.h>

namespace spectral {

/**
 * @brief Thrown when a CUDA runtime, cuBLAS or cuSOLVER call fails, or when no GPU is present.
 *
 * The message names the failing call and the status it returned, e.g.
 * "cublasSgemmStridedBatched(...) failed: CUBLAS_STATUS_INVALID_VALUE".
 */
class cuda_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace cuda::detail {

[[nodiscard]] inline const char* cusolver_status_name(cusolverStatus_t status) noexcept {
  switch (status) {
    case CUSOLVER_STATUS_SUCCESS:
      return "CUSOLVER_STATUS_SUCCESS";
    case CUSOLVER_STATUS_NOT_INITIALIZED:
      return "CUSOLVER_STATUS_NOT_INITIALIZED";
    case CUSOLVER_STATUS_ALLOC_FAILED:
      return "CUSOLVER_STATUS_ALLOC_FAILED";
    case CUSOLVER_STATUS_INVALID_VALUE:
      return "CUSOLVER_STATUS_INVALID_VALUE";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
      return "CUSOLVER_STATUS_ARCH_MISMATCH";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
      return "CUSOLVER_STATUS_EXECUTION_FAILED";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
      return "CUSOLVER_STATUS_INTERNAL_ERROR";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
      return "CUSOLVER_STATUS_NOT_SUPPORTED";
    default:
      return "CUSOLVER_STATUS_<other>";
  }
}

[[noreturn]] inline void throw_cuda(const char* call,
                                    cudaError_t status,
                                    const char* file,
                                    int line) {
  (void)cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw cuda_error(spectral::detail::concat(call, " failed: ", cudaGetErrorName(status), " (",
                                            cudaGetErrorString(status), ") at ", file, ":", line));
}

[[noreturn]] inline void throw_cublas(const char* call,
                                      cublasStatus_t status,
                                      const char* file,
                                      int line) {
  throw cuda_error(spectral::detail::concat(call, " failed: ", cublasGetStatusName(status), " at ",
                                            file, ":", line));
}

[[noreturn]] inline void throw_cusolver(const char* call,
                                        cusolverStatus_t status,
                                        const char* file,
                                        int line) {
  throw cuda_error(spectral::detail::concat(call, " failed: ", cusolver_status_name(status), " at ",
                                            file, ":", line));
}

}  // namespace cuda::detail
}  // namespace spectral

/// Runs a CUDA runtime call; on failure clears the error state and throws spectral::cuda_error.
#define SPECTRAL_CUDA_TRY(call)                                                               \
  do {                                                                                        \
    const cudaError_t spectral_cuda_status_ = (call);                                         \
    if (spectral_cuda_status_ != cudaSuccess) {                                               \
      ::spectral::cuda::detail::throw_cuda(#call, spectral_cuda_status_, __FILE__, __LINE__); \
    }                                                                                         \
  } while (false)

/// Runs a cuBLAS call; throws spectral::cuda_error naming the call on failure.
#define SPECTRAL_CUBLAS_TRY(call)                                                                 \
  do {                                                                                            \
    const cublasStatus_t spectral_cublas_status_ = (call);                                        \
    if (spectral_cublas_status_ != CUBLAS_STATUS_SUCCESS) {                                       \
      ::spectral::cuda::detail::throw_cublas(#call, spectral_cublas_status_, __FILE__, __LINE__); \
    }                                                                                             \
  } while (false)

/// Runs a cuSOLVER call; throws spectral::cuda_error naming the call on failure.
#define SPECTRAL_CUSOLVER_TRY(call)                                                        \
  do {                                                                                     \
    const cusolverStatus_t spectral_cusolver_status_ = (call);                             \
    if (spectral_cusolver_status_ != CUSOLVER_STATUS_SUCCESS) {                            \
      ::spectral::cuda::detail::throw_cusolver(#call, spectral_cusolver_status_, __FILE__, \
                                               __LINE__);                                  \
    }                                                                                      \
  } while (false)
