// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// One run per output folder: the run holds an exclusive lock on `<folder>/.lock` while it lives.
/// The kernel drops the lock when the process ends however it ends, so a crashed run never leaves
/// a folder locked; a second live run on the same folder is refused at once.

#include <spectral/core/error.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace spectral::trainer {

class run_folder_lock {
 public:
  /**
   * @brief Creates `folder` when missing and locks it for this process.
   * @param flag the option that named the folder, for messages (e.g. "--out")
   * @throws invalid_input naming the flag, the folder and the holder's process id when another
   *         live process holds it, or when the lock file cannot be opened (e.g. a link was
   *         planted at its name)
   */
  run_folder_lock(const std::filesystem::path& folder, std::string_view flag) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    SPECTRAL_EXPECTS(std::filesystem::is_directory(folder), flag, " ", folder.string(),
                     ": cannot create the folder", ec ? " (" + ec.message() + ")" : std::string());
    const std::filesystem::path path = folder / ".lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    SPECTRAL_EXPECTS(fd_ >= 0, flag, " ", folder.string(), ": cannot open its lock file ",
                     path.string(), " (", std::strerror(errno), ")");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      std::string holder(32, '\0');
      const ::ssize_t n = ::pread(fd_, holder.data(), holder.size() - 1, 0);
      holder.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) {
        holder.pop_back();
      }
      ::close(std::exchange(fd_, -1));
      SPECTRAL_EXPECTS(error != EWOULDBLOCK, flag, " ", folder.string(),
                       ": another run is using this folder (process ",
                       holder.empty() ? std::string("unknown") : holder,
                       "); wait for it or choose another folder");
      SPECTRAL_EXPECTS(false, flag, " ", folder.string(), ": cannot lock the folder (",
                       std::strerror(error), ")");
    }
    // The holder's process id, for the message a second run prints.
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) {
      (void)!::pwrite(fd_, pid.data(), pid.size(), 0);
    }
  }

  run_folder_lock(const run_folder_lock&) = delete;
  run_folder_lock& operator=(const run_folder_lock&) = delete;
  run_folder_lock(run_folder_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  run_folder_lock& operator=(run_folder_lock&&) = delete;
  ~run_folder_lock() {
    if (fd_ >= 0) {
      ::close(fd_);  // releases the lock; the file stays (removing it would race a new run)
    }
  }

 private:
  int fd_ = -1;
};

}  // namespace spectral::trainer
