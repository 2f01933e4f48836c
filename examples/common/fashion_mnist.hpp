// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Reader for gzip-compressed IDX files (the MNIST / Fashion-MNIST format, as shipped by Debian's
/// dataset-fashion-mnist in /usr/share/datasets/fashion-mnist). Every header field and size is
/// validated; a missing, corrupt or truncated file throws spectral::invalid_input naming the file
/// and the problem. The header is read first and bounds what is inflated: a small compressed file
/// cannot make the reader allocate more than the header announces, nor more than
/// max_idx_payload_bytes. Needs zlib (ZLIB::ZLIB).
///
/// IDX: a big-endian magic (0x00000803 for 3-D unsigned bytes, 0x00000801 for 1-D), one
/// big-endian uint32 per dimension, then the bytes in C order.

#include <spectral/core/error.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
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

/// The largest IDX payload read: Fashion-MNIST's training images are 47 MB. A header that
/// announces more is refused before anything is allocated or inflated.
inline constexpr std::size_t max_idx_payload_bytes = std::size_t{1} << 30;

/// What read_gzip_file() inflates at most by default: the largest IDX file accepted.
inline constexpr std::size_t max_gzip_file_bytes = max_idx_payload_bytes + 4 + 4 * 3;

/// The whole decompressed content of a gzip file (a plain file is read as is, as zlib does).
/// Inflating stops, with an error, as soon as more than `max_bytes` bytes come out.
/// @throws invalid_input when it cannot be opened, its compressed data are corrupt or truncated,
///         or it inflates to more than `max_bytes`
[[nodiscard]] std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path,
                                                       std::size_t max_bytes = max_gzip_file_bytes);

/// Reads the header first and then exactly the payload it announces: a payload over
/// max_idx_payload_bytes is refused unread, and inflating stops at the first byte past it.
/// @throws invalid_input for a wrong magic number, zero dimensions, a payload over the limit, or a
///         size that does not match
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

/// A gzip (or plain) file read incrementally, so that no more is inflated than is asked for.
class gzip_reader {
 public:
  explicit gzip_reader(const std::filesystem::path& path)
      : file_(path.string()), in_(gzopen(file_.c_str(), "rb")) {
    SPECTRAL_EXPECTS(in_ != nullptr, file_, ": cannot open");
  }
  ~gzip_reader() { gzclose(in_); }
  gzip_reader(const gzip_reader&) = delete;
  gzip_reader& operator=(const gzip_reader&) = delete;

  /// Up to `size` bytes into `out`; fewer only at the end of the data.
  /// @throws invalid_input for corrupt or truncated compressed data
  [[nodiscard]] std::size_t read(std::uint8_t* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const auto want = static_cast<unsigned>(std::min<std::size_t>(size - done, 1U << 20U));
      const int got = gzread(in_, out + done, want);
      if (got <= 0) {
        int status = Z_OK;
        const char* message = gzerror(in_, &status);
        // zlib reports a cut-off stream as Z_BUF_ERROR ("unexpected end of file").
        SPECTRAL_EXPECTS(got == 0 && (status == Z_OK || status == Z_STREAM_END), file_,
                         ": corrupt or truncated gzip data (",
                         message != nullptr ? message : "unknown error", ")");
        break;
      }
      done += static_cast<std::size_t>(got);
    }
    return done;
  }

  /// Whether at least one more byte follows (reads it).
  [[nodiscard]] bool more() {
    std::uint8_t byte = 0;
    return read(&byte, 1) == 1;
  }

  [[nodiscard]] const std::string& file() const { return file_; }

 private:
  std::string file_;
  gzFile in_;
};

[[nodiscard]] inline std::uint32_t big_endian_u32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24U) | (std::uint32_t{bytes[1]} << 16U) |
         (std::uint32_t{bytes[2]} << 8U) | std::uint32_t{bytes[3]};
}

/// The dimensions and payload of an IDX file of unsigned bytes of the given magic and rank (≤ 3).
struct idx_contents {
  std::vector<std::size_t> dims;
  std::vector<std::uint8_t> payload;
};

[[nodiscard]] inline idx_contents read_idx(const std::filesystem::path& path,
                                           std::uint32_t magic,
                                           std::size_t rank) {
  SPECTRAL_EXPECTS(rank >= 1 && rank <= 3, "IDX rank: expected 1-3, got ", rank);
  gzip_reader in(path);
  const std::string& file = in.file();
  std::array<std::uint8_t, 4 + 4 * 3> header{};
  const std::size_t magic_bytes = in.read(header.data(), 4);
  SPECTRAL_EXPECTS(magic_bytes == 4, file, ": not an IDX file (", magic_bytes,
                   " bytes, no magic number)");
  const std::uint32_t found = big_endian_u32(header.data());
  SPECTRAL_EXPECTS(found == magic, file, ": not an IDX file of rank ", rank, " (magic number 0x",
                   std::hex, found, ", expected 0x", magic, ")");
  const std::size_t dim_bytes = in.read(header.data() + 4, 4 * rank);
  SPECTRAL_EXPECTS(dim_bytes == 4 * rank, file, ": truncated header (", 4 + dim_bytes, " bytes of ",
                   4 + 4 * rank, ")");
  idx_contents out;
  std::size_t payload = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::size_t dim = big_endian_u32(header.data() + 4 + 4 * d);
    SPECTRAL_EXPECTS(dim > 0, file, ": dimension ", d, " is zero");
    // Division, not multiplication: the product of three 32-bit sizes can overflow.
    SPECTRAL_EXPECTS(dim <= max_idx_payload_bytes / payload, file,
                     ": the header announces more than the limit of ", max_idx_payload_bytes,
                     " data bytes (dimension ", d, " is ", dim, ")");
    payload *= dim;
    out.dims.push_back(dim);
  }
  // Memory grows with the data that actually arrive, not with what the header announces.
  constexpr std::size_t chunk = std::size_t{1} << 24;
  std::size_t got = 0;
  while (got < payload) {
    const std::size_t want = std::min(chunk, payload - got);
    out.payload.resize(got + want);
    const std::size_t read = in.read(out.payload.data() + got, want);
    got += read;
    if (read < want) {
      break;
    }
  }
  SPECTRAL_EXPECTS(got == payload, file, ": truncated (", got, " data bytes, the header announces ",
                   payload, ")");
  SPECTRAL_EXPECTS(!in.more(), file, ": trailing bytes after the ", payload,
                   " announced by the header");
  return out;
}

}  // namespace detail

inline std::vector<std::uint8_t> read_gzip_file(const std::filesystem::path& path,
                                                std::size_t max_bytes) {
  detail::gzip_reader in(path);
  std::vector<std::uint8_t> out;
  constexpr std::size_t chunk = std::size_t{1} << 16;
  for (;;) {
    const std::size_t size = out.size();
    out.resize(size + chunk);
    const std::size_t got = in.read(out.data() + size, chunk);
    out.resize(size + got);
    SPECTRAL_EXPECTS(out.size() <= max_bytes, in.file(), ": inflates to more than the limit of ",
                     max_bytes, " bytes");
    if (got < chunk) {
      return out;
    }
  }
}

inline idx_images read_idx_images(const std::filesystem::path& path) {
  detail::idx_contents idx = detail::read_idx(path, 0x00000803U, 3);
  return {idx.dims[0], idx.dims[1], idx.dims[2], std::move(idx.payload)};
}

inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path) {
  return detail::read_idx(path, 0x00000801U, 1).payload;
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
