// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace spectral::cli {

/// Largest --power. Useful powers lie in [0, 1] (1/2 whitens); Σ^-p has condition number
/// cond(Σ)^p, so far larger p only amplifies rounding.
inline constexpr double max_power = 8.0;
/// Largest --groups (each group must also have D/groups ≥ 1 columns and divide D).
inline constexpr long max_groups = 65536;

/// `spectral transform` arguments, with the contract's defaults. Every numeric flag is checked
/// against its range while parsing: --power in [0, max_power], --iters in
/// [1, iter_norm::max_iterations], --groups in [1, max_groups], --eps finite and >= 0.
struct transform_args {
  std::string method;
  double power = 0.5;
  int iters = 4;
  std::string axis = "features";
  long groups = 1;
  double eps = 0.0;
  std::string input;
  std::string output;
  std::string grad_output;
  std::string grad_input;
};

/// Registers the `transform` subcommand on app, parsing into args.
CLI::App* add_transform_command(CLI::App& app, transform_args& args);

/**
 * @brief Reads X (and GY), computes Y (and GX) in X's dtype, then writes the outputs: each
 *        whole, never through a link at the destination, and all of them or none.
 * @throws invalid_input for --output and --grad-input naming one file (before any work), and
 *         from the reader, the library and the writer; nothing is written then
 * @throws numerical_error from the library; nothing is written then
 */
void run_transform(const transform_args& args);

}  // namespace spectral::cli
