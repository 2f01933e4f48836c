// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "experiments.hpp"

#include <CLI/CLI.hpp>

namespace spectral::cli {

/// Everything `spectral experiment …` parses into; one member per experiment.
struct experiment_args {
  maps_args maps;
  collapse_args collapse;
  intl_dynamics_args intl_dynamics;
  real_args real;
  CLI::App* maps_cmd = nullptr;
  CLI::App* collapse_cmd = nullptr;
  CLI::App* intl_dynamics_cmd = nullptr;
  CLI::App* real_cmd = nullptr;
};

/// Registers `experiment` with one subcommand per experiment on app, parsing into args.
CLI::App* add_experiment_command(CLI::App& app, experiment_args& args);

/**
 * @brief Runs the experiment that was parsed.
 * @throws invalid_input for bad sizes or data; numerical_error from the library
 */
void run_experiment(const experiment_args& args);

}  // namespace spectral::cli
