// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Test-only .npy reader/writer for float64 arrays (NPY format 1.0/2.0, little-endian, C order),
// enough to exchange matrices with tests/oracle/torch_reference.py. Shares no code with include/.

#include <Eigen/Core>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spectral_test::npy {

static_assert(std::endian::native == std::endian::little, "npy_write.hpp assumes little-endian");

using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Writes m as a 2-D '<f8' C-order array (format 1.0).
inline void write(const std::filesystem::path& path, const row_matrix& m) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" +
                       std::to_string(m.rows()) + ", " + std::to_string(m.cols()) + "), }";
  // magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) {
    throw std::runtime_error("npy::write: cannot open " + path.string());
  }
  const auto length = static_cast<std::uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&length), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(m.data()),
            static_cast<std::streamsize>(m.size() * static_cast<Eigen::Index>(sizeof(double))));
  if (!out) {
    throw std::runtime_error("npy::write: failed writing " + path.string());
  }
}

/// Reads a '<f8' C-order array of 1 or 2 dimensions; a 1-D array of n values becomes 1×n.
inline row_matrix read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("npy::read: cannot open " + path.string());
  }
  char magic[8] = {};
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw std::runtime_error("npy::read: " + path.string() + " is not an .npy file");
  }
  std::uint32_t length = 0;
  if (magic[6] == 1) {
    std::uint16_t short_length = 0;
    in.read(reinterpret_cast<char*>(&short_length), 2);
    length = short_length;
  } else {
    in.read(reinterpret_cast<char*>(&length), 4);
  }
  std::string header(length, '\0');
  in.read(header.data(), static_cast<std::streamsize>(length));
  if (!in || header.find("'descr': '<f8'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    throw std::runtime_error("npy::read: " + path.string() +
                             " is not a little-endian float64 C-order array: " + header);
  }
  const std::size_t open = header.find('(', header.find("'shape'"));
  const std::size_t close = header.find(')', open);
  std::vector<Eigen::Index> shape;
  std::string dims = header.substr(open + 1, close - open - 1);
  for (std::size_t pos = 0; pos < dims.size();) {
    const std::size_t comma = dims.find(',', pos);
    const std::string item =
        dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.find_first_of("0123456789") != std::string::npos) {
      shape.push_back(static_cast<Eigen::Index>(std::stoll(item)));
    }
    if (comma == std::string::npos) {
      break;
    }
    pos = comma + 1;
  }
  if (shape.empty() || shape.size() > 2) {
    throw std::runtime_error("npy::read: " + path.string() + " must be 1-D or 2-D: " + header);
  }
  row_matrix m(shape.size() == 2 ? shape[0] : 1, shape.back());
  in.read(reinterpret_cast<char*>(m.data()),
          static_cast<std::streamsize>(m.size() * static_cast<Eigen::Index>(sizeof(double))));
  if (!in) {
    throw std::runtime_error("npy::read: " + path.string() + " is truncated");
  }
  return m;
}

}  // namespace spectral_test::npy
