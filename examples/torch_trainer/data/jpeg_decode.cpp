// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

#include "data/jpeg_decode.hpp"

#include <spectral/core/error.hpp>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <new>
#include <string>

namespace spectral::trainer {
namespace detail {

bool is_libjpeg_warning(const char* message) {
  if (message == nullptr) {
    return false;
  }
  static constexpr const char* prefixes[] = {"Corrupt JPEG data:",
                                             "Premature end of JPEG file",
                                             "Inconsistent progression",
                                             "Invalid SOS parameters for sequential JPEG",
                                             "Warning: unknown JFIF",
                                             "Unknown Adobe color transform",
                                             "Application transferred too many scanlines"};
  const std::string text(message);
  return std::any_of(std::begin(prefixes), std::end(prefixes),
                     [&](const char* prefix) { return text.rfind(prefix, 0) == 0; });
}

bool has_adobe_marker(const std::vector<unsigned char>& bytes) {
  static constexpr unsigned char adobe[] = {'A', 'd', 'o', 'b', 'e'};
  // The marker sits in the header, before the scan data; a bounded search is enough.
  const std::size_t limit = std::min<std::size_t>(bytes.size(), 1U << 16);
  for (std::size_t i = 0; i + 4 + sizeof(adobe) <= limit; ++i) {
    if (bytes[i] == 0xFF && bytes[i + 1] == 0xEE &&
        std::memcmp(bytes.data() + i + 4, adobe, sizeof(adobe)) == 0) {
      return true;
    }
  }
  return false;
}

void cmyk_to_rgb(const std::vector<std::uint8_t>& cmyk,
                 bool inverted,
                 std::vector<std::uint8_t>& rgb) {
  const std::size_t pixels = cmyk.size() / 4;
  rgb.resize(pixels * 3);
  for (std::size_t i = 0; i < pixels; ++i) {
    const auto ink = [&](std::size_t c) {
      const unsigned v = cmyk[i * 4 + c];
      return inverted ? v : 255U - v;  // "paper left": 255 means no ink
    };
    const unsigned k = ink(3);
    for (std::size_t c = 0; c < 3; ++c) {
      rgb[i * 3 + c] = static_cast<std::uint8_t>((ink(c) * k + 127U) / 255U);
    }
  }
}

bool image_size_within_limits(int width, int height) {
  return width >= 1 && height >= 1 && width <= max_image_side && height <= max_image_side &&
         std::int64_t{width} * std::int64_t{height} <= max_image_pixels;
}

bool read_jpeg_header(tjhandle tj, const std::vector<unsigned char>& bytes, jpeg_header& header) {
  int subsamp = 0;
  return !bytes.empty() &&
         tjDecompressHeader3(tj, bytes.data(), static_cast<unsigned long>(bytes.size()),
                             &header.width, &header.height, &subsamp, &header.colorspace) == 0 &&
         image_size_within_limits(header.width, header.height);
}

int dct_scale_denominator(std::int64_t span_w,
                          std::int64_t span_h,
                          std::int64_t need_w,
                          std::int64_t need_h) {
  int denom = 1;
  int factor_count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&factor_count);
  for (int i = 0; factors != nullptr && i < factor_count; ++i) {
    const tjscalingfactor sf = factors[i];
    const bool candidate = sf.num == 1 && (sf.denom == 2 || sf.denom == 4 || sf.denom == 8);
    if (candidate && sf.denom > denom && span_w >= need_w * sf.denom &&
        span_h >= need_h * sf.denom) {
      denom = sf.denom;
    }
  }
  return denom;
}

bool decode_scaled_rgb(tjhandle tj,
                       const std::vector<unsigned char>& bytes,
                       const jpeg_header& header,
                       int denom,
                       std::vector<std::uint8_t>& rgb,
                       int& scaled_w,
                       int& scaled_h) {
  const tjscalingfactor chosen{1, denom};
  scaled_w = TJSCALED(header.width, chosen);
  scaled_h = TJSCALED(header.height, chosen);
  const auto pixels = static_cast<std::int64_t>(scaled_w) * scaled_h;
  if (!image_size_within_limits(scaled_w, scaled_h)) {
    return false;
  }
  const bool cmyk = header.colorspace == TJCS_CMYK || header.colorspace == TJCS_YCCK;
  const int channels = cmyk ? 4 : 3;
  // RGB goes straight into `rgb`, whose capacity a caller's reused buffer keeps across images.
  std::vector<std::uint8_t> cmyk_pixels;
  std::vector<std::uint8_t>& decoded = cmyk ? cmyk_pixels : rgb;
  decoded.resize(static_cast<std::size_t>(pixels * channels));
  if (tjDecompress2(tj, bytes.data(), static_cast<unsigned long>(bytes.size()), decoded.data(),
                    scaled_w, scaled_w * channels, scaled_h, cmyk ? TJPF_CMYK : TJPF_RGB, 0) != 0 &&
      !(tjGetErrorCode(tj) == TJERR_WARNING && is_libjpeg_warning(tjGetErrorStr2(tj)))) {
    return false;
  }
  if (cmyk) {
    cmyk_to_rgb(cmyk_pixels, has_adobe_marker(bytes), rgb);
  }
  return true;
}

bool decode_crop_once(const std::vector<unsigned char>& bytes,
                      const std::vector<view_crop>& crops,
                      double ratio_min,
                      double ratio_max,
                      std::mt19937_64& rng,
                      crop_filter f,
                      std::uint8_t* chw,
                      decoded_crop& info) noexcept {
  try {
    const tjhandle tj = thread_decompressor::get();
    jpeg_header header;
    if (tj == nullptr || !read_jpeg_header(tj, bytes, header)) {
      return false;
    }
    const int width = header.width;
    const int height = header.height;
    info.width = width;
    info.height = height;
    // Every view's box first (view v is the v-th draw), then ONE decode serves them all: the
    // smallest DCT scale that still gives every box at least its output size both ways.
    std::vector<crop_box> boxes;
    int denom = 8;
    for (const view_crop& crop : crops) {
      boxes.push_back(random_resized_crop_box(height, width, crop.scale_min, crop.scale_max,
                                              ratio_min, ratio_max, rng));
      denom = std::min(denom, dct_scale_denominator(boxes.back().width, boxes.back().height,
                                                    crop.size, crop.size));
    }
    thread_decode_buffer buffer;
    std::vector<std::uint8_t>& decoded = buffer.get();
    int scaled_w = 0;
    int scaled_h = 0;
    if (!decode_scaled_rgb(tj, bytes, header, denom, decoded, scaled_w, scaled_h)) {
      return false;
    }
    info.scale_denom = denom;
    const double fx = static_cast<double>(scaled_w) / static_cast<double>(width);
    const double fy = static_cast<double>(scaled_h) / static_cast<double>(height);
    std::uint8_t* view_chw = chw;
    for (std::size_t v = 0; v < boxes.size(); ++v) {
      const crop_box& box = boxes[v];
      const std::int64_t out = crops[v].size;
      resample_box(
          decoded.data(), scaled_w, scaled_h, static_cast<double>(box.left) * fx,
          static_cast<double>(box.top) * fy, static_cast<double>(box.left + box.width) * fx,
          static_cast<double>(box.top + box.height) * fy, out, f, box_edges::box, view_chw);
      view_chw += 3 * out * out;
    }
    return true;
  } catch (...) {  // std::bad_alloc for a huge image: treat as undecodable, never crash
    return false;
  }
}

bool decode_crop_into(const std::vector<unsigned char>& bytes,
                      const std::vector<view_crop>& crops,
                      double ratio_min,
                      double ratio_max,
                      std::mt19937_64& rng,
                      crop_filter f,
                      std::uint8_t* chw,
                      decoded_crop& info) noexcept {
  const bool ok = decode_crop_once(bytes, crops, ratio_min, ratio_max, rng, f, chw, info);
  if (!ok) {
    thread_decompressor::reset();
  }
  return ok;
}

}  // namespace detail

std::optional<decoded_crop> decode_random_resized_crop(const std::vector<unsigned char>& jpeg_bytes,
                                                       std::int64_t out_size,
                                                       double scale_min,
                                                       double scale_max,
                                                       double ratio_min,
                                                       double ratio_max,
                                                       std::mt19937_64& rng,
                                                       crop_filter filter) {
  detail::expect_crop_params(out_size, scale_min, scale_max, ratio_min, ratio_max);
  decoded_crop crop;
  crop.size = out_size;
  try {
    crop.pixels.resize(static_cast<std::size_t>(3 * out_size * out_size));
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
  if (!detail::decode_crop_into(jpeg_bytes, {view_crop{out_size, scale_min, scale_max}}, ratio_min,
                                ratio_max, rng, filter, crop.pixels.data(), crop)) {
    return std::nullopt;
  }
  return crop;
}

}  // namespace spectral::trainer
