// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// CSV tables written atomically (io/staged_file.hpp: a new private file renamed into place), so
/// an interrupted experiment never leaves a half-written table behind.

#include <spectral/core/error.hpp>
#include <spectral/io/staged_file.hpp>

#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

namespace spectral::cli {

/// One CSV cell: text, an integer or a real number.
using csv_cell = std::variant<std::string, long, double>;

class csv_table {
 public:
  explicit csv_table(std::vector<std::string> columns) : columns_(std::move(columns)) {}

  /// Appends a row; it must have one cell per column.
  void add(std::vector<csv_cell> row) {
    SPECTRAL_EXPECTS(row.size() == columns_.size(), "csv: row has ", row.size(), " cells for ",
                     columns_.size(), " columns");
    rows_.push_back(std::move(row));
  }

  [[nodiscard]] std::size_t size() const noexcept { return rows_.size(); }

  /// Writes the table to `path` atomically.
  /// @throws invalid_input when the file cannot be written
  void write(const std::filesystem::path& path) const {
    std::string text;
    append_line(text, columns_);
    for (const auto& row : rows_) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        text += i == 0 ? "" : ",";
        text += format(row[i]);
      }
      text += '\n';
    }
    write_file_atomically(path, text);
  }

  /// Writes `text` to `path`: exclusively created, then renamed into place.
  static void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
    io::write_file_atomically(path, text);
  }

 private:
  static void append_line(std::string& text, const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      text += i == 0 ? "" : ",";
      text += cells[i];
    }
    text += '\n';
  }

  // %.9g: enough digits to compare runs, few enough to keep the files small; the same bits
  // always print the same text, so equal seeds give byte-identical files.
  static std::string format(const csv_cell& cell) {
    if (const auto* text = std::get_if<std::string>(&cell)) {
      return *text;
    }
    char buffer[32];
    if (const auto* integer = std::get_if<long>(&cell)) {
      std::snprintf(buffer, sizeof buffer, "%ld", *integer);
    } else {
      std::snprintf(buffer, sizeof buffer, "%.9g", std::get<double>(cell));
    }
    return buffer;
  }

  std::vector<std::string> columns_;
  std::vector<std::vector<csv_cell>> rows_;
};

/// Creates the output folder (and its parents) when missing.
/// @throws invalid_input when it cannot be created or is not a folder
inline std::filesystem::path prepare_output_folder(const std::string& out) {
  SPECTRAL_EXPECTS(!out.empty(), "--out: the output folder must not be empty");
  const std::filesystem::path folder(out);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  SPECTRAL_EXPECTS(!ec && std::filesystem::is_directory(folder), "--out: cannot create folder '",
                   out, "'", ec ? " (" + ec.message() + ")" : std::string());
  // Absolute, so every message names the folder unambiguously.
  return std::filesystem::absolute(folder);
}

}  // namespace spectral::cli
