#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# The main job: a short INTL pretraining on Fashion-MNIST on the CPU (a narrow ResNet-18 with
# the CIFAR stem, IterNorm T=4 over samples from the spectral library), then 5-NN and linear-probe
# accuracy of the pretrained encoder next to the same evaluation of a random one. A few minutes
# on 2 cores. Extra flags are passed on (e.g. --epochs 30 --train-subset 0 for the full recipe).
set -euo pipefail
cd "$(dirname "$0")/.."
exe=build/release/examples/torch_trainer/intl_train
if [[ ! -x $exe ]]; then
  echo "pretrain: $exe is missing; build it: cmake --preset release && cmake --build --preset release --target intl_train" >&2
  exit 2
fi
exec "$exe" --epochs 8 --train-subset 8192 --width 16 --projector 512 \
  --eval-train-subset 10000 --eval-test-subset 2000 --out runs/fashion-mnist "$@"
