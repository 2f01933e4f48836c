// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Reader for gzip-compressed IDX files (the MNIST / Fashion-MNIST format, as shipped by Debian's
/// dataset-fashion-mnist in /usr/share/datasets/fashion-mnist). Every header field and size is
/// validated; a missing, corrupt or truncated file throws spectral::invalid_input naming the file
/// and the problem. Needs zlib (ZLIB::ZLIB).
///
/// IDX: a big-endian magic (0x00000803 for 3-D unsigned bytes, 0x00000801 for 1-D), one
/// big-endian uint32 per dimension, then the bytes in C order.

#include <spectral/core/error.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <zlib.h>

namespace spectral::examples {

/// count images of rows×cols unsigned bytes, image after image, row after row.
struct idx_images {
  std::size_t count = 0;
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> pixels;

  [[nodiscard]] const std::uint8_t* image(std::size_t i) const {
    return pixels.data() + i * rows * cols;
  }
};

/// One split of Fashion-MNIST: images and their labels (0–9).
struct fashion_mnist_split {
  idx_images images;
  std::vector<std::uint8_t> labels;
};

/// The whole decompressed content of a gzip file (a plain file is read as is, as zlib does).
/// @throws invalid_input when it cannot be opened or its compressed data are corrupt or truncated
[[nodiscard]] std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path);

/// @throws invalid_input for a wrong magic number, zero dimensions, or a size that does not match
[[nodiscard]] idx_images read_idx_images(const std::filesystem::path& path);
[[nodiscard]] std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path);

/**
 * @brief Reads `<split>-images-idx3-ubyte.gz` and `<split>-labels-idx1-ubyte.gz` from `folder`.
 * @param split "train" (60000 images) or "t10k" (10000)
 * @throws invalid_input for a missing folder or file, 28×28 violated, counts that differ, or a
 *         label above 9
 */
[[nodiscard]] fashion_mnist_split load_fashion_mnist(const std::filesystem::path& folder,
                                                     const std::string& split);

// --- implementation -----------------------------------------------------------------------------

namespace detail {

[[nodiscard]] inline std::uint32_t big_endian_u32(const std::vector<std::uint8_t>& bytes,
                                                  std::size_t offset) {
  return (std::uint32_t{bytes[offset]} << 24U) | (std::uint32_t{bytes[offset + 1]} << 16U) |
         (std::uint32_t{bytes[offset + 2]} << 8U) | std::uint32_t{bytes[offset + 3]};
}

/// Checks the magic and returns the dimensions of an IDX file of unsigned bytes.
[[nodiscard]] inline std::vector<std::size_t> idx_header(const std::vector<std::uint8_t>& bytes,
                                                         std::uint32_t magic,
                                                         std::size_t rank,
                                                         const std::string& file) {
  SPECTRAL_EXPECTS(bytes.size() >= 4, file, ": not an IDX file (", bytes.size(),
                   " bytes, no magic number)");
  const std::uint32_t found = big_endian_u32(bytes, 0);
  SPECTRAL_EXPECTS(found == magic, file, ": not an IDX file of rank ", rank, " (magic number 0x",
                   std::hex, found, ", expected 0x", magic, ")");
  const std::size_t header = 4 + 4 * rank;
  SPECTRAL_EXPECTS(bytes.size() >= header, file, ": truncated header (", bytes.size(), " bytes of ",
                   header, ")");
  std::vector<std::size_t> dims;
  std::size_t payload = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    dims.push_back(big_endian_u32(bytes, 4 + 4 * d));
    SPECTRAL_EXPECTS(dims.back() > 0, file, ": dimension ", d, " is zero");
    payload *= dims.back();
  }
  SPECTRAL_EXPECTS(bytes.size() >= header + payload, file, ": truncated (", bytes.size() - header,
                   " data bytes, the header announces ", payload, ")");
  SPECTRAL_EXPECTS(bytes.size() == header + payload, file, ": ", bytes.size() - header - payload,
                   " trailing bytes after the ", payload, " announced by the header");
  return dims;
}

}  // namespace detail

inline std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  gzFile in = gzopen(file.c_str(), "rb");
  SPECTRAL_EXPECTS(in != nullptr, file, ": cannot open");
  std::vector<std::uint8_t> out;
  std::array<std::uint8_t, 1 << 16> chunk{};
  for (;;) {
    const int got = gzread(in, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got <= 0) {
      int status = Z_OK;
      const char* message = gzerror(in, &status);
      const std::string reason = message != nullptr ? message : "unknown error";
      gzclose(in);
      // zlib reports a cut-off stream as Z_BUF_ERROR ("unexpected end of file").
      SPECTRAL_EXPECTS(got == 0 && (status == Z_OK || status == Z_STREAM_END), file,
                       ": corrupt or truncated gzip data (", reason, ")");
      return out;
    }
    out.insert(out.end(), chunk.begin(), chunk.begin() + got);
  }
}

inline idx_images read_idx_images(const std::filesystem::path& path) {
  std::vector<std::uint8_t> bytes = read_gzip_file(path);
  const auto dims = detail::idx_header(bytes, 0x00000803U, 3, path.string());
  idx_images images{dims[0], dims[1], dims[2], {}};
  bytes.erase(bytes.begin(), bytes.begin() + 16);
  images.pixels = std::move(bytes);
  return images;
}

inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path) {
  std::vector<std::uint8_t> bytes = read_gzip_file(path);
  (void)detail::idx_header(bytes, 0x00000801U, 1, path.string());
  bytes.erase(bytes.begin(), bytes.begin() + 8);
  return bytes;
}

inline fashion_mnist_split load_fashion_mnist(const std::filesystem::path& folder,
                                              const std::string& split) {
  SPECTRAL_EXPECTS(split == "train" || split == "t10k", "split: expected train or t10k, got '",
                   split, "'");
  const std::filesystem::path images_file = folder / (split + "-images-idx3-ubyte.gz");
  const std::filesystem::path labels_file = folder / (split + "-labels-idx1-ubyte.gz");
  for (const auto& f : {images_file, labels_file}) {
    SPECTRAL_EXPECTS(std::filesystem::is_regular_file(f), "--data: no Fashion-MNIST file ",
                     f.string(),
                     " (install Debian's dataset-fashion-mnist or point --data at a "
                     "folder with the four *-ubyte.gz files)");
  }
  fashion_mnist_split out{read_idx_images(images_file), read_idx_labels(labels_file)};
  SPECTRAL_EXPECTS(out.images.rows == 28 && out.images.cols == 28, images_file.string(),
                   ": images are ", out.images.rows, "x", out.images.cols, ", expected 28x28");
  SPECTRAL_EXPECTS(out.labels.size() == out.images.count, labels_file.string(), ": ",
                   out.labels.size(), " labels for ", out.images.count, " images");
  for (std::size_t i = 0; i < out.labels.size(); ++i) {
    SPECTRAL_EXPECTS(out.labels[i] <= 9, labels_file.string(), ": label ", int{out.labels[i]},
                     " at index ", i, " is not a class 0-9");
  }
  return out;
}

}  // namespace spectral::examples
