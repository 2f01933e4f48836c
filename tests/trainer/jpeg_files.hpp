// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Test helpers for the ImageFolder tests: real JPEG files, encoded with TurboJPEG.

#include <catch2/catch_test_macros.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include <turbojpeg.h>

namespace spectral_test {

/// `rgb` (width × height × 3, packed) as a 4:4:4 JPEG of quality 95.
[[nodiscard]] inline std::vector<unsigned char> encode_jpeg(const std::vector<std::uint8_t>& rgb,
                                                            int width,
                                                            int height,
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

/// `jpeg` with the image size in its baseline frame header (SOF0) replaced: the header then
/// announces width × height while the data stay those of the small image.
[[nodiscard]] inline std::vector<unsigned char> with_announced_size(std::vector<unsigned char> jpeg,
                                                                    int width,
                                                                    int height) {
  // Marker segments after SOI: FF, type, big-endian length (counting itself), payload.
  for (std::size_t i = 2; i + 9 <= jpeg.size() && jpeg[i] == 0xFF;
       i += 2 + (std::size_t{jpeg[i + 2]} << 8U) + jpeg[i + 3]) {
    if (jpeg[i + 1] == 0xC0) {  // SOF0: length, precision, height, width
      jpeg[i + 5] = static_cast<unsigned char>(height >> 8);
      jpeg[i + 6] = static_cast<unsigned char>(height & 0xFF);
      jpeg[i + 7] = static_cast<unsigned char>(width >> 8);
      jpeg[i + 8] = static_cast<unsigned char>(width & 0xFF);
      return jpeg;
    }
  }
  FAIL("no SOF0 marker in the JPEG");
  return jpeg;
}

/// Writes `bytes` to `path`, creating its folder.
inline void write_bytes(const std::filesystem::path& path,
                        const std::vector<unsigned char>& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

}  // namespace spectral_test
