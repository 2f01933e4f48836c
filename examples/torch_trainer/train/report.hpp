// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// What a user sees of a run: a one-line progress bar on stderr, `metrics.jsonl` (one object per
/// epoch), `summary.json` and PNG plots drawn by gnuplot. Every file is created exclusively and
/// renamed into place (spectral/io/staged_file.hpp): readers never see half a file, and a link
/// planted at a file's name is replaced, not written through.

#include "common/gnuplot.hpp"

#include <spectral/core/error.hpp>
#include <spectral/io/staged_file.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

namespace spectral::trainer {

/// Writes `text` to `path` whole or not at all. @throws invalid_input naming the path
inline void write_atomically(const std::filesystem::path& path, const std::string& text) {
  io::write_file_atomically(path, text);
}

/**
 * @brief `metrics.jsonl`: one JSON object per epoch, the whole file rewritten atomically at each
 *        change.
 *
 * An epoch's record is written as soon as its training ends, marked `"evaluation": "pending"`
 * while its evaluation runs, and completed after; a run killed during evaluation keeps the record
 * and a resumed run finds it pending (pending()).
 */
class metrics_log {
 public:
  static constexpr const char* pending_key = "evaluation";

  explicit metrics_log(std::filesystem::path path) : path_(std::move(path)) {}

  /// Starts an empty log (a new run), replacing any earlier file.
  void reset() {
    records_.clear();
    save();
  }

  /// Reads the existing log, keeping the records of epochs up to `epoch` (the checkpoint's: later
  /// ones belong to epochs the resumed run trains again). A missing file is an empty log.
  /// @throws invalid_input naming the file when a line is not a JSON object with an epoch
  void resume(std::int64_t epoch) {
    records_.clear();
    std::ifstream in(path_);
    std::string line;
    std::int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty()) {
        continue;
      }
      auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      SPECTRAL_EXPECTS(!record.is_discarded() && record.is_object() && record.contains("epoch") &&
                           record["epoch"].is_number_integer(),
                       path_.string(), ":", number, ": not a metrics record");
      if (record["epoch"].get<std::int64_t>() <= epoch) {
        records_.push_back(std::move(record));
      }
    }
    save();
  }

  /// Adds `record` or replaces the one of the same epoch, and rewrites the file.
  void write(const nlohmann::json& record) {
    const auto same_epoch = std::find_if(records_.begin(), records_.end(), [&](const auto& r) {
      return r["epoch"] == record["epoch"];
    });
    if (same_epoch != records_.end()) {
      *same_epoch = record;
    } else {
      records_.push_back(record);
    }
    save();
  }

  /// The record of `epoch` when it still waits for its evaluation.
  [[nodiscard]] const nlohmann::json* pending(std::int64_t epoch) const {
    for (const auto& r : records_) {
      if (r["epoch"].get<std::int64_t>() == epoch && r.contains(pending_key) &&
          r[pending_key] == "pending") {
        return &r;
      }
    }
    return nullptr;
  }

  [[nodiscard]] const std::vector<nlohmann::json>& records() const noexcept { return records_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void save() const {
    std::string text;
    for (const auto& r : records_) {
      text += r.dump() + '\n';
    }
    io::write_file_atomically(path_, text);
  }

  std::filesystem::path path_;
  std::vector<nlohmann::json> records_;
};

/// `[#####.....] step/total loss lr img/s ETA` on one updating stderr line (only on a terminal,
/// or when forced, so logs and ctest output stay clean).
class progress_bar {
 public:
  progress_bar(std::int64_t total_steps, bool enabled)
      : total_(total_steps),
        enabled_(enabled && isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()) {}

  void update(std::int64_t step, std::int64_t epoch, double loss, double lr, double images_per_s) {
    if (!enabled_) {
      return;
    }
    const double done =
        static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(total_, 1));
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = done > 0.0 ? elapsed * (1.0 - done) / done : 0.0;
    constexpr int width = 30;
    std::string bar(static_cast<std::size_t>(done * width), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\repoch %lld [%s] %lld/%lld loss %.4f lr %.4f %.0f img/s ETA %02d:%02d ",
                 static_cast<long long>(epoch), bar.c_str(), static_cast<long long>(step),
                 static_cast<long long>(total_), loss, lr, images_per_s, static_cast<int>(eta) / 60,
                 static_cast<int>(eta) % 60);
    std::fflush(stderr);
  }
  void finish_line() const {
    if (enabled_) {
      std::fprintf(stderr, "\n");
    }
  }

 private:
  std::int64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

/// Draws loss, accuracy and effective rank per epoch with gnuplot (metrics.dat, plots.gp and
/// three PNGs in `out`); returns false (and the caller warns) when gnuplot is missing or fails.
inline bool plot_metrics(const std::filesystem::path& out,
                         const std::vector<nlohmann::json>& records) {
  if (records.empty()) {
    return false;
  }
  std::string data = "# epoch loss knn_top1 linear_top1 effective_rank\n";
  for (const auto& record : records) {
    const auto value = [&](const char* key) {
      return record.contains(key) && record[key].is_number()
                 ? std::to_string(record[key].get<double>())
                 : std::string("NaN");
    };
    data += std::to_string(record["epoch"].get<std::int64_t>()) + ' ' + value("loss") + ' ' +
            value("knn_top1") + ' ' + value("linear_top1") + ' ' + value("effective_rank") + '\n';
  }
  io::write_file_atomically(out / "metrics.dat", data);
  // Plain names only: gnuplot runs in `out`, so --out itself never appears in the script.
  std::string script(tools::gnuplot_preamble);
  script +=
      "set terminal pngcairo size 720,420 noenhanced\nset grid\nset key bottom right\n"
      "set xlabel 'epoch'\n";
  script += tools::gnuplot_output("loss.png") + "set ylabel 'INTL loss'\n" +
            "plot 'metrics.dat' using 1:2 with linespoints title 'loss'\n";
  script += tools::gnuplot_output("accuracy.png") + "set ylabel 'top-1 (%)'\n" +
            "plot 'metrics.dat' using 1:3 with linespoints title '5-NN', '' using 1:4 with points "
            "pt 7 title 'linear'\n";
  script += tools::gnuplot_output("spectrum.png") + "set ylabel 'effective rank'\n" +
            "plot 'metrics.dat' using 1:5 with linespoints title 'backbone features'\n";
  return tools::render_gnuplot(out, "plots.gp", script,
                               {"loss.png", "accuracy.png", "spectrum.png"})
      .drawn;
}

}  // namespace spectral::trainer
