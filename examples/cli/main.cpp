// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// `spectral`: spectral transformations of saved embeddings (.npy) from the command line, and the
// spectrum experiments that reproduce the paper's claims (`spectral experiment <name>`).
// Exit status: 0 success, 1 internal error (or out of memory), 2 usage or input error (a flag out
// of its range, an unreadable input, outputs naming one file), 3 numerical error.
// Every error is one line on stderr, "spectral: error: <message>", and no output file.

#include "spectrum_command.hpp"
#include "spectrum_experiments/experiment_command.hpp"
#include "transform_command.hpp"

#include <spectral/core/error.hpp>
#include <spectral/version.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <new>
#include <sstream>
#include <string>

namespace {

constexpr int exit_internal = 1;
constexpr int exit_usage = 2;
constexpr int exit_numerical = 3;

int report(const char* message, int status) {
  // Library and parser messages may span lines; the contract is one line.
  std::istringstream words(message);
  std::string line;
  for (std::string word; words >> word;) {
    line += (line.empty() ? "" : " ") + word;
  }
  std::cerr << "spectral: error: " << line << '\n';
  return status;
}

int run(int argc, char** argv) {
  CLI::App app{"Spectral transformations of embeddings (Weng et al., ICLR 2024)", "spectral"};
  app.set_version_flag("--version", std::string("spectral ") + spectral::version_string);
  app.require_subcommand(1);

  spectral::cli::transform_args transform;
  spectral::cli::spectrum_args spectrum;
  spectral::cli::experiment_args experiment;
  CLI::App* transform_cmd = spectral::cli::add_transform_command(app, transform);
  CLI::App* spectrum_cmd = spectral::cli::add_spectrum_command(app, spectrum);
  spectral::cli::add_experiment_command(app, experiment);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report(e.what(), exit_usage);
  }

  try {
    if (transform_cmd->parsed()) {
      spectral::cli::run_transform(transform);
    } else if (spectrum_cmd->parsed()) {
      spectral::cli::run_spectrum(spectrum);
    } else {
      spectral::cli::run_experiment(experiment);
    }
  } catch (const spectral::numerical_error& e) {
    return report(e.what(), exit_numerical);
  } catch (const spectral::invalid_input& e) {
    return report(e.what(), exit_usage);
  } catch (const std::bad_alloc&) {
    throw;  // reported by main
  } catch (const std::exception& e) {
    return report(e.what(), exit_internal);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The last resort: inputs and flags are checked against their sizes and ranges first, so this
  // is a valid request larger than the machine's memory.
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    return report(
        "out of memory: the input or the requested sizes need more memory than is "
        "available",
        exit_internal);
  }
}
