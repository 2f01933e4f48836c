// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Renders a PNG by writing a gnuplot script next to it and running gnuplot on it. The script
/// stays in the output folder so a plot can be restyled and re-rendered by hand. Without gnuplot
/// (or when it fails) the experiment still succeeds: the CSV is the result, the plot a view of it.

#include "csv_writer.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace spectral::cli {

/// The gnuplot command: $SPECTRAL_GNUPLOT when set (tests point it at a missing program),
/// otherwise `gnuplot` from PATH.
[[nodiscard]] inline std::string gnuplot_program() {
  const char* configured = std::getenv("SPECTRAL_GNUPLOT");
  return configured != nullptr && *configured != '\0' ? configured : "gnuplot";
}

/// A path quoted for the shell and for gnuplot strings: single quotes, inner ones escaped.
[[nodiscard]] inline std::string quoted(const std::filesystem::path& path, bool for_shell) {
  std::string out = "'";
  for (const char c : path.string()) {
    out += c == '\'' ? (for_shell ? std::string("'\\''") : std::string("''")) : std::string(1, c);
  }
  return out + "'";
}

/**
 * @brief Writes `<png without extension>.gp` = terminal settings + `body`, runs gnuplot on it
 *        and moves the image into place.
 * @param body gnuplot commands that draw one (multi)plot; `set output` is handled here
 * @return whether the PNG was written; otherwise a one-line warning went to stderr
 */
inline bool render_plot(const std::filesystem::path& png,
                        const std::string& body,
                        int width = 800,
                        int height = 500) {
  const std::filesystem::path script = std::filesystem::path(png).replace_extension(".gp");
  const std::filesystem::path partial = png.string() + ".partial";
  std::string text = "# Rendered by `spectral experiment`; re-run with: gnuplot " +
                     script.filename().string() + "\n";
  text += "set terminal pngcairo size " + std::to_string(width) + "," + std::to_string(height) +
          " font ',10'\n";
  text += "set output " + quoted(partial, false) + "\n";
  text += "set datafile separator ','\n";
  text += body;
  text += "\nunset output\n";
  csv_table::write_file_atomically(script, text);

  const std::string program = gnuplot_program();
  const std::string probe = "command -v " + quoted(program, true) + " >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    std::cerr << "spectral: warning: gnuplot not found (" << program << "); wrote the CSV, skipped "
              << png.filename().string() << "\n";
    return false;
  }
  // gnuplot's own messages would break the one-line contract; they are kept in a log instead.
  const std::filesystem::path log = std::filesystem::path(png).replace_extension(".gnuplot.log");
  const std::string command =
      quoted(program, true) + " " + quoted(script, true) + " >" + quoted(log, true) + " 2>&1";
  const int status = std::system(command.c_str());
  std::error_code ec;
  if (status != 0 || !std::filesystem::exists(partial)) {
    std::filesystem::remove(partial, ec);
    std::cerr << "spectral: warning: gnuplot failed on " << script.filename().string() << " (see "
              << log.string() << "); wrote the CSV, skipped " << png.filename().string() << "\n";
    return false;
  }
  std::filesystem::remove(log, ec);
  std::filesystem::rename(partial, png, ec);
  return !ec;
}

}  // namespace spectral::cli
