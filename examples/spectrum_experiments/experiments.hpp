// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// `spectral experiment <name>`: the arguments of each experiment and its entry point. Each run
/// writes CSV tables and PNG plots into `out` and prints a short table on stdout.

#include <cstdint>
#include <string>
#include <vector>

namespace spectral::cli {

/// Flags every experiment has.
struct experiment_common {
  std::string out;         ///< output folder (default experiments/<name>)
  std::uint64_t seed = 1;  ///< every random number of the run derives from it
  bool tiny = false;       ///< test-sized defaults for every size not given explicitly
};

/// `maps`: ψ(λ) of power functions and IterNorm on a decaying spectrum, predicted and measured.
struct maps_args {
  experiment_common common;
  long dim = 64;        ///< K
  long samples = 4096;  ///< rows of the generated embedding
  double decay = 0.85;  ///< λ_k ∝ decay^k
};

/// `collapse`: SSL training of a linear / MLP encoder on synthetic two-view data, per instance.
struct collapse_args {
  experiment_common common;
  int steps = 1500;
  int runs = 3;
  long input_dim = 64;
  long dim = 32;  ///< D, the embedding size
  long hidden = 128;
  long batch = 128;
  long eval_samples = 1024;
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
  double noise = 0.5;  ///< view noise std (the signal's top eigenvalue is 1)
  double decay = 0.9;  ///< signal eigenvalues decay^k
  int log_every = 50;
  int iterations = 4;  ///< T of IterNorm and INTL
  /// One INTL instance per β; -1: trade_off_beta(K) of the reference code, floored at 0.
  std::vector<double> intl_betas = {-1, 0.05};
  std::string axis = "features";
  std::vector<std::string> encoders = {"linear", "mlp"};
  std::vector<double> powers = {0, 0.1, 0.25, 0.4, 0.45, 0.5, 0.55, 0.6, 0.75, 0.9, 1};
  double collapsed_below = 0.25;  ///< verdict "collapsed" when final rank / D is below this
  double full_from = 0.5;         ///< verdict "full" when final rank / D is at least this
};

/// `intl-dynamics`: gradient descent on INTL's trace loss through IterNorm, on a free embedding.
struct intl_dynamics_args {
  experiment_common common;
  int steps = 3000;
  long dim = 16;
  long samples = 256;
  double decay = 0.6;
  double learning_rate = 0.5;  ///< the step is learning_rate · tr Σ_Z (IterNorm is scale invariant)
  int log_every = 25;
  std::vector<int> iterations = {1, 2, 4, 8};
  double probe_step = 1e-5;  ///< η of the central-difference check of Δλ
};

/// `real`: the collapse study on Fashion-MNIST, plus a linear probe of each learned embedding.
struct real_args {
  experiment_common common;
  std::string data = "/usr/share/datasets/fashion-mnist";
  int steps = 500;
  int runs = 2;
  long dim = 32;
  long hidden = 128;
  long batch = 256;
  long crop = 24;
  double noise = 0.2;
  double learning_rate = 0.05;
  double momentum = 0.9;
  int log_every = 50;
  int iterations = 4;
  std::vector<double> intl_betas = {-1, 0.05};  ///< as in collapse_args
  long eval_samples = 1024;
  long probe_train = 10000;
  long probe_test = 10000;
  double ridge = 1.0;
  std::vector<std::string> encoders = {"linear", "mlp"};
  std::vector<double> powers = {0, 0.25, 0.45, 0.5, 0.55, 0.75};
};

void run_maps(const maps_args& args);
void run_collapse(const collapse_args& args);
void run_intl_dynamics(const intl_dynamics_args& args);
void run_real(const real_args& args);

}  // namespace spectral::cli
