// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Reading and writing 2-D float32/float64 NumPy `.npy` files (the CLI's data format).
/// Not part of the umbrella header: include `<spectral/io/npy.hpp>` explicitly.

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace spectral::io {

/// A 2-D array read from a .npy file, in the file's own scalar type.
using npy_matrix = std::variant<row_matrix<float>, row_matrix<double>>;

/**
 * @brief Reads a 2-D C-order float32 (`<f4`) or float64 (`<f8`) array from a .npy file.
 *
 * Accepts format versions 1.0, 2.0 and 3.0.
 * @param path the file to read
 * @return the array as row_matrix<float> or row_matrix<double>, matching the file's dtype
 * @throws invalid_input naming the file and the problem: it cannot be opened, is not a .npy
 *         file, is truncated or has trailing bytes, has another dtype (including big-endian),
 *         `fortran_order: True`, or a rank other than 2
 */
[[nodiscard]] npy_matrix read_npy(const std::filesystem::path& path);

/**
 * @brief A .npy file written to a temporary sibling (`path + ".tmp-<pid>"`) and moved into place
 *        by commit(), so that `path` never holds a partial file.
 *
 * Staging several outputs first and committing them together keeps a failure in one from leaving
 * the others behind. An uncommitted file's temporary is removed by the destructor.
 */
class pending_npy {
 public:
  /**
   * @brief Writes `data` (N×D, C order, version 1.0 header) to the temporary file.
   * @tparam T float (`<f4`) or double (`<f8`)
   * @throws invalid_input when the temporary file cannot be written (the temporary is removed)
   */
  template <real_scalar T>
  pending_npy(std::filesystem::path path, embedding_cref<T> data);

  pending_npy(const pending_npy&) = delete;
  pending_npy& operator=(const pending_npy&) = delete;
  pending_npy(pending_npy&& other) noexcept;
  pending_npy& operator=(pending_npy&& other) noexcept;
  ~pending_npy();

  /**
   * @brief Renames the temporary onto the destination (atomic within one file system).
   * @throws invalid_input when the rename fails (the temporary is removed)
   */
  void commit();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void discard() noexcept;

  std::filesystem::path path_;
  std::filesystem::path temporary_;
  bool pending_ = false;
};

/**
 * @brief Writes a 2-D array to `path` atomically: all of it or, on failure, nothing.
 * @throws invalid_input when the file cannot be written
 */
template <real_scalar T>
void write_npy(const std::filesystem::path& path, embedding_cref<T> data) {
  pending_npy(path, data).commit();
}

// --- implementation -----------------------------------------------------------------------------

namespace detail {

inline constexpr std::string_view npy_magic = "\x93NUMPY";

/// The fields of a .npy header that matter here.
struct npy_header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

/// Parser for the Python dict literal of a .npy header, e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. Only the value forms NumPy
/// writes are accepted: a quoted string, True/False, a tuple of non-negative integers.
class npy_header_parser {
 public:
  npy_header_parser(std::string_view text, std::string file)
      : text_(text), file_(std::move(file)) {}

  npy_header parse() {
    npy_header header;
    bool has_descr = false;
    bool has_order = false;
    bool has_shape = false;
    expect('{');
    while (!consume('}')) {
      const std::string key = quoted();
      expect(':');
      if (key == "descr") {
        header.descr = quoted();
        has_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        header.shape = tuple();
        has_shape = true;
      } else {
        fail("unexpected header key '" + key + "'");
      }
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    if (!has_descr || !has_order || !has_shape) {
      fail("the header lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw invalid_input(spectral::detail::concat(file_, ": corrupt .npy header: ", what));
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) {
      fail(std::string("expected '") + c + "' at offset " + std::to_string(pos_));
    }
  }
  std::string quoted() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      fail("expected a quoted string at offset " + std::to_string(pos_));
    }
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) {
      fail("unterminated string");
    }
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] :
         {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("expected True or False for 'fortran_order'");
  }
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> values;
    expect('(');
    while (!consume(')')) {
      skip_space();
      std::int64_t value = 0;
      std::size_t digits = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0) {
        if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
          fail("a dimension of 'shape' is too large");
        }
        value = value * 10 + (text_[pos_++] - '0');
        ++digits;
      }
      if (digits == 0) {
        fail("expected a non-negative integer in 'shape'");
      }
      consume('L');  // Python 2 long suffix, written by old NumPy versions
      values.push_back(value);
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return values;
  }

  std::string_view text_;
  std::string file_;
  std::size_t pos_ = 0;
};

[[nodiscard]] inline std::uint32_t little_endian_u32(const unsigned char* bytes, int count) {
  std::uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i) {
    value = (value << 8U) | bytes[i];
  }
  return value;
}

template <class T>
void byteswap_in_place(T* data, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    auto* bytes = reinterpret_cast<unsigned char*>(data + i);
    std::reverse(bytes, bytes + sizeof(T));
  }
}

template <class T>
[[nodiscard]] row_matrix<T> read_npy_payload(const std::vector<char>& contents,
                                             std::size_t offset,
                                             index_t rows,
                                             index_t cols,
                                             const std::string& file) {
  const std::size_t count = static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols);
  const std::size_t expected = count * sizeof(T);
  const std::size_t available = contents.size() - offset;
  if (available < expected) {
    throw invalid_input(spectral::detail::concat(file,
                                                 ": truncated .npy file: shape (",
                                                 rows,
                                                 ", ",
                                                 cols,
                                                 ") needs ",
                                                 expected,
                                                 " data bytes, found ",
                                                 available));
  }
  if (available > expected) {
    throw invalid_input(spectral::detail::concat(file,
                                                 ": corrupt .npy file: ",
                                                 available - expected,
                                                 " bytes after the data of shape (",
                                                 rows,
                                                 ", ",
                                                 cols,
                                                 ")"));
  }
  row_matrix<T> out(rows, cols);
  if (count > 0) {
    std::memcpy(out.data(), contents.data() + offset, expected);
  }
  if constexpr (std::endian::native != std::endian::little) {
    byteswap_in_place(out.data(), count);
  }
  return out;
}

template <class T>
[[nodiscard]] constexpr std::string_view npy_descr() noexcept {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

}  // namespace detail

inline npy_matrix read_npy(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    throw invalid_input(
        spectral::detail::concat(file,
                                 ": cannot open for reading (",
                                 exists ? "permission denied or not a file" : "no such file",
                                 ")"));
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<char> contents(size > 0 ? static_cast<std::size_t>(size) : 0U);
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (size < 0 || !in) {
    throw invalid_input(spectral::detail::concat(file, ": read error"));
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(contents.data());
  const std::size_t magic_size = detail::npy_magic.size();
  if (contents.size() < magic_size + 2 ||
      std::string_view(contents.data(), magic_size) != detail::npy_magic) {
    throw invalid_input(spectral::detail::concat(file, ": not a .npy file (bad magic string)"));
  }
  const int major = bytes[magic_size];
  const int minor = bytes[magic_size + 1];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw invalid_input(spectral::detail::concat(file,
                                                 ": unsupported .npy format version ",
                                                 major,
                                                 ".",
                                                 minor,
                                                 " (expected 1.0, 2.0 or 3.0)"));
  }
  // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4.
  const int length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = magic_size + 2 + static_cast<std::size_t>(length_bytes);
  if (contents.size() < prefix) {
    throw invalid_input(spectral::detail::concat(file, ": truncated .npy file (no header length)"));
  }
  const std::size_t header_size = detail::little_endian_u32(bytes + magic_size + 2, length_bytes);
  if (contents.size() - prefix < header_size) {
    throw invalid_input(spectral::detail::concat(file,
                                                 ": truncated .npy file: the header needs ",
                                                 header_size,
                                                 " bytes, found ",
                                                 contents.size() - prefix));
  }
  const detail::npy_header header =
      detail::npy_header_parser(std::string_view(contents.data() + prefix, header_size), file)
          .parse();

  if (header.descr != "<f4" && header.descr != "<f8") {
    throw invalid_input(
        spectral::detail::concat(file,
                                 ": unsupported dtype '",
                                 header.descr,
                                 "'; expected little-endian float32 ('<f4') or float64 ('<f8')"));
  }
  if (header.fortran_order) {
    throw invalid_input(spectral::detail::concat(
        file, ": fortran_order is True; save a C-order array (numpy.ascontiguousarray)"));
  }
  if (header.shape.size() != 2) {
    throw invalid_input(spectral::detail::concat(file,
                                                 ": expected a 2-D array (rows = samples), got ",
                                                 header.shape.size(),
                                                 " dimension(s)"));
  }
  const auto rows = static_cast<index_t>(header.shape[0]);
  const auto cols = static_cast<index_t>(header.shape[1]);
  // Guards the byte count against overflow before it is compared with the file size.
  if (cols != 0 &&
      static_cast<std::size_t>(rows) > contents.size() / static_cast<std::size_t>(cols)) {
    throw invalid_input(spectral::detail::concat(
        file, ": truncated .npy file: shape (", rows, ", ", cols, ") is larger than the file"));
  }
  const std::size_t offset = prefix + header_size;
  if (header.descr == "<f4") {
    return detail::read_npy_payload<float>(contents, offset, rows, cols, file);
  }
  return detail::read_npy_payload<double>(contents, offset, rows, cols, file);
}

template <real_scalar T>
pending_npy::pending_npy(std::filesystem::path path, embedding_cref<T> data)
    : path_(std::move(path)), temporary_(path_.string() + ".tmp-" + std::to_string(::getpid())) {
  std::string header = spectral::detail::concat("{'descr': '",
                                                detail::npy_descr<T>(),
                                                "', 'fortran_order': False, 'shape': (",
                                                data.rows(),
                                                ", ",
                                                data.cols(),
                                                "), }");
  // NumPy pads the header with spaces and a newline so that the data starts 64-byte aligned.
  const std::size_t prefix = detail::npy_magic.size() + 4;
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header.push_back('\n');
  const auto header_size = static_cast<std::uint16_t>(header.size());

  std::vector<T> payload(static_cast<std::size_t>(data.size()));
  Eigen::Map<row_matrix<T>>(payload.data(), data.rows(), data.cols()) = data;
  if constexpr (std::endian::native != std::endian::little) {
    detail::byteswap_in_place(payload.data(), payload.size());
  }

  pending_ = true;  // from here on the destructor removes the temporary
  {
    std::ofstream out(temporary_, std::ios::binary | std::ios::trunc);
    const char version[2] = {1, 0};
    const char length[2] = {static_cast<char>(header_size & 0xFFU),
                            static_cast<char>(header_size >> 8U)};
    out.write(detail::npy_magic.data(), static_cast<std::streamsize>(detail::npy_magic.size()));
    out.write(version, 2);
    out.write(length, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(payload.data()),
              static_cast<std::streamsize>(payload.size() * sizeof(T)));
    out.close();
    if (!out) {
      discard();
      throw invalid_input(spectral::detail::concat(
          path_.string(), ": cannot write (missing directory, no permission or disk full)"));
    }
  }
}

inline pending_npy::pending_npy(pending_npy&& other) noexcept
    : path_(std::move(other.path_)),
      temporary_(std::move(other.temporary_)),
      pending_(std::exchange(other.pending_, false)) {}

inline pending_npy& pending_npy::operator=(pending_npy&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temporary_ = std::move(other.temporary_);
    pending_ = std::exchange(other.pending_, false);
  }
  return *this;
}

inline pending_npy::~pending_npy() { discard(); }

inline void pending_npy::commit() {
  SPECTRAL_EXPECTS(pending_, path_.string(), ": nothing to commit (already committed or moved)");
  std::error_code ec;
  std::filesystem::rename(temporary_, path_, ec);
  if (ec) {
    discard();
    throw invalid_input(spectral::detail::concat(
        path_.string(), ": cannot move the written file into place (", ec.message(), ")"));
  }
  pending_ = false;
}

inline void pending_npy::discard() noexcept {
  if (pending_) {
    std::error_code ec;
    std::filesystem::remove(temporary_, ec);
    pending_ = false;
  }
}

}  // namespace spectral::io
