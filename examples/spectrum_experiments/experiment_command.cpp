// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#include "experiment_command.hpp"

#include "flag_ranges.hpp"
#include "method_dispatch.hpp"
#include "single_thread_blas.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spectral::cli {

namespace {

/// Under --tiny, `value` takes its test-sized default unless `flag` was given explicitly.
template <class T, class Tiny>
void tiny_default(const CLI::App* cmd, const char* flag, T& value, Tiny tiny) {
  if (cmd->count(flag) == 0) {
    value = tiny;
  }
}

/// --out, --seed, --tiny; `apply_tiny(cmd)` runs after parsing when --tiny was given.
template <class ApplyTiny>
void add_common(CLI::App* cmd,
                experiment_common& common,
                const std::string& name,
                ApplyTiny apply_tiny) {
  common.out = "experiments/" + name;
  cmd->add_option("--out", common.out, "Output folder for the CSV tables and PNG plots")
      ->capture_default_str();
  cmd->add_option("--seed", common.seed, "Seed of every random number in the run")
      ->check(in_range<std::uint64_t>(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  cmd->add_flag("--tiny", common.tiny,
                "Test-sized run (seconds): small defaults for every size not given explicitly");
  cmd->callback([cmd, &common, apply_tiny] {
    if (common.tiny) {
      apply_tiny(cmd);
    }
  });
}

// Upper bounds of the experiments' flags: generous next to the defaults, and small enough that
// no combination asks for unbounded memory or time (the largest matrix, max_rows × max_width
// doubles, is 4 GiB; a run is at most max_steps steps on such a batch).
constexpr long max_dim = 2048;               ///< embedding / covariance size D, K
constexpr long max_width = 4096;             ///< input and hidden widths of the encoders
constexpr long max_rows = 131072;            ///< samples, batch and evaluation rows
constexpr int max_steps = 1000000;           ///< SGD / gradient steps (and --log-every)
constexpr int max_runs = 100;                ///< repetitions per instance
constexpr int max_iterations = 64;           ///< IterNorm's T in the experiments
constexpr long fashion_mnist_train = 60000;  ///< images in the training split
constexpr long fashion_mnist_test = 10000;   ///< images in the test split

void add_maps(CLI::App& parent, experiment_args& args) {
  auto& a = args.maps;
  CLI::App* cmd = parent.add_subcommand(
      "maps", "Output spectrum map ψ(λ) of power functions and IterNorm on a decaying spectrum");
  add_common(cmd, a.common, "maps", [&a](const CLI::App* sub) {
    tiny_default(sub, "--dim", a.dim, 16);
    tiny_default(sub, "--samples", a.samples, 256);
  });
  cmd->add_option("--dim", a.dim, "K, the covariance size")
      ->check(in_range(2L, max_dim))
      ->capture_default_str();
  cmd->add_option("--samples", a.samples, "Rows of the generated embedding (> dim)")
      ->check(in_range(3L, max_rows))
      ->capture_default_str();
  cmd->add_option("--decay", a.decay, "Input eigenvalues λ_k ∝ decay^k")
      ->check(in_range(0.01, 1.0))
      ->capture_default_str();
  args.maps_cmd = cmd;
}

void add_collapse(CLI::App& parent, experiment_args& args) {
  auto& a = args.collapse;
  CLI::App* cmd = parent.add_subcommand(
      "collapse",
      "SSL training of a linear / 2-layer MLP encoder on synthetic two-view data, per "
      "ST instance: effective rank and condition number of the embedding");
  add_common(cmd, a.common, "collapse", [&a](const CLI::App* sub) {
    tiny_default(sub, "--steps", a.steps, 150);
    tiny_default(sub, "--runs", a.runs, 2);
    tiny_default(sub, "--input-dim", a.input_dim, 32);
    tiny_default(sub, "--dim", a.dim, 16);
    tiny_default(sub, "--hidden", a.hidden, 32);
    tiny_default(sub, "--batch", a.batch, 64);
    tiny_default(sub, "--eval-samples", a.eval_samples, 256);
    tiny_default(sub, "--log-every", a.log_every, 25);
    tiny_default(sub, "--powers", a.powers, std::vector<double>{0, 0.25, 0.5, 0.75});
  });
  cmd->add_option("--steps", a.steps, "SGD steps per run")
      ->check(in_range(1, max_steps))
      ->capture_default_str();
  cmd->add_option("--runs", a.runs,
                  "Runs per (encoder, instance), seeds seed..seed+runs-1 of the data and init")
      ->check(in_range(1, max_runs))
      ->capture_default_str();
  cmd->add_option("--input-dim", a.input_dim, "Dimension of the synthetic data")
      ->check(in_range(2L, max_width))
      ->capture_default_str();
  cmd->add_option("--dim", a.dim, "D, the embedding size")
      ->check(in_range(2L, max_dim))
      ->capture_default_str();
  cmd->add_option("--hidden", a.hidden, "Hidden width of the MLP")
      ->check(in_range(1L, max_width))
      ->capture_default_str();
  cmd->add_option("--batch", a.batch, "Batch size N")
      ->check(in_range(3L, max_rows))
      ->capture_default_str();
  cmd->add_option("--eval-samples", a.eval_samples,
                  "Clean samples whose embedding spectrum is tracked")
      ->check(in_range(3L, max_rows))
      ->capture_default_str();
  cmd->add_option("--lr", a.learning_rate, "SGD learning rate")
      ->check(in_range(0.0, 10.0, lower_end::open))
      ->capture_default_str();
  cmd->add_option("--momentum", a.momentum, "SGD momentum")
      ->check(in_range(0.0, 0.999))
      ->capture_default_str();
  cmd->add_option("--weight-decay", a.weight_decay, "L2 weight decay")
      ->check(in_range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--noise", a.noise, "Std of the independent noise of each view")
      ->check(in_range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--decay", a.decay, "Signal eigenvalues decay^k")
      ->check(in_range(0.01, 1.0))
      ->capture_default_str();
  cmd->add_option("--log-every", a.log_every, "Steps between spectrum snapshots")
      ->check(in_range(1, max_steps))
      ->capture_default_str();
  cmd->add_option("--iters", a.iterations, "T of IterNorm and INTL")
      ->check(in_range(1, max_iterations))
      ->capture_default_str();
  cmd->add_option("--intl-betas", a.intl_betas,
                  "One INTL instance per trace-loss weight β; -1 = trade_off_beta(K), K = D or N")
      ->delimiter(',')
      ->check(in_range(-1.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--axis", a.axis, "Axis of the ST (the tracked spectrum is always D×D)")
      ->check(CLI::IsMember(choices(axis_names)))
      ->capture_default_str();
  cmd->add_option("--encoders", a.encoders, "Encoders to train")
      ->delimiter(',')
      ->check(CLI::IsMember({"linear", "mlp"}))
      ->capture_default_str();
  cmd->add_option("--powers", a.powers, "Power-function grid (p = 0 is the identity)")
      ->delimiter(',')
      ->check(in_range(0.0, 4.0))
      ->capture_default_str();
  args.collapse_cmd = cmd;
}

void add_intl_dynamics(CLI::App& parent, experiment_args& args) {
  auto& a = args.intl_dynamics;
  CLI::App* cmd = parent.add_subcommand(
      "intl-dynamics",
      "Gradient descent on INTL's trace loss through IterNorm on a free embedding: "
      "eigenvalues vs the first-order prediction Δλ_i (docs/math.md#implicit-gradient-update, "
      "docs/math.md#theory)");
  add_common(cmd, a.common, "intl-dynamics", [&a](const CLI::App* sub) {
    tiny_default(sub, "--steps", a.steps, 200);
    tiny_default(sub, "--dim", a.dim, 8);
    tiny_default(sub, "--samples", a.samples, 64);
    tiny_default(sub, "--log-every", a.log_every, 20);
    tiny_default(sub, "--iters", a.iterations, std::vector<int>{1, 4});
  });
  cmd->add_option("--steps", a.steps, "Gradient steps")
      ->check(in_range(1, max_steps))
      ->capture_default_str();
  cmd->add_option("--dim", a.dim, "D = K, the covariance size")
      ->check(in_range(2L, max_dim))
      ->capture_default_str();
  cmd->add_option("--samples", a.samples, "N, rows of the embedding (> dim)")
      ->check(in_range(3L, max_rows))
      ->capture_default_str();
  cmd->add_option("--decay", a.decay, "Initial eigenvalues decay^k")
      ->check(in_range(0.01, 1.0))
      ->capture_default_str();
  cmd->add_option("--lr", a.learning_rate, "Step size η")
      ->check(in_range(0.0, 10.0, lower_end::open))
      ->capture_default_str();
  cmd->add_option("--log-every", a.log_every, "Steps between snapshots")
      ->check(in_range(1, max_steps))
      ->capture_default_str();
  cmd->add_option("--iters", a.iterations, "IterNorm iterations T to compare")
      ->delimiter(',')
      ->check(in_range(1, max_iterations))
      ->capture_default_str();
  cmd->add_option("--probe-step", a.probe_step, "η of the central-difference check of Δλ")
      ->check(in_range(0.0, 1.0, lower_end::open))
      ->capture_default_str();
  args.intl_dynamics_cmd = cmd;
}

void add_real(CLI::App& parent, experiment_args& args) {
  auto& a = args.real;
  CLI::App* cmd = parent.add_subcommand(
      "real",
      "The collapse study on Fashion-MNIST (random crops + noise as views), with a linear "
      "probe of each learned embedding");
  add_common(cmd, a.common, "real", [&a](const CLI::App* sub) {
    tiny_default(sub, "--steps", a.steps, 30);
    tiny_default(sub, "--dim", a.dim, 8);
    tiny_default(sub, "--hidden", a.hidden, 32);
    tiny_default(sub, "--batch", a.batch, 64);
    tiny_default(sub, "--log-every", a.log_every, 10);
    tiny_default(sub, "--eval-samples", a.eval_samples, 256);
    tiny_default(sub, "--probe-train", a.probe_train, 1000);
    tiny_default(sub, "--probe-test", a.probe_test, 500);
    tiny_default(sub, "--powers", a.powers, std::vector<double>{0, 0.5});
    tiny_default(sub, "--encoders", a.encoders, std::vector<std::string>{"linear"});
  });
  cmd->add_option("--data", a.data, "Folder with the four Fashion-MNIST *-ubyte.gz files")
      ->capture_default_str();
  cmd->add_option("--steps", a.steps, "SGD steps per run")
      ->check(in_range(1, max_steps))
      ->capture_default_str();
  cmd->add_option("--runs", a.runs, "Runs per (encoder, instance)")
      ->check(in_range(1, max_runs))
      ->capture_default_str();
  cmd->add_option("--dim", a.dim, "D, the embedding size")
      ->check(in_range(2L, max_dim))
      ->capture_default_str();
  cmd->add_option("--hidden", a.hidden, "Hidden width of the MLP")
      ->check(in_range(1L, max_width))
      ->capture_default_str();
  cmd->add_option("--batch", a.batch, "Batch size N")
      ->check(in_range(3L, max_rows))
      ->capture_default_str();
  cmd->add_option("--crop", a.crop, "Side of the random square crop (pixels, <= 28)")
      ->check(in_range(4L, 28L))
      ->capture_default_str();
  cmd->add_option("--noise", a.noise, "Std of the pixel noise of each view (pixels in [0, 1])")
      ->check(in_range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--lr", a.learning_rate, "SGD learning rate")
      ->check(in_range(0.0, 10.0, lower_end::open))
      ->capture_default_str();
  cmd->add_option("--momentum", a.momentum, "SGD momentum")
      ->check(in_range(0.0, 0.999))
      ->capture_default_str();
  cmd->add_option("--log-every", a.log_every, "Steps between spectrum snapshots")
      ->check(in_range(1, max_steps))
      ->capture_default_str();
  cmd->add_option("--iters", a.iterations, "T of IterNorm and INTL")
      ->check(in_range(1, max_iterations))
      ->capture_default_str();
  cmd->add_option("--intl-betas", a.intl_betas,
                  "One INTL instance per trace-loss weight β; -1 = trade_off_beta(D)")
      ->delimiter(',')
      ->check(in_range(-1.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--eval-samples", a.eval_samples,
                  "Test images whose embedding spectrum is tracked")
      ->check(in_range(3L, fashion_mnist_test))
      ->capture_default_str();
  cmd->add_option("--probe-train", a.probe_train, "Training images of the linear probe")
      ->check(in_range(10L, fashion_mnist_train))
      ->capture_default_str();
  cmd->add_option("--probe-test", a.probe_test, "Test images of the linear probe")
      ->check(in_range(10L, fashion_mnist_test))
      ->capture_default_str();
  cmd->add_option("--ridge", a.ridge, "Ridge penalty of the least-squares probe")
      ->check(in_range(0.0, 1e6))
      ->capture_default_str();
  cmd->add_option("--encoders", a.encoders, "Encoders to train")
      ->delimiter(',')
      ->check(CLI::IsMember({"linear", "mlp"}))
      ->capture_default_str();
  cmd->add_option("--powers", a.powers, "Power-function grid (p = 0 is the identity)")
      ->delimiter(',')
      ->check(in_range(0.0, 4.0))
      ->capture_default_str();
  args.real_cmd = cmd;
}

}  // namespace

CLI::App* add_experiment_command(CLI::App& app, experiment_args& args) {
  CLI::App* cmd = app.add_subcommand(
      "experiment", "Spectrum experiments reproducing the paper's claims (CSV + PNG + a table)");
  cmd->require_subcommand(1);
  add_maps(*cmd, args);
  add_collapse(*cmd, args);
  add_intl_dynamics(*cmd, args);
  add_real(*cmd, args);
  return cmd;
}

void run_experiment(const experiment_args& args) {
  use_single_threaded_blas();
  if (args.maps_cmd->parsed()) {
    run_maps(args.maps);
  } else if (args.collapse_cmd->parsed()) {
    run_collapse(args.collapse);
  } else if (args.intl_dynamics_cmd->parsed()) {
    run_intl_dynamics(args.intl_dynamics);
  } else {
    run_real(args.real);
  }
}

}  // namespace spectral::cli
