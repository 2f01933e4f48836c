// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Output files that appear whole or not at all, and never through a link somebody planted.
///
/// The bytes go to a new file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`: an existing
/// name, link or not, is never opened) under an unpredictable name in the destination's own
/// folder, are flushed to disk, and the file is then renamed onto the destination. A rename
/// replaces a link found at the destination instead of writing through it. Several outputs of one
/// command are staged together and committed all or none.

#include "spectral/core/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

/// File output helpers for the library's tools: staged, all-or-nothing writes.
namespace spectral::io {

/**
 * @brief One output file being written: a private temporary sibling until commit() renames it
 *        onto the destination; discarded (removed) if never committed.
 */
class staged_file {
 public:
  /// @param durable flush the contents to disk before the rename (what a crash must not lose,
  ///        e.g. checkpoints); without it the file is still whole or absent, only sooner
  /// @throws invalid_input naming `destination` when its folder does not exist or cannot be
  ///         written
  explicit staged_file(std::filesystem::path destination, bool durable = true);

  staged_file(const staged_file&) = delete;
  staged_file& operator=(const staged_file&) = delete;
  /// Takes over `other`'s pending file, leaving it with nothing to commit or discard.
  staged_file(staged_file&& other) noexcept;
  /// Discards the file held, then takes over `other`'s.
  staged_file& operator=(staged_file&& other) noexcept;
  ~staged_file() { discard(); }

  /// Appends bytes. @throws invalid_input naming the destination on a write error (disk full)
  void write(const void* data, std::size_t size);
  /// Appends `bytes`, as write(data, size).
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  /// Flushes the contents to disk and closes the file; commit() then only renames.
  /// @throws invalid_input naming the destination when the data cannot be flushed
  void finish();

  /// finish() if needed, then renames the file onto the destination (atomic in one file system).
  /// @throws invalid_input naming the destination; the temporary is removed
  void commit();

  /// Removes the temporary (no effect once committed).
  void discard() noexcept;

  /// The path commit() renames the file onto.
  [[nodiscard]] const std::filesystem::path& destination() const noexcept { return destination_; }
  /// The temporary sibling the bytes are written to until commit().
  [[nodiscard]] const std::filesystem::path& temporary() const noexcept { return temporary_; }
  /// The open descriptor (-1 after finish()), for writers that take one.
  [[nodiscard]] int descriptor() const noexcept { return fd_; }

 private:
  [[noreturn]] void fail(const char* what, int error);

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  bool pending_ = false;
  bool durable_ = true;
};

/// Whether two paths name the same file once made absolute, with dot and dot-dot components
/// folded and the links of their existing parts resolved (neither has to exist).
[[nodiscard]] inline bool same_file_path(const std::filesystem::path& a,
                                         const std::filesystem::path& b) {
  std::error_code ec_a;
  std::error_code ec_b;
  const auto canonical_a = std::filesystem::weakly_canonical(std::filesystem::absolute(a), ec_a);
  const auto canonical_b = std::filesystem::weakly_canonical(std::filesystem::absolute(b), ec_b);
  if (ec_a || ec_b) {
    return std::filesystem::absolute(a).lexically_normal() ==
           std::filesystem::absolute(b).lexically_normal();
  }
  return canonical_a == canonical_b;
}

/**
 * @brief The outputs of one command, committed all or none: every file is written and flushed
 *        before the first rename; should a rename still fail, the files already renamed are
 *        removed again, so the destinations never hold a mix of this run's and nothing.
 */
class staged_file_set {
 public:
  /// Stages one more output. @throws invalid_input when it names the same file as an earlier one
  staged_file& add(const std::filesystem::path& destination) {
    for (const auto& file : files_) {
      SPECTRAL_EXPECTS(!same_file_path(file.destination(), destination), destination.string(),
                       " and ", file.destination().string(), " name the same file");
    }
    files_.emplace_back(destination);
    return files_.back();
  }

  /// @throws invalid_input naming the file that could not be flushed or moved into place
  void commit() {
    for (auto& file : files_) {
      file.finish();
    }
    std::size_t renamed = 0;
    try {
      for (; renamed < files_.size(); ++renamed) {
        files_[renamed].commit();
      }
    } catch (...) {
      for (std::size_t i = 0; i < renamed; ++i) {
        std::error_code ec;
        std::filesystem::remove(files_[i].destination(), ec);
      }
      files_.clear();  // discards the rest
      throw;
    }
    files_.clear();
  }

 private:
  std::deque<staged_file> files_;  // a deque: add()'s references stay valid
};

/// Writes `bytes` to `path` through a staged file: all of it or, on failure, nothing.
/// @param durable see staged_file
/// @throws invalid_input naming `path`
inline void write_file_atomically(const std::filesystem::path& path,
                                  std::string_view bytes,
                                  bool durable = true) {
  staged_file file(path, durable);
  file.write(bytes);
  file.commit();
}

// --- implementation -----------------------------------------------------------------------------

inline staged_file::staged_file(std::filesystem::path destination, bool durable)
    : destination_(std::move(destination)), durable_(durable) {
  const std::filesystem::path folder =
      destination_.has_parent_path() ? destination_.parent_path() : std::filesystem::path(".");
  // Appended, not "." + name: GCC 12's -Wrestrict misfires on operator+(const char*, string&&).
  std::string stem = ".";
  stem += destination_.filename().string();
  static constexpr std::string_view alphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device entropy;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  int error = 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string suffix(12, '\0');
    for (char& c : suffix) {
      c = alphabet[pick(entropy)];
    }
    temporary_ = folder / (stem + "." + suffix + ".partial");
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      pending_ = true;
      return;
    }
    error = errno;
    if (error != EEXIST) {
      break;
    }
  }
  throw invalid_input(spectral::detail::concat(destination_.string(), ": cannot create a file in ",
                                               folder.string(), " (", std::strerror(error), ")"));
}

inline staged_file::staged_file(staged_file&& other) noexcept
    : destination_(std::move(other.destination_)),
      temporary_(std::move(other.temporary_)),
      fd_(std::exchange(other.fd_, -1)),
      pending_(std::exchange(other.pending_, false)),
      durable_(other.durable_) {}

inline staged_file& staged_file::operator=(staged_file&& other) noexcept {
  if (this != &other) {
    discard();
    destination_ = std::move(other.destination_);
    temporary_ = std::move(other.temporary_);
    fd_ = std::exchange(other.fd_, -1);
    pending_ = std::exchange(other.pending_, false);
    durable_ = other.durable_;
  }
  return *this;
}

inline void staged_file::fail(const char* what, int error) {
  const std::string message = spectral::detail::concat(destination_.string(), ": cannot ", what,
                                                       " (", std::strerror(error), ")");
  discard();
  throw invalid_input(message);
}

inline void staged_file::write(const void* data, std::size_t size) {
  SPECTRAL_EXPECTS(pending_ && fd_ >= 0, destination_.string(), ": already finished");
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ::ssize_t written = ::write(fd_, bytes, std::min<std::size_t>(size, 1U << 30U));
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("write", errno);
    }
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
}

inline void staged_file::finish() {
  SPECTRAL_EXPECTS(pending_, destination_.string(), ": nothing to finish (already committed)");
  if (fd_ < 0) {
    return;
  }
  // Data on disk before the rename: a crash then leaves the old file or the new one, whole.
  if (durable_ && ::fsync(fd_) != 0 && errno != EINVAL) {
    fail("write", errno);
  }
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 && errno != EINTR) {
    fail("write", errno);
  }
}

inline void staged_file::commit() {
  finish();
  std::error_code ec;
  std::filesystem::rename(temporary_, destination_, ec);
  if (ec) {
    fail("be moved into place", ec.value());
  }
  pending_ = false;
}

inline void staged_file::discard() noexcept {
  if (fd_ >= 0) {
    ::close(std::exchange(fd_, -1));
  }
  if (pending_) {
    std::error_code ec;
    std::filesystem::remove(temporary_, ec);
    pending_ = false;
  }
}

}  // namespace spectral::io
