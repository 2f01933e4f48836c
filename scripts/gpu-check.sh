#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# On the GPU machine (after scripts/gpu-stage.sh on the CPU machine), in one call that fits the
# device budget (GPU_CHECK_BUDGET seconds, default 560; each step's limit shrinks to fit it):
#   1. builds intl_train (CUDA bridge), make_image_folder and spectral_cuda_bench against
#      PyTorch's CUDA LibTorch, in the background while 2 and 3 run;
#   2. the `gpu` tests; 3. the same tests under compute-sanitizer memcheck;
#   4. the trainer's throughput at the ImageNet setting (ResNet-50, 2 x 224, batch 256,
#      projector 3 x 8192, IterNorm T=4 over samples, AMP fp16, channels_last): --synthetic with
#      the reference engine in the same process, --loader-only and --pipeline on a generated
#      folder of ImageNet-sized JPEGs;
#   5. full training on CUDA (ImageFolder, AMP, channels_last): 2 epochs with checkpoints, then
#      --resume for a third; then intl_eval --device cuda (linear, AMP) on its checkpoint and
#      intl_export of it;
#   6. the trainer's [cuda] tests (the bridge on CUDA tensors, fp16 input, GPU augmentation);
#   7. only when GPU_CHECK_STAGES names `recipe` (minutes): the 30-epoch Fashion-MNIST recipe
#      (ResNet-18 CIFAR stem, batch 256, projector 3 x 2048, IterNorm T=4 over samples, lr 0.3,
#      wd 1e-4, 2 warm-up epochs; AMP, channels_last), RECIPE_EPOCHS to shorten it;
#   8. the CUDA benchmarks (spectral vs LibTorch CUDA, same binary) and their ratio table;
#   9. the Python package on CUDA: the pytest suite (test_cuda.py and the rest) and
#      bench/python/bench_modules.py --device cuda.
# GPU_CHECK_STAGES picks steps (comma-separated: tests, memcheck, throughput, training,
# trainer-tests, recipe, bench, python; default all but recipe); the build always runs.
# Logs go to $OUT (default gpu-check-out/); the summary prints last.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
budget=${GPU_CHECK_BUDGET:-560}
start=$SECONDS
left() { echo $((budget - (SECONDS - start))); }
# cap LIMIT RESERVE: LIMIT seconds, or less so that RESERVE seconds remain for later steps.
cap() { local t=$(($(left) - $2)); ((t > $1)) && t=$1; ((t < 5)) && t=5; echo $t; }
summary="$OUT/summary.txt"
stages=",${GPU_CHECK_STAGES:-all},"
want() { [[ $stages == *,all,* || $stages == *,$1,* ]]; }
for stage in ${GPU_CHECK_STAGES//,/ }; do
  case $stage in
    all | tests | memcheck | throughput | training | trainer-tests | recipe | bench | python) ;;
    *) echo "gpu-check: unknown stage '$stage' in GPU_CHECK_STAGES" >&2; exit 2 ;;
  esac
done
# Runs whose checkpoints are too big to come back from the device (ResNet-50 + 3 x 8192
# projector: ~1.4 GB) write under $runs; only their summaries and metrics are copied to $OUT.
runs=/tmp/gpu-check-runs
mkdir -p "$runs"
say() { echo "$*" | tee -a "$summary"; }

if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no GPU on this machine (nvidia-smi failed); run scripts/gpu-stage.sh here" \
       "and this script on the GPU machine" >&2
  exit 2
fi
tests=build/gpu/tests/cuda/spectral_cuda_tests
deps=$PWD/build/gpu-deps
if [[ ! -x $tests || ! -d $deps ]]; then
  echo "gpu-check: $tests or $deps is missing: run scripts/gpu-stage.sh on the CPU machine and carry both" >&2
  exit 2
fi
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
say "gpu-check on: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)," \
    "$(nproc) cores, torch $(python3 -c 'import torch; print(torch.__version__)' 2>/dev/null)"

# 1. the build, in the background
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_include=$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
say "LibTorch headers: gloo $([[ -d $torch_include/gloo ]] && echo present || echo absent)," \
    "c10d $([[ -d $torch_include/torch/csrc/distributed/c10d ]] && echo present || echo absent)"
(
  cmake -S . -B build/device -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a \
    "-DCMAKE_PREFIX_PATH=$deps;$torch_prefix" -DSPECTRAL_WITH_BLAS=OFF \
    -DSPECTRAL_BUILD_TESTS=ON -DSPECTRAL_BUILD_EXAMPLES=ON -DSPECTRAL_BUILD_TORCH_EXAMPLE=ON \
    -DSPECTRAL_BUILD_PYTHON=ON -DSPECTRAL_INSTALL=OFF &&
  cmake --build build/device --target make_image_folder intl_train intl_eval intl_export \
    spectral_cuda_bench spectral_trainer_tests spectral_torch_package -j16 -- -k
) > "$OUT/build.txt" 2>&1 &
build_pid=$!

# 2. tests
tests_rc=skipped memcheck_rc=skipped
if want tests; then
  say "== tests"
  timeout "$(cap 120 300)" "$tests" "[gpu],[cuda]" --reporter console::out="$OUT/tests.txt" \
    --reporter JUnit::out="$OUT/tests.xml"
  tests_rc=$?
  tail -4 "$OUT/tests.txt" | tee -a "$summary"
  grep -B2 -A14 'FAILED' "$OUT/tests.txt" | head -90 >> "$summary"
fi

# 3. memcheck (the finite-difference sweep is left out: thousands of forward calls)
if want memcheck; then
  say "== compute-sanitizer memcheck ([gpu]~[gradient])"
  sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
  timeout "$(cap 90 300)" "$sanitizer" --tool memcheck --error-exitcode 9 "$tests" "[gpu]~[gradient]" \
    > "$OUT/memcheck.txt" 2>&1
  memcheck_rc=$?
  grep -E "ERROR SUMMARY|test cases|assertions" "$OUT/memcheck.txt" | tail -3 | tee -a "$summary"
  [[ $memcheck_rc == 124 ]] && say "memcheck: stopped at its time limit (rc 124)"
fi

# 4. the trainer
wait "$build_pid"
build_rc=$?
say "== build (rc $build_rc, $((SECONDS - start)) s in)"
grep -E "CUDA bridge|error" "$OUT/build.txt" | head -30 | tee -a "$summary"
train=build/device/examples/torch_trainer/intl_train
if [[ ! -x $train ]] && (($(left) > 300)); then  # retry once without c10d (single process)
  say "-- intl_train did not build; retrying with -DSPECTRAL_TRAINER_C10D=OFF"
  { cmake build/device -DSPECTRAL_TRAINER_C10D=OFF &&
    cmake --build build/device --target intl_train -j16; } > "$OUT/build-no-c10d.txt" 2>&1
  grep -m 10 -E "error" "$OUT/build-no-c10d.txt" | tee -a "$summary"
fi
maker=build/device/examples/torch_trainer/make_image_folder
imagenet=(--arch resnet50 --imagenet-stem --projector 8192 --batch 256 --transform iternorm
          --iters 4 --axis samples --no-decay-1d --wd 1e-5 --device cuda --threads 16)
synthetic_rc=skipped loader_rc=skipped pipeline_rc=skipped training_rc=skipped
folder=/tmp/imagenet-like
if [[ -x $maker ]] && { want throughput || want training; }; then
  timeout "$(cap 30 60)" "$maker" --out "$folder" --classes 10 --per-class 400 --threads 16 \
    2>&1 | tee -a "$summary"
fi
if [[ -x $train ]] && want throughput; then
  say "== synthetic (AMP fp16, channels_last; library vs reference engine, same process)"
  timeout "$(cap 120 100)" "$train" --synthetic "${imagenet[@]}" --amp --channels-last --compare-reference \
    --phases --synthetic-steps 15 --out "$OUT/synthetic" > "$OUT/synthetic.txt" 2>&1
  synthetic_rc=$?
  grep -E "synthetic|error" "$OUT/synthetic.txt" | tee -a "$summary"
  if [[ $synthetic_rc != 0 ]]; then  # the reference engine alone, so the peer is still measured
    say "-- synthetic, reference engine alone"
    timeout "$(cap 60 100)" "$train" --synthetic "${imagenet[@]}" --amp --channels-last --engine reference \
      --synthetic-steps 15 --out "$OUT/synthetic-ref" 2>&1 | grep -E "synthetic|error" | tee -a "$summary"
  fi
  if [[ -d $folder ]]; then
    say "== loader only (16 threads, 2 crops of 224 per image)"
    timeout "$(cap 40 50)" "$train" --loader-only "${imagenet[@]}" --data "$folder" \
      --synthetic-steps 12 > "$OUT/loader.txt" 2>&1
    loader_rc=$?
    grep -E "loader|error" "$OUT/loader.txt" | tee -a "$summary"
    say "== loader only, multi-crop (16 threads, 224, 224, 192, 160, 128, 96 per image)"
    timeout "$(cap 30 50)" "$train" --loader-only --multi-crop "${imagenet[@]}" --data "$folder" \
      --synthetic-steps 12 2>&1 | grep -E "loader|error" | tee -a "$summary"
    say "== pipeline: loader + augmentation on the GPU + step (AMP, channels_last)"
    timeout "$(cap 90 30)" "$train" --pipeline "${imagenet[@]}" --amp --channels-last --data "$folder" \
      --loader-threads 14 --synthetic-steps 12 > "$OUT/pipeline.txt" 2>&1
    pipeline_rc=$?
    grep -E "pipeline|error" "$OUT/pipeline.txt" | tee -a "$summary"
  fi
  nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv >> "$summary"
fi

# 5. full training on the GPU: checkpoints each epoch (4,000 images, batch 256: 15 steps), the
#    run stopped after 2 epochs by --max-steps, then resumed from its checkpoint for the third
if want training; then
  training_rc=missing  # wanted but could not run: counts as a failure
fi
if [[ -x $train && -d $folder ]] && want training; then
  say "== full training on CUDA (ImageFolder, AMP, channels_last): 2 epochs, then --resume"
  rm -rf "$runs/train"
  run=("${imagenet[@]}" --dataset imagefolder --data "$folder" --amp --channels-last --epochs 3
       --loader-threads 14 --no-progress --out "$runs/train")
  timeout "$(cap 90 60)" "$train" "${run[@]}" --max-steps 30 > "$OUT/train.txt" 2>&1 &&
    timeout "$(cap 60 40)" "$train" "${run[@]}" --resume >> "$OUT/train.txt" 2>&1
  training_rc=$?
  cp "$runs/train/summary.json" "$OUT/train-summary.json" 2>/dev/null
  cp "$runs/train/metrics.jsonl" "$OUT/train-metrics.jsonl" 2>/dev/null
  grep -E "^epoch|resumed|skipped|error|diverged" "$OUT/train.txt" | tail -8 | tee -a "$summary"
  # The second run must have resumed (at epoch 2) and finished the third epoch.
  if [[ $training_rc == 0 ]] && ! { grep -q "resumed from .* at epoch 2" "$OUT/train.txt" &&
      python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["completed"] else 1)' \
        "$OUT/train-summary.json"; }; then
    say "training: the resumed run did not start at epoch 2 or did not complete"
    training_rc=not-resumed
  fi
fi

# 5b. GPU linear evaluation of that checkpoint (the folder's train/ doubles as val/), and its
#     export for torch.load
eval_rc=skipped
evaluate=build/device/examples/torch_trainer/intl_eval
exporter=build/device/examples/torch_trainer/intl_export
if [[ $training_rc == 0 && -x $evaluate ]] && want training; then
  say "== intl_eval --device cuda on the trained checkpoint (linear, AMP, 2 epochs)"
  [[ -e $folder/val ]] || ln -s train "$folder/val"
  rm -rf "$runs/eval"
  timeout "$(cap 90 40)" "$evaluate" --device cuda --amp --channels-last --data "$folder" \
    --pretrained "$runs/train/checkpoint.pt" --epochs 2 --loader-threads 14 --threads 16 \
    --no-progress --out "$runs/eval" > "$OUT/eval.txt" 2>&1
  eval_rc=$?
  cp "$runs/eval/summary.json" "$OUT/eval-summary.json" 2>/dev/null
  grep -E "^epoch|val top-1|error" "$OUT/eval.txt" | tail -4 | tee -a "$summary"
  if [[ -x $exporter ]]; then
    "$exporter" --checkpoint "$runs/train/checkpoint.pt" --output "$runs/backbone.pth" --force \
      2>&1 | tee -a "$summary"
    python3 -c 'import sys, torch, torchvision
sd = torch.load(sys.argv[1]); r = torchvision.models.resnet50().load_state_dict(sd, strict=False)
print("export: torchvision resnet50 missing", sorted(r.missing_keys), "unexpected", r.unexpected_keys)' \
      "$runs/backbone.pth" 2>&1 | tail -1 | tee -a "$summary"
  fi
fi

# 6. the trainer's [cuda] tests: the bridge on CUDA tensors vs the CPU bridge, fp16 under
#    autocast, augmentation on the GPU
trainer_tests=build/device/tests/trainer/spectral_trainer_tests
trainer_tests_rc=skipped
if [[ -x $trainer_tests ]] && want trainer-tests; then
  say "== trainer [cuda] tests"
  timeout "$(cap 60 20)" "$trainer_tests" "[cuda]" > "$OUT/trainer-tests.txt" 2>&1
  trainer_tests_rc=$?
  tail -3 "$OUT/trainer-tests.txt" | tee -a "$summary"
  grep -B2 -A14 'FAILED' "$OUT/trainer-tests.txt" | head -60 >> "$summary"
fi

# 7. the Fashion-MNIST recipe (opt-in: it takes minutes)
recipe_rc=skipped
if [[ $stages == *,recipe,* ]]; then
  recipe_rc=missing  # wanted: no trainer, or under 2 minutes left
fi
if [[ -x $train && $stages == *,recipe,* ]] && (($(left) > 120)); then
  epochs=${RECIPE_EPOCHS:-30}
  say "== recipe: Fashion-MNIST, $epochs epochs on the GPU (AMP, channels_last)"
  rm -rf "$runs/recipe"
  timeout "$(cap 600 20)" "$train" --device cuda --data "$deps/fashion-mnist" --epochs "$epochs" \
    --amp --channels-last --knn-every 10 --no-random-baseline --no-progress --threads 16 \
    --out "$runs/recipe" > "$OUT/recipe.txt" 2>&1
  recipe_rc=$?
  cp "$runs/recipe/summary.json" "$OUT/recipe-summary.json" 2>/dev/null
  cp "$runs/recipe/metrics.jsonl" "$OUT/recipe-metrics.jsonl" 2>/dev/null
  grep -E "^epoch|INTL|error|diverged" "$OUT/recipe.txt" | tail -6 | tee -a "$summary"
fi

# 9 comes before 8 (the C++ benchmarks take whatever time is left).
# 9. the Python package on CUDA: every pytest file (the CUDA cases run here), then the modules
#    against the reference modules
python_rc=skipped
if want python; then
  python_rc=missing  # wanted: the package did not build
fi
if [[ -f build/device/python/spectral_torch/__init__.py ]] && want python; then
  say "== python: pytest (CUDA cases included) and bench_modules --device cuda"
  PYTHONPATH=$PWD/build/device/python timeout "$(cap 120 60)" python3 -m pytest -q \
    -p no:cacheprovider -k "not pip_install" tests/python > "$OUT/python-tests.txt" 2>&1
  python_rc=$?
  tail -3 "$OUT/python-tests.txt" | tee -a "$summary"
  PYTHONPATH=$PWD/build/device/python timeout "$(cap 90 45)" python3 \
    bench/python/bench_modules.py --device cuda --repeats 20 --out "$OUT/python-bench.md" \
    > "$OUT/python-bench.txt" 2>&1
  bench_python_rc=$?
  ((bench_python_rc != 0)) && python_rc="$python_rc/bench $bench_python_rc"
  cat "$OUT/python-bench.txt" >> "$summary"
fi

# 8. benchmarks, with what time is left
bench_rc=skipped
bench=build/device/bench/spectral_cuda_bench
if want bench; then
  bench_rc=missing  # wanted: no binary, or under 40 s left
fi
if [[ -x $bench ]] && want bench && (($(left) > 40)); then
  say "== benchmarks ($(($(left) - 15)) s left for them)"
  timeout $(($(left) - 15)) "$bench" --benchmark_min_time=0.1 \
    --benchmark_out="$OUT/bench.json" --benchmark_out_format=json > "$OUT/bench.txt" 2>&1
  bench_rc=$?
  if [[ $bench_rc == 0 ]]; then
    python3 scripts/gpu_bench_table.py "$OUT/bench.json" -o "$OUT/bench-table.md" >> "$summary"
  else
    say "bench stopped (rc $bench_rc); rows measured so far are in bench.txt"
  fi
fi

say "== exit codes: tests $tests_rc, memcheck $memcheck_rc, build $build_rc, synthetic $synthetic_rc," \
    "loader $loader_rc, pipeline $pipeline_rc, training $training_rc, eval $eval_rc," \
    "trainer tests $trainer_tests_rc, recipe $recipe_rc, python $python_rc, bench $bench_rc;" \
    "$((SECONDS - start)) s"
cat "$summary"
ok=1
for rc in "$tests_rc" "$memcheck_rc" "$build_rc" "$synthetic_rc" "$loader_rc" "$pipeline_rc" \
          "$training_rc" "$eval_rc" "$trainer_tests_rc" "$recipe_rc" "$python_rc" "$bench_rc"; do
  [[ $rc == 0 || $rc == skipped ]] || ok=0
done
((ok))
