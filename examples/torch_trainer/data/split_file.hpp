// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The labelled subsets of semi-supervised fine-tuning (docs/trainer.md#semi-supervised): the
/// reference's split files (SimCLR's `1percent.txt` / `10percent.txt`) list one image file name
/// per line, e.g. `n01440764_10026.JPEG`. Names are matched to an ImageFolder's files by base
/// name; the class comes from the folder the file is in.

#include "data/image_folder.hpp"

#include <spectral/core/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace spectral::trainer {

/// The largest split file read; a list of every ImageNet training file (1.28 million names of
/// about 21 bytes a line) takes less than half of it.
inline constexpr std::uintmax_t max_split_file_bytes = std::uintmax_t{64} << 20;

/**
 * @brief The file names of a split file, in file order, each once.
 *
 * Leading and trailing white space (a Windows `\r` included) is dropped and blank lines are
 * skipped. A line holding a path (`n01440764/n01440764_10026.JPEG`) stands for its base name.
 * @throws invalid_input naming the file when it cannot be read, is larger than
 *         max_split_file_bytes (checked before reading where the size is known, and while
 *         reading otherwise), or names no file
 */
[[nodiscard]] std::vector<std::string> read_split_file(const std::filesystem::path& path);

/**
 * @brief The files of `folder` that `split_file` names, in the folder's order (class, then name),
 *        with their labels; the class list is the folder's, so class ids do not change.
 * @throws invalid_input naming the split file and the first name that is in none of the
 *         folder's class folders, or a name that two class folders both hold
 */
[[nodiscard]] image_folder select_split(const image_folder& folder,
                                        const std::filesystem::path& split_file);

// --- implementation

inline std::vector<std::string> read_split_file(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  SPECTRAL_EXPECTS(ec || size <= max_split_file_bytes, "split file ", path.string(), ": ", size,
                   " bytes is more than the limit of ", max_split_file_bytes, " bytes");
  std::ifstream file(path, std::ios::binary);
  SPECTRAL_EXPECTS(static_cast<bool>(file), "split file ", path.string(), " cannot be read");
  // Bounded while reading too: a pipe or a device has no size to check beforehand.
  std::string text;
  std::array<char, 1 << 16> chunk{};
  while (file.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || file.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(file.gcount()));
    SPECTRAL_EXPECTS(text.size() <= max_split_file_bytes, "split file ", path.string(),
                     ": more than the limit of ", max_split_file_bytes, " bytes");
  }
  SPECTRAL_EXPECTS(!file.bad(), "split file ", path.string(), " cannot be read");
  std::istringstream in(text);
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  std::string line;
  constexpr const char* blank = " \t\r\n\f\v";
  while (std::getline(in, line)) {
    const std::size_t first = line.find_first_not_of(blank);
    if (first == std::string::npos) {
      continue;
    }
    const std::size_t last = line.find_last_not_of(blank);
    std::string name =
        std::filesystem::path(line.substr(first, last - first + 1)).filename().string();
    if (!name.empty() && seen.insert(name).second) {
      names.push_back(std::move(name));
    }
  }
  SPECTRAL_EXPECTS(!names.empty(), "split file ", path.string(), " names no image file");
  return names;
}

inline image_folder select_split(const image_folder& folder,
                                 const std::filesystem::path& split_file) {
  const std::vector<std::string> names = read_split_file(split_file);
  std::unordered_map<std::string, std::size_t> by_name;
  by_name.reserve(folder.files.size());
  for (std::size_t i = 0; i < folder.files.size(); ++i) {
    const auto [it, inserted] = by_name.emplace(folder.files[i].filename().string(), i);
    // Only a name the split asks for makes a duplicate an error (checked below).
    if (!inserted) {
      it->second = folder.files.size();
    }
  }
  std::vector<bool> chosen(folder.files.size(), false);
  for (const std::string& name : names) {
    const auto it = by_name.find(name);
    SPECTRAL_EXPECTS(it != by_name.end(), "split file ", split_file.string(), " names ", name,
                     ", which is in no class folder of ", folder.root.string(),
                     " (the first missing name)");
    SPECTRAL_EXPECTS(it->second < folder.files.size(), "split file ", split_file.string(), ": ",
                     name, " is in more than one class folder of ", folder.root.string());
    chosen[it->second] = true;
  }
  image_folder subset;
  subset.root = folder.root;
  subset.classes = folder.classes;
  for (std::size_t i = 0; i < folder.files.size(); ++i) {
    if (chosen[i]) {
      subset.files.push_back(folder.files[i]);
      subset.labels.push_back(folder.labels[i]);
    }
  }
  return subset;
}

}  // namespace spectral::trainer
