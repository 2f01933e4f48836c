// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Renders an experiment's PNG with gnuplot (common/gnuplot.hpp: gnuplot runs in the output
/// folder, the script names its CSV files by plain names and never holds a path). The script stays
/// beside the CSV so a plot can be restyled and re-rendered by hand. Without gnuplot (or when it
/// fails) the experiment still succeeds: the CSV is the result, the plot a view of it.

#include "common/gnuplot.hpp"

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

namespace spectral::cli {

using tools::gnuplot_file;

/// Program text (titles, labels) as a single-quoted gnuplot string: quotes doubled, control
/// characters dropped, so no text can end the string or the command.
[[nodiscard]] inline std::string gnuplot_text(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      out += c;
    }
  }
  return out + "'";
}

/**
 * @brief Writes `<png without extension>.gp` = terminal settings + `body` next to the PNG, runs
 *        gnuplot on it and moves the image into place.
 * @param body gnuplot commands that draw one (multi)plot, naming data files with gnuplot_file();
 *        `set output` is handled here
 * @return whether the PNG was written; otherwise a one-line warning went to stderr
 */
inline bool render_plot(const std::filesystem::path& png,
                        const std::string& body,
                        int width = 800,
                        int height = 500) {
  const std::filesystem::path folder = png.has_parent_path() ? png.parent_path() : ".";
  const std::string image = png.filename().string();
  const std::string script =
      std::filesystem::path(png).replace_extension(".gp").filename().string();
  std::string text = "# Rendered by `spectral experiment`; re-run with: gnuplot " + script + "\n";
  text += tools::gnuplot_preamble;
  text += "set terminal pngcairo size " + std::to_string(width) + "," + std::to_string(height) +
          " font ',10'\n";
  text += tools::gnuplot_output(image);
  text += "set datafile separator ','\n";
  text += body;
  text += "\nunset output\n";
  const tools::plot_outcome outcome = tools::render_gnuplot(folder, script, text, {image});
  if (!outcome.drawn) {
    std::cerr << "spectral: warning: " << outcome.problem << "; wrote the CSV, skipped " << image
              << "\n";
  }
  return outcome.drawn;
}

}  // namespace spectral::cli
