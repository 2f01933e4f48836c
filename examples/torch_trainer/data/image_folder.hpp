// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// ImageNet-style ImageFolder trees, `root/<class>/<file>.JPEG`, listed with torchvision's class
/// ids, and the input limits every reader of their files applies, so that a small hostile file
/// cannot cost gigabytes: a file larger than max_image_file_bytes (64 MiB) is not read, and an
/// image whose header announces a width or height above max_image_side (16384) or more than
/// max_image_pixels (2^27) pixels is not decoded; both are skipped and counted like a corrupt
/// file. The limits sit far above the photographs of ImageNet-like data sets and far below what
/// would exhaust a machine's memory. Decoding: data/jpeg_decode.hpp; the loader:
/// data/image_folder_loader.hpp.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace spectral::trainer {

/// The largest image file read (larger ones are skipped as undecodable).
inline constexpr std::uintmax_t max_image_file_bytes = std::uintmax_t{64} << 20;
/// The largest width or height decoded (larger images are skipped as undecodable).
inline constexpr int max_image_side = 16384;
/// The most pixels decoded (larger images are skipped): a 3-channel decode of this many pixels
/// takes 384 MiB, which a decoding thread may hold.
inline constexpr std::int64_t max_image_pixels = std::int64_t{1} << 27;

/// The files of an ImageFolder tree with torchvision's class ids.
struct image_folder {
  std::vector<std::filesystem::path> files;
  std::vector<std::int64_t> labels;  ///< class id of files[i]
  std::vector<std::string> classes;  ///< class-folder names; the id is the position
  std::filesystem::path root;
};

/**
 * @brief Lists the files `root/<class>/<name>` of every class folder (not recursive).
 *
 * Class ids follow the sorted class-folder names (torchvision's ImageFolder order); files are
 * sorted by name within a class. Only regular files (symlinks followed) ending in .jpg or .jpeg,
 * in any letter case, are taken; other files and nested folders are ignored. The scan goes two
 * levels deep and no further, so a link that loops back up cannot make it run forever. An entry
 * that cannot be examined (a link loop, a dangling link, a vanished or unreadable entry) is
 * skipped, and a class folder that cannot be listed keeps its class id but gives no files.
 * @throws invalid_input naming the path for a missing root, a root that is not a directory or
 *         cannot be listed, a root without class folders, or class folders without any JPEG file
 */
[[nodiscard]] image_folder scan_image_folder(const std::filesystem::path& root);

namespace detail {

/// Whether a file name ends in .jpg or .jpeg, in any letter case.
[[nodiscard]] bool has_jpeg_extension(const std::filesystem::path& file);

/// Whole file; std::nullopt when it cannot be read or is larger than `max_bytes`, checked
/// before anything is allocated (counted as undecodable by the loader).
[[nodiscard]] std::optional<std::vector<unsigned char>> try_read_file(
    const std::filesystem::path& path, std::uintmax_t max_bytes = max_image_file_bytes);

}  // namespace detail
}  // namespace spectral::trainer
