// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace spectral::cli {

/// `spectral transform` arguments, with the contract's defaults.
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
 * @brief Reads X (and GY), computes Y (and GX) in X's dtype, then writes the outputs atomically.
 * @throws invalid_input, numerical_error from the reader and the library; nothing is written then
 */
void run_transform(const transform_args& args);

}  // namespace spectral::cli
