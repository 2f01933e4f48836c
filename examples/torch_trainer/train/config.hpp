// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Everything a training run is told, with defaults that follow the reference CIFAR recipe
/// (spec §6.5) scaled to a few CPU minutes on Fashion-MNIST.

#include "bridge/spectral_function.hpp"

#include <cstdint>
#include <filesystem>
#include <string>

namespace spectral::trainer {

enum class ssl_method { intl, intl_m };

struct train_config {
  // data
  std::string dataset = "fashion-mnist";  ///< fashion-mnist | cifar10 | cifar100 | imagefolder
  std::filesystem::path data = "/usr/share/datasets/fashion-mnist";
  std::int64_t train_subset = 0;          ///< 0: the whole training split
  std::int64_t eval_train_subset = 0;     ///< kNN / linear-probe bank size; 0: whole split
  std::int64_t eval_test_subset = 0;      ///< 0: the whole test split
  // model
  int depth = 18;
  std::int64_t width = 64;                ///< channels of the first stage (64 = torchvision)
  bool cifar_stem = true;
  std::int64_t projector = 2048;          ///< hidden = output size of the 3-layer projector
  // method
  ssl_method method = ssl_method::intl;
  transform_spec transform{};             ///< IterNorm T=4 over samples (spec §6.5)
  double beta = -1.0;                     ///< < 0: 0.01·(log2 K − 3) from the batch (spec §5.1)
  double momentum0 = 0.996;               ///< INTL-M EMA start (spec §5.3)
  bool multi_crop = false;                ///< 6 crops at 1, 1, 6/7, 5/7, 4/7, 3/7 of the size (§5.4)
  // optimisation
  std::int64_t epochs = 30;
  std::int64_t batch = 256;
  double lr = 0.3;                        ///< base_lr = lr · batch / 256
  double weight_decay = 1e-4;
  bool decay_1d = true;                   ///< CIFAR recipe: weight decay on every parameter
  std::int64_t warmup_epochs = 2;
  // evaluation
  std::int64_t knn_every = 1;             ///< epochs between kNN evaluations (0: only at the end)
  std::int64_t linear_epochs = 100;       ///< linear-probe epochs on frozen features
  bool evaluate_random_init = true;       ///< also evaluate the untrained encoder, for contrast
  // run
  std::filesystem::path out = "runs/intl";
  std::uint64_t seed = 0;
  bool resume = false;
  bool eval_only = false;                 ///< evaluate <out>/checkpoint.pt, no training
  std::string device = "cpu";
  std::int64_t max_steps = 0;             ///< stop after this many steps (tests); 0: no limit
  /// Throughput mode: random views of synthetic_size² pixels made on the device, no data, no
  /// augmentation, no evaluation; reports images/s of the training step alone.
  bool synthetic = false;
  std::int64_t synthetic_steps = 20;
  std::int64_t synthetic_size = 224;
  std::int64_t synthetic_channels = 3;
  // device and throughput (issue 6)
  bool amp = false;                       ///< fp16 autocast + loss scaling (CUDA), as the reference
  bool channels_last = false;             ///< NHWC convolutions (CUDA)
  bool compare_reference = false;         ///< throughput modes: also time the reference engine
  bool phases = false;                    ///< --synthetic: also time each phase of the step
  bool loader_only = false;               ///< throughput of the ImageFolder loader alone
  bool pipeline = false;                  ///< throughput of loader + augmentation + step
  std::int64_t image_size = 224;          ///< ImageFolder crop size
  int loader_threads = 0;                 ///< ImageFolder decoding threads; 0: every core
  // distributed training (issue 6): one process per device over c10d (Gloo on CPU, NCCL on
  // CUDA); `batch` stays the global batch, each rank takes batch / world_size of it
  int world_size = 1;                     ///< processes; 1: no process group
  int rank = 0;                           ///< this process, in [0, world_size)
  std::string master_addr = "127.0.0.1";  ///< rank 0's host, which serves the rendezvous store
  int master_port = 29500;
  bool float64 = false;                   ///< model and transform in float64 (verification runs)
  bool progress = true;
  int threads = 0;                        ///< intra-op threads; 0: every core
};

}  // namespace spectral::trainer
