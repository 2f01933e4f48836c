// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Runs a helper program from an argument vector: no shell ever sees the arguments, so no path
/// or other user string can be read as a command.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace spectral::tools {

struct program_result {
  bool started = false;  ///< false: the program could not be run (e.g. not installed)
  int exit_code = -1;    ///< the exit status; -1 when it did not exit normally (a signal)
  std::string problem;   ///< why it did not start, for messages
  [[nodiscard]] bool succeeded() const noexcept { return started && exit_code == 0; }
};

/**
 * @brief Runs `arguments[0]` (looked up on PATH when it holds no '/') with `arguments`, waits for
 *        it, and returns how it ended.
 * @param working_directory the program's working directory (empty: this process's)
 * @param output_log receives its stdout and stderr, created exclusively (empty: /dev/null)
 * Its standard input is /dev/null.
 */
[[nodiscard]] inline program_result run_program(const std::vector<std::string>& arguments,
                                                const std::filesystem::path& working_directory = {},
                                                const std::filesystem::path& output_log = {}) {
  program_result result;
  if (arguments.empty() || arguments.front().empty()) {
    result.problem = "no program given";
    return result;
  }
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (const std::string& argument : arguments) {
    argv.push_back(const_cast<char*>(argument.c_str()));  // NOLINT: POSIX takes char* const[]
  }
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = output_log.empty() ? std::string("/dev/null") : output_log.string();
  const int log_flags = output_log.empty() ? O_WRONLY : O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), log_flags, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  if (!working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, working_directory.c_str());
  }
  pid_t child = 0;
  const int error = posix_spawnp(&child, argv.front(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    result.problem = std::string(arguments.front()) + ": " + std::strerror(error);
    return result;
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      result.problem =
          std::string("waiting for ") + arguments.front() + ": " + std::strerror(errno);
      return result;
    }
  }
  result.started = true;
  // glibc reports a program that could not be executed after the fork as exit status 127.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    result.started = false;
    result.problem = arguments.front() + ": not found or not executable";
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace spectral::tools
