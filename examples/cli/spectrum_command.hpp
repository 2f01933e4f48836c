// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace spectral::cli {

/// `spectral spectrum` arguments.
struct spectrum_args {
  std::string input;
  std::string axis = "features";
  bool json = false;
};

/// Registers the `spectrum` subcommand on app, parsing into args.
CLI::App* add_spectrum_command(CLI::App& app, spectrum_args& args);

/**
 * @brief Prints the covariance spectrum of X: a table, or one JSON object with --json.
 * @throws invalid_input, numerical_error from the reader and the library
 */
void run_spectrum(const spectrum_args& args);

}  // namespace spectral::cli
