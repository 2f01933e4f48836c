// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Test helpers for the ImageFolder tests: real JPEG files, encoded with TurboJPEG.

#include <turbojpeg.h>

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace spectral_test {

/// `rgb` (width × height × 3, packed) as a 4:4:4 JPEG of quality 95.
[[nodiscard]] inline std::vector<unsigned char> encode_jpeg(const std::vector<std::uint8_t>& rgb,
                                                            int width, int height,
                                                            int flags = TJFLAG_ACCURATEDCT) {
  tjhandle tj = tjInitCompress();
  REQUIRE(tj != nullptr);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(tj, rgb.data(), width, width * 3, height, TJPF_RGB, &buffer, &size,
                             TJSAMP_444, 95, flags);
  std::vector<unsigned char> bytes;
  if (rc == 0) {
    bytes.assign(buffer, buffer + size);
  }
  tjFree(buffer);
  tjDestroy(tj);
  REQUIRE(rc == 0);
  return bytes;
}

/// Writes `bytes` to `path`, creating its folder.
inline void write_bytes(const std::filesystem::path& path, const std::vector<unsigned char>& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

}  // namespace spectral_test
