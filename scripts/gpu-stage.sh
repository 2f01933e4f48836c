#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# On the CPU machine: builds what scripts/gpu-check.sh needs on the GPU machine, which has no
# Debian packages (device.md, recipe 1):
#   build/gpu/tests/cuda/spectral_cuda_tests  the CUDA tests for sm_90a (CPU side on plain Eigen,
#                                             so no BLAS library has to travel)
#   build/gpu-deps/                           Google Benchmark (headers, libraries, CMake config)
#                                             for building spectral_cuda_bench there; CLI11,
#                                             nlohmann-json, TurboJPEG and zlib for the trainer;
#                                             Fashion-MNIST (gzip IDX, 30 MB) for its recipe
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
# The trainer's dependencies (device.md, recipe 2): header-only CLI11 and nlohmann-json with
# their CMake configs, TurboJPEG and zlib as static libraries.
mkdir -p "$deps/share/cmake"
cp -r /usr/include/CLI /usr/include/nlohmann /usr/include/turbojpeg.h /usr/include/zlib.h \
  /usr/include/zconf.h "$deps/include/"
cp -r /usr/share/cmake/CLI11 /usr/share/cmake/nlohmann_json "$deps/share/cmake/"
cp /usr/lib/x86_64-linux-gnu/libturbojpeg.a /usr/lib/x86_64-linux-gnu/libz.a "$lib/"
# Catch2 v3 (static) for the trainer's [cuda] tests, built there against the CUDA LibTorch.
mkdir -p "$deps/lib/cmake"
cp -r /usr/include/catch2 "$deps/include/"
cp -r /usr/lib/cmake/Catch2 "$deps/lib/cmake/"
cp /usr/lib/libCatch2.a /usr/lib/libCatch2Main.a "$deps/lib/"
# Eigen 3.4 exactly as here (headers + CMake config), whatever the GPU machine has.
mkdir -p "$deps/share/eigen3"
cp -r /usr/include/eigen3 "$deps/include/"
cp -r /usr/share/eigen3/cmake "$deps/share/eigen3/"

# Fashion-MNIST for the 30-epoch recipe (gpu-check.sh stage `recipe`).
if [[ -d /usr/share/datasets/fashion-mnist ]]; then
  mkdir -p "$deps/fashion-mnist"
  cp /usr/share/datasets/fashion-mnist/*.gz "$deps/fashion-mnist/"
fi

du -sh build/gpu/tests/cuda/spectral_cuda_tests "$deps"
echo "gpu-stage: carry build/gpu/tests/cuda/spectral_cuda_tests and $deps; run scripts/gpu-check.sh"
