// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The experiments run OpenBLAS on one thread. Their products are small (at most 256×576×128),
/// where OpenBLAS's threads cost more than they save (a collapse run was much slower with two
/// threads on a busy 2-core VM), and a threaded gemm gave different low-order bits than a single
/// thread, so the CSVs of a seed would depend on the machine's core count.

// Declared weak: absent (another BLAS, or none) it is null and nothing happens.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

namespace spectral::cli {

inline void use_single_threaded_blas() {
  if (openblas_set_num_threads != nullptr) {
    openblas_set_num_threads(1);
  }
}

}  // namespace spectral::cli
