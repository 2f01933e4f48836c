#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# On the CPU machine: builds what scripts/gpu-check.sh needs on the GPU machine, which has no
# Debian packages (device.md, recipe 1):
#   build/gpu/tests/cuda/spectral_cuda_tests  the CUDA tests for sm_90a (CPU side on plain Eigen,
#                                             so no BLAS library has to travel)
#   build/gpu-deps/                           Google Benchmark (headers, libraries, CMake config)
#                                             for building spectral_cuda_bench there
# Then: run `bash scripts/gpu-check.sh` on the GPU machine, carrying both paths.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a \
  -DSPECTRAL_WITH_BLAS=OFF -DSPECTRAL_BUILD_BENCHMARKS=OFF -DSPECTRAL_BUILD_EXAMPLES=OFF
cmake --build build/gpu --target spectral_cuda_tests
strip build/gpu/tests/cuda/spectral_cuda_tests

deps=build/gpu-deps
lib=$deps/lib/x86_64-linux-gnu
rm -rf "$deps"
mkdir -p "$deps/include" "$lib/cmake"
cp -r /usr/include/benchmark "$deps/include/"
cp -a /usr/lib/x86_64-linux-gnu/libbenchmark.so* /usr/lib/x86_64-linux-gnu/libbenchmark_main.a "$lib/"
cp -r /usr/lib/x86_64-linux-gnu/cmake/benchmark "$lib/cmake/"

du -sh build/gpu/tests/cuda/spectral_cuda_tests "$deps"
echo "gpu-stage: carry build/gpu/tests/cuda/spectral_cuda_tests and $deps; run scripts/gpu-check.sh"
