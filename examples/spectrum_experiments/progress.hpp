// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// A single updating progress line on stderr, shown only when stderr is a terminal, so that logs
/// (ctest, CI, redirected runs) get nothing.

#include <chrono>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace spectral::cli {

class progress_line {
 public:
  progress_line(std::string label, long total)
      : label_(std::move(label)),
        total_(total),
        enabled_(::isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()) {}

  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;
  ~progress_line() { finish(); }

  /// Marks `done` of `total` units finished; `what` names the current unit.
  void update(long done, const std::string& what) {
    if (!enabled_) {
      return;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r\033[K%s %ld/%ld  %.0fs  %s", label_.c_str(), done, total_, seconds,
                 what.c_str());
    std::fflush(stderr);
  }

  /// Clears the line (also done by the destructor).
  void finish() {
    if (enabled_) {
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
      enabled_ = false;
    }
  }

 private:
  std::string label_;
  long total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace spectral::cli
