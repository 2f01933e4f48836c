// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Reading and writing 2-D float32/float64 NumPy `.npy` files: the `spectral` tool's data format
/// (a tool concern, so not installed with the library).

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>
#include <spectral/io/staged_file.hpp>

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
 * The header is read and checked first: a shape whose data the file cannot hold is refused
 * before anything is allocated for it, so a hostile header costs nothing.
 * @throws invalid_input naming the file and the problem: it cannot be opened, is not a regular
 *         file (a directory, a device), is not a .npy file, is truncated or has trailing bytes,
 *         has another dtype (including big-endian), `fortran_order: True`, or a rank other than 2
 */
[[nodiscard]] npy_matrix read_npy(const std::filesystem::path& path);

/**
 * @brief Writes a 2-D array (N×D, C order, version 1.0 header) into a staged output file; the
 *        file reaches its destination when the caller commits it (alone or in a staged_file_set).
 * @tparam T float (`<f4`) or double (`<f8`)
 * @throws invalid_input naming the destination when the data cannot be written
 */
template <real_scalar T>
void write_npy(staged_file& file, embedding_cref<T> data);

/**
 * @brief A .npy file staged (see staged_file: a new private file next to `path`, created
 *        exclusively under an unpredictable name) and renamed onto `path` by commit(), so that
 *        `path` never holds a partial file and a link planted there is replaced, not followed.
 *
 * An uncommitted file's temporary is removed by the destructor. Several outputs that must
 * appear together go through one staged_file_set and write_npy(staged_file&, …) instead.
 */
class pending_npy {
 public:
  /**
   * @brief Writes `data` (N×D, C order, version 1.0 header) to the staged file.
   * @tparam T float (`<f4`) or double (`<f8`)
   * @throws invalid_input naming `path` when its folder cannot be written (nothing is left)
   */
  template <real_scalar T>
  pending_npy(std::filesystem::path path, embedding_cref<T> data) : file_(std::move(path)) {
    write_npy<T>(file_, data);
  }

  /**
   * @brief Moves the file onto the destination (atomic within one file system).
   * @throws invalid_input when it cannot be flushed or moved (the temporary is removed)
   */
  void commit() { file_.commit(); }

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return file_.destination(); }

 private:
  staged_file file_;
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
[[nodiscard]] constexpr std::string_view npy_descr() noexcept {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

}  // namespace detail

namespace detail {

/// Reads exactly `size` bytes at the stream's position; false on a short read.
inline bool read_exactly(std::ifstream& in, void* data, std::size_t size) {
  auto* bytes = static_cast<char*>(data);
  while (size > 0) {
    const std::size_t chunk = std::min<std::size_t>(size, std::size_t{1} << 30U);
    in.read(bytes, static_cast<std::streamsize>(chunk));
    if (!in) {
      return false;
    }
    bytes += chunk;
    size -= chunk;
  }
  return true;
}

template <class T>
[[nodiscard]] row_matrix<T> read_npy_payload(std::ifstream& in,
                                             std::uint64_t available,
                                             index_t rows,
                                             index_t cols,
                                             const std::string& file) {
  // rows·cols·sizeof(T) is compared with what the file holds by division, so that no shape, however
  // large, overflows or is allocated before it is known to fit.
  const auto r = static_cast<std::uint64_t>(rows);
  const auto c = static_cast<std::uint64_t>(cols);
  if (c != 0 && r > available / sizeof(T) / c) {
    if (r > std::numeric_limits<std::uint64_t>::max() / sizeof(T) / c) {
      throw invalid_input(spectral::detail::concat(file, ": truncated .npy file: shape (", rows,
                                                   ", ", cols, ") is larger than the file"));
    }
    throw invalid_input(spectral::detail::concat(file, ": truncated .npy file: shape (", rows, ", ",
                                                 cols, ") needs ", r * c * sizeof(T),
                                                 " data bytes, found ", available));
  }
  const std::uint64_t expected = r * c * sizeof(T);  // ≤ available, so no overflow
  if (expected < available) {
    throw invalid_input(
        spectral::detail::concat(file, ": corrupt .npy file: ", available - expected,
                                 " bytes after the data of shape (", rows, ", ", cols, ")"));
  }
  row_matrix<T> out(rows, cols);
  const std::size_t count = static_cast<std::size_t>(r * c);
  if (count > 0 && !read_exactly(in, out.data(), count * sizeof(T))) {
    throw invalid_input(spectral::detail::concat(file, ": read error"));
  }
  if constexpr (std::endian::native != std::endian::little) {
    byteswap_in_place(out.data(), count);
  }
  return out;
}

}  // namespace detail

inline npy_matrix read_npy(const std::filesystem::path& path) {
  const std::string file = path.string();
  // A directory opens as a stream on Linux and reports an absurd size: refuse anything but a
  // regular file (links to one are fine) before reading.
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    throw invalid_input(spectral::detail::concat(file, ": cannot open for reading (no such file)"));
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw invalid_input(spectral::detail::concat(
        file, ": not a regular file (",
        std::filesystem::is_directory(status) ? "a directory" : "a device, socket or pipe",
        "); expected a .npy file"));
  }
  std::ifstream in(path, std::ios::binary);
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!in || ec) {
    throw invalid_input(spectral::detail::concat(
        file, ": cannot open for reading (permission denied or not a file)"));
  }

  const std::size_t magic_size = detail::npy_magic.size();
  unsigned char lead[12] = {};  // magic (6), version (2), and a header length of 2 or 4 bytes
  const std::size_t lead_size = std::min<std::uintmax_t>(size, sizeof(lead));
  if (!detail::read_exactly(in, lead, lead_size)) {
    throw invalid_input(spectral::detail::concat(file, ": read error"));
  }
  if (lead_size < magic_size + 2 ||
      std::string_view(reinterpret_cast<const char*>(lead), magic_size) != detail::npy_magic) {
    throw invalid_input(spectral::detail::concat(file, ": not a .npy file (bad magic string)"));
  }
  const int major = lead[magic_size];
  const int minor = lead[magic_size + 1];
  if ((major != 1 && major != 2 && major != 3) || minor != 0) {
    throw invalid_input(spectral::detail::concat(file, ": unsupported .npy format version ", major,
                                                 ".", minor, " (expected 1.0, 2.0 or 3.0)"));
  }
  // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4.
  const int length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = magic_size + 2 + static_cast<std::size_t>(length_bytes);
  if (lead_size < prefix) {
    throw invalid_input(spectral::detail::concat(file, ": truncated .npy file (no header length)"));
  }
  const std::size_t header_size = detail::little_endian_u32(lead + magic_size + 2, length_bytes);
  if (size - prefix < header_size) {
    throw invalid_input(spectral::detail::concat(file, ": truncated .npy file: the header needs ",
                                                 header_size, " bytes, found ", size - prefix));
  }
  in.clear();
  in.seekg(static_cast<std::streamoff>(prefix), std::ios::beg);
  std::string header_text(header_size, '\0');
  if (!detail::read_exactly(in, header_text.data(), header_size)) {
    throw invalid_input(spectral::detail::concat(file, ": read error"));
  }
  const detail::npy_header header = detail::npy_header_parser(header_text, file).parse();

  if (header.descr != "<f4" && header.descr != "<f8") {
    throw invalid_input(
        spectral::detail::concat(file, ": unsupported dtype '", header.descr,
                                 "'; expected little-endian float32 ('<f4') or float64 ('<f8')"));
  }
  if (header.fortran_order) {
    throw invalid_input(spectral::detail::concat(
        file, ": fortran_order is True; save a C-order array (numpy.ascontiguousarray)"));
  }
  if (header.shape.size() != 2) {
    throw invalid_input(spectral::detail::concat(file,
                                                 ": expected a 2-D array (rows = samples), got ",
                                                 header.shape.size(), " dimension(s)"));
  }
  const auto rows = static_cast<index_t>(header.shape[0]);
  const auto cols = static_cast<index_t>(header.shape[1]);
  const std::uint64_t available = size - prefix - header_size;
  if (header.descr == "<f4") {
    return detail::read_npy_payload<float>(in, available, rows, cols, file);
  }
  return detail::read_npy_payload<double>(in, available, rows, cols, file);
}

template <real_scalar T>
void write_npy(staged_file& file, embedding_cref<T> data) {
  std::string header = spectral::detail::concat("{'descr': '", detail::npy_descr<T>(),
                                                "', 'fortran_order': False, 'shape': (",
                                                data.rows(), ", ", data.cols(), "), }");
  // NumPy pads the header with spaces and a newline so that the data starts 64-byte aligned.
  const std::size_t prefix = detail::npy_magic.size() + 4;
  header.append(63 - (prefix + header.size()) % 64, ' ');
  header.push_back('\n');
  const auto header_size = static_cast<std::uint16_t>(header.size());
  const char version[2] = {1, 0};
  const char length[2] = {static_cast<char>(header_size & 0xFFU),
                          static_cast<char>(header_size >> 8U)};
  file.write(detail::npy_magic);
  file.write(version, 2);
  file.write(length, 2);
  file.write(header);

  const auto bytes = static_cast<std::size_t>(data.size()) * sizeof(T);
  const bool contiguous = data.outerStride() == data.cols() || data.rows() <= 1;
  if (std::endian::native == std::endian::little && contiguous) {
    file.write(data.data(), bytes);  // C order already: no copy
    return;
  }
  std::vector<T> payload(static_cast<std::size_t>(data.size()));
  Eigen::Map<row_matrix<T>>(payload.data(), data.rows(), data.cols()) = data;
  if constexpr (std::endian::native != std::endian::little) {
    detail::byteswap_in_place(payload.data(), payload.size());
  }
  file.write(payload.data(), bytes);
}

}  // namespace spectral::io
