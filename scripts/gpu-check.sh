#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# On the GPU machine (after scripts/gpu-stage.sh on the CPU machine): the `gpu` tests, the same
# tests under compute-sanitizer memcheck, then spectral_cuda_bench built against PyTorch's CUDA
# LibTorch and its ratio table. Logs go to $OUT (default gpu-check-out/); a summary prints last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"

if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no GPU on this machine (nvidia-smi failed); run scripts/gpu-stage.sh here" \
       "and this script on the GPU machine" >&2
  exit 2
fi
tests=build/gpu/tests/cuda/spectral_cuda_tests
if [[ ! -x $tests ]]; then
  echo "gpu-check: $tests is missing: run scripts/gpu-stage.sh on the CPU machine and carry it" >&2
  exit 2
fi
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:$PWD/build/gpu-deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
echo "gpu-check on: $gpu" | tee "$OUT/summary.txt"

echo "== tests" | tee -a "$OUT/summary.txt"
"$tests" "[gpu],[cuda]" --reporter console::out="$OUT/tests.txt" --reporter JUnit::out="$OUT/tests.xml"
tests_rc=$?
tail -4 "$OUT/tests.txt" | tee -a "$OUT/summary.txt"
grep -B2 -A12 'FAILED' "$OUT/tests.txt" | head -80 >> "$OUT/summary.txt"

echo "== compute-sanitizer memcheck (all gpu tests but the finite-difference sweep)" | tee -a "$OUT/summary.txt"
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
timeout 240 "$sanitizer" --tool memcheck --error-exitcode 9 "$tests" "[gpu]~[gradient]" \
  > "$OUT/memcheck.txt" 2>&1
memcheck_rc=$?
tail -3 "$OUT/memcheck.txt" | tee -a "$OUT/summary.txt"

echo "== benchmarks (spectral vs LibTorch CUDA, same binary)" | tee -a "$OUT/summary.txt"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
bench_rc=0
if cmake -S . -B build/device -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a \
     "-DCMAKE_PREFIX_PATH=$torch_prefix;$PWD/build/gpu-deps" -DSPECTRAL_WITH_BLAS=OFF \
     -DSPECTRAL_BUILD_TESTS=OFF -DSPECTRAL_BUILD_EXAMPLES=OFF -DSPECTRAL_INSTALL=OFF \
     > "$OUT/bench-build.txt" 2>&1 &&
   cmake --build build/device --target spectral_cuda_bench -j16 >> "$OUT/bench-build.txt" 2>&1; then
  build/device/bench/spectral_cuda_bench --benchmark_min_time=0.2 \
    --benchmark_out="$OUT/bench.json" --benchmark_out_format=json > "$OUT/bench.txt" 2>&1
  bench_rc=$?
  python3 scripts/gpu_bench_table.py "$OUT/bench.json" -o "$OUT/bench-table.md" >> "$OUT/summary.txt"
else
  bench_rc=1
  echo "benchmark build failed:" >> "$OUT/summary.txt"
  grep -m 20 -E 'error|Error' "$OUT/bench-build.txt" >> "$OUT/summary.txt"
fi

echo "== exit codes: tests $tests_rc, memcheck $memcheck_rc, bench $bench_rc" | tee -a "$OUT/summary.txt"
cat "$OUT/summary.txt"
[[ $tests_rc == 0 && $memcheck_rc == 0 && $bench_rc == 0 ]]
