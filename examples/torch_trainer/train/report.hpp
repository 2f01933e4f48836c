// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// What a user sees of a run: a one-line progress bar on stderr, `metrics.jsonl` (one object per
/// epoch, appended), `summary.json` and PNG plots drawn by gnuplot. Files are written atomically.

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace spectral::trainer {

/// Writes `text` to `path` through a temporary file and a rename: readers never see half a file.
inline void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      throw std::runtime_error("cannot write " + temporary.string());
    }
  }
  std::filesystem::rename(temporary, path);
}

/// Appends one JSON object as a line (the file is a log: a crash loses at most the last line).
inline void append_json_line(const std::filesystem::path& path, const nlohmann::json& record) {
  std::ofstream out(path, std::ios::app);
  out << record.dump() << '\n';
  if (!out) {
    throw std::runtime_error("cannot append to " + path.string());
  }
}

/// `[#####.....] step/total loss lr img/s ETA` on one updating stderr line (only on a terminal,
/// or when forced, so logs and ctest output stay clean).
class progress_bar {
 public:
  progress_bar(std::int64_t total_steps, bool enabled)
      : total_(total_steps), enabled_(enabled && isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()) {}

  void update(std::int64_t step, std::int64_t epoch, double loss, double lr, double images_per_s) {
    if (!enabled_) {
      return;
    }
    const double done = static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(total_, 1));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = done > 0.0 ? elapsed * (1.0 - done) / done : 0.0;
    constexpr int width = 30;
    std::string bar(static_cast<std::size_t>(done * width), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\repoch %lld [%s] %lld/%lld loss %.4f lr %.4f %.0f img/s ETA %02d:%02d ",
                 static_cast<long long>(epoch), bar.c_str(), static_cast<long long>(step),
                 static_cast<long long>(total_), loss, lr, images_per_s,
                 static_cast<int>(eta) / 60, static_cast<int>(eta) % 60);
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

/// Draws loss, accuracy and effective rank per epoch from metrics.jsonl with gnuplot; returns
/// false (and the caller warns) when gnuplot is missing or fails.
inline bool plot_metrics(const std::filesystem::path& out) {
  std::ifstream in(out / "metrics.jsonl");
  std::ofstream data(out / "metrics.dat");
  data << "# epoch loss knn_top1 linear_top1 effective_rank\n";
  std::string line;
  bool any = false;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line);
    const auto value = [&](const char* key) {
      return record.contains(key) && record[key].is_number() ? std::to_string(record[key].get<double>())
                                                             : std::string("NaN");
    };
    data << record["epoch"].get<std::int64_t>() << ' ' << value("loss") << ' ' << value("knn_top1")
         << ' ' << value("linear_top1") << ' ' << value("effective_rank") << '\n';
    any = true;
  }
  data.close();
  if (!any) {
    return false;
  }
  const auto script = out / "plots.gp";
  std::ofstream gp(script);
  gp << "set terminal pngcairo size 720,420 noenhanced\nset grid\nset key bottom right\n"
     << "set xlabel 'epoch'\n"
     << "set output '" << (out / "loss.png").string() << "'\nset ylabel 'INTL loss'\n"
     << "plot '" << (out / "metrics.dat").string() << "' using 1:2 with linespoints title 'loss'\n"
     << "set output '" << (out / "accuracy.png").string() << "'\nset ylabel 'top-1 (%)'\n"
     << "plot '" << (out / "metrics.dat").string()
     << "' using 1:3 with linespoints title '5-NN', '' using 1:4 with points pt 7 title 'linear'\n"
     << "set output '" << (out / "spectrum.png").string() << "'\nset ylabel 'effective rank'\n"
     << "plot '" << (out / "metrics.dat").string()
     << "' using 1:5 with linespoints title 'backbone features'\n";
  gp.close();
  const std::string command = "gnuplot '" + script.string() + "' 2>/dev/null";
  return std::system(command.c_str()) == 0;  // NOLINT(cert-env33-c): fixed command, our own paths
}

}  // namespace spectral::trainer
