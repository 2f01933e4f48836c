// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// PNG plots drawn by gnuplot, with no path chosen by a user ever becoming gnuplot code.
///
/// gnuplot runs in the output folder on a script that names its data and images by plain file
/// names the program chose (checked here), so `--out` never appears in the script. Images are
/// drawn into a fresh private folder inside the output folder (nobody can have planted a link
/// there) and renamed into place. The script stays beside its data so a plot can be restyled and
/// re-rendered by hand with `gnuplot NAME.gp` in that folder.

#include "common/run_program.hpp"

#include <spectral/core/error.hpp>
#include <spectral/io/staged_file.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <stdlib.h>  // mkdtemp

namespace spectral::tools {

/// The gnuplot program: $SPECTRAL_GNUPLOT when set (tests point it at a missing program),
/// otherwise `gnuplot` from PATH. It is run from an argument vector, never through a shell.
[[nodiscard]] inline std::string gnuplot_program() {
  const char* configured = std::getenv("SPECTRAL_GNUPLOT");
  return configured != nullptr && *configured != '\0' ? configured : "gnuplot";
}

/// Letters, digits, '_', '-' and '.', not starting with '.': safe inside a quoted gnuplot string
/// and in any folder.
[[nodiscard]] inline bool is_plain_file_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.size() > 200) {
    return false;
  }
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/// `'name'` for a script; @throws invalid_input for a name that is not plain (a program bug,
/// or a user string that must not reach gnuplot)
[[nodiscard]] inline std::string gnuplot_file(std::string_view name) {
  SPECTRAL_EXPECTS(is_plain_file_name(name), "plot file name '", name,
                   "': only letters, digits, '_', '-' and '.' may reach a gnuplot script");
  std::string quoted(1, '\'');  // (appends: GCC 12 warns falsely on "'" + std::string)
  quoted.append(name).push_back('\'');
  return quoted;
}

/// The first line of every script: images go to `outdir` (the private folder when this program
/// runs it, the script's own folder when a person does).
inline constexpr std::string_view gnuplot_preamble = "if (!exists('outdir')) outdir = '.'\n";

/// `set output` for one image of the script.
[[nodiscard]] inline std::string gnuplot_output(std::string_view image) {
  return "set output outdir.'/'." + gnuplot_file(image) + "\n";
}

struct plot_outcome {
  bool drawn = false;
  std::string problem;  ///< why not, for a one-line warning
};

/**
 * @brief Writes `script_text` to `folder/script_name` (atomically) and runs gnuplot on it in
 *        `folder`; moves each of `images` into `folder` when gnuplot succeeded.
 * @param script_text starts with gnuplot_preamble and sets each output with gnuplot_output()
 * @return drawn, or the problem (gnuplot missing or failing: its messages are kept in
 *         `folder/<script stem>.gnuplot.log`)
 * @throws invalid_input when the script cannot be written or a name is not plain
 */
inline plot_outcome render_gnuplot(const std::filesystem::path& folder,
                                   const std::string& script_name,
                                   const std::string& script_text,
                                   const std::vector<std::string>& images) {
  (void)gnuplot_file(script_name);
  for (const auto& image : images) {
    (void)gnuplot_file(image);
  }
  io::write_file_atomically(folder / script_name, script_text);

  std::string pattern = (folder / ".plots-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return {false, "cannot create a folder in " + folder.string()};
  }
  const std::filesystem::path staging = pattern;
  const std::string log_name = std::filesystem::path(script_name).stem().string() + ".gnuplot.log";
  const program_result run = run_program(
      {gnuplot_program(), "-e", "outdir='" + staging.filename().string() + "'", script_name},
      folder, staging / log_name);
  plot_outcome outcome;
  std::error_code ec;
  if (!run.succeeded()) {
    if (run.started) {  // keep gnuplot's messages where the user looks
      std::filesystem::rename(staging / log_name, folder / log_name, ec);
      outcome.problem =
          "gnuplot failed on " + script_name + " (see " + (folder / log_name).string() + ")";
    } else {
      outcome.problem = "gnuplot not found (" + gnuplot_program() + ")";
    }
  } else {
    outcome.drawn = true;
    for (const auto& image : images) {
      std::filesystem::rename(staging / image, folder / image, ec);
      if (ec) {
        outcome.drawn = false;
        outcome.problem = "gnuplot did not draw " + image + " (" + ec.message() + ")";
        break;
      }
    }
    if (outcome.drawn) {
      std::filesystem::remove(folder / log_name, ec);  // a stale one from an earlier failure
    }
  }
  std::filesystem::remove_all(staging, ec);  // never follows links inside
  return outcome;
}

}  // namespace spectral::tools
