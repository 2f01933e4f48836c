// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// How intl_train and intl_eval end: every failure is one line on stderr,
/// "<program>: error: <message>", and one of the documented exit codes; no exception, not even
/// one thrown where nothing catches it, reaches the C++ runtime's "terminate called".

#include <spectral/core/error.hpp>

#include <CLI/CLI.hpp>
#include <c10/util/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace spectral::trainer {

/// The exit codes (also in each program's --help).
enum exit_code : int {
  exit_ok = 0,
  exit_input = 2,      ///< bad flags or values, missing or unusable files, a peer that never came
  exit_numerical = 3,  ///< NaN/Inf, a singular covariance: the numbers made the run impossible
  exit_runtime = 4,    ///< out of memory, a LibTorch error, anything unexpected
};

inline constexpr const char* exit_codes_help =
    "Exit status: 0 success; 2 invalid input (flags, values, files, a rank that never joined); "
    "3 numerical failure (NaN/Inf, singular covariance); 4 out of memory or a LibTorch/system "
    "error. Errors are one line on stderr.\n";

/// CLI11 reads "-1" into an unsigned integer as 2^64 - 1: refuse the sign instead.
[[nodiscard]] inline CLI::Validator unsigned_text() {
  return CLI::Validator(
      [](const std::string& text) {
        return text.find('-') == std::string::npos ? std::string()
                                                   : "must be in [0, 2^64-1], got " + text;
      },
      "UINT64");
}

/// " (lo-hi)" for a flag's help text: the range its validation enforces.
template <class T>
[[nodiscard]] std::string range(T lo, T hi) {
  std::ostringstream text;
  text << " (" << lo << "-" << hi << ")";
  return text.str();
}

namespace detail {

inline const char*& program_name() noexcept {
  static const char* name = "intl";
  return name;
}

/// Prints "<program>: error: <message>" with line breaks folded into spaces; returns `code`.
inline int report_error(std::string_view message, int code) noexcept {
  std::string line(message.substr(0, message.find_last_not_of(" \n\r\t") + 1));
  for (char& ch : line) {
    if (ch == '\n' || ch == '\r') {
      ch = ' ';
    }
  }
  std::fprintf(stderr, "%s: error: %s\n", program_name(), line.c_str());
  std::fflush(stderr);
  return code;
}

/// LibTorch's messages carry a source location and sometimes a backtrace after the first line.
[[nodiscard]] inline std::string_view first_line(std::string_view text) noexcept {
  return text.substr(0, text.find('\n'));
}

/// The exit code and message of the exception being handled.
inline int report_current_exception() noexcept {
  try {
    throw;
  } catch (const invalid_input& e) {
    return report_error(e.what(), exit_input);
  } catch (const numerical_error& e) {
    return report_error(e.what(), exit_numerical);
  } catch (const std::bad_alloc&) {
    return report_error(
        "out of memory; use smaller sizes (--batch, --width, --projector, "
        "--image-size) or fewer --threads",
        exit_runtime);
  } catch (const c10::Error& e) {
    return report_error(first_line(e.what_without_backtrace()), exit_runtime);
  } catch (const std::exception& e) {  // files, checkpoints, the rendezvous: named in the message
    return report_error(e.what(), exit_input);
  } catch (...) {
    return report_error("unknown exception", exit_runtime);
  }
}

}  // namespace detail

/**
 * @brief Parses the command line into `app`'s bindings.
 * @return the exit code when parsing ends the program (--help: printed, 0; a bad flag or value:
 *         one error line, exit_input), or std::nullopt to go on
 */
[[nodiscard]] inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return detail::report_error(e.what(), exit_input);
  }
  return std::nullopt;
}

/**
 * @brief Runs `body` (which returns the exit code) so that any exception ends as one line on
 *        stderr with its exit code. Also installs a terminate handler that does the same for an
 *        exception escaping where nothing can catch it (a destructor, a noexcept function).
 */
template <class Body>
int guarded_main(const char* program, Body&& body) noexcept {
  detail::program_name() = program;
  std::set_terminate([] {
    const int code = std::current_exception() ? detail::report_current_exception()
                                              : detail::report_error("aborted", exit_runtime);
    std::_Exit(code);
  });
  try {
    return body();
  } catch (...) {
    return detail::report_current_exception();
  }
}

}  // namespace spectral::trainer
