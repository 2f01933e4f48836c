// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// JPEG decoding with libjpeg-turbo's TurboJPEG API (link with -lturbojpeg). A sample is decoded
/// straight into its RandomResizedCrops (torchvision's box sampling, data/crop_sampling.hpp),
/// using the decoder's DCT-domain scaling when every crop is at least twice its output size,
/// then resampled PIL-style (antialiased, bicubic by default as
/// docs/trainer.md#imagenet-pretraining; data/resample.hpp) from the box's own pixels, as
/// torchvision crops and then resizes. One decode serves every view of an image. Files that do not
/// decode (corrupt, truncated headers, a PNG named .JPEG) make the decoder return false, never
/// throw.
///
/// Deliberate differences from PIL/torchvision: a DCT-scaled decode (1/2, 1/4, 1/8) replaces the
/// first part of the downscale (its box edges fall between scaled pixels, so the edge pixels
/// there come from the scaled pixels the box touches); the resampler keeps float between its two
/// passes where PIL rounds to uint8; CMYK/YCCK JPEGs are converted as Pillow does (Adobe-marked
/// files are taken as inverted CMYK) without colour management.

#include "data/crop_sampling.hpp"
#include "data/image_folder.hpp"
#include "data/resample.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include <turbojpeg.h>

namespace spectral::trainer {

/// One decoded RandomResizedCrop.
struct decoded_crop {
  std::vector<std::uint8_t> pixels;  ///< 3 × size × size, channel-planar RGB (CHW)
  std::int64_t size = 0;
  int width = 0, height = 0;  ///< of the JPEG image
  int scale_denom = 1;        ///< DCT scaling used: the image was decoded at 1/scale_denom
};

/**
 * @brief Decodes a RandomResizedCrop of a JPEG image.
 *
 * The box is drawn as torchvision's RandomResizedCrop.get_params (10 attempts at an area fraction
 * in [scale_min, scale_max] and a log-uniform aspect ratio in [ratio_min, ratio_max], then a
 * centre crop). The image is decoded at the smallest DCT scale 1/2, 1/4 or 1/8 at which the
 * crop still covers out_size pixels both ways, and the box is resampled to out_size × out_size.
 * @return std::nullopt for bytes that are not a decodable JPEG (never throws for bad data; a
 *         recoverable libjpeg warning such as extraneous bytes still yields an image)
 * @throws invalid_input only for invalid parameters (out_size < 1, scale or ratio ranges not
 *         0 < min ≤ max, scale_max > 1 is allowed as in torchvision)
 */
[[nodiscard]] std::optional<decoded_crop> decode_random_resized_crop(
    const std::vector<unsigned char>& jpeg_bytes,
    std::int64_t out_size,
    double scale_min,
    double scale_max,
    double ratio_min,
    double ratio_max,
    std::mt19937_64& rng,
    crop_filter filter = crop_filter::bicubic);

namespace detail {

/// One TurboJPEG decompressor per thread (a handle must not be shared between threads).
class thread_decompressor {
 public:
  [[nodiscard]] static tjhandle get() { return instance().handle_; }
  /// libjpeg-turbo 2.1 can leave a handle unusable after some errors (e.g. "Unsupported marker
  /// type" in the header): every later call then fails. A failed decode therefore replaces it.
  static void reset() {
    thread_decompressor& self = instance();
    if (self.handle_ != nullptr) {
      tjDestroy(self.handle_);
    }
    self.handle_ = tjInitDecompress();
  }
  thread_decompressor(const thread_decompressor&) = delete;
  thread_decompressor& operator=(const thread_decompressor&) = delete;
  ~thread_decompressor() {
    if (handle_ != nullptr) {
      tjDestroy(handle_);
    }
  }

 private:
  thread_decompressor() : handle_(tjInitDecompress()) {}
  static thread_decompressor& instance() {
    thread_local thread_decompressor self;
    return self;
  }
  tjhandle handle_;
};

/**
 * Whether TurboJPEG's last message is one of libjpeg's warnings (jerror.h JWRN_*): the image is
 * then complete (extraneous bytes, as a few ImageNet files have; a truncated file is padded).
 * tjGetErrorCode() alone is not enough: it still says "warning" when a fatal error followed one.
 */
[[nodiscard]] bool is_libjpeg_warning(const char* message);

/// Pillow reads Adobe-marked CMYK JPEGs as inverted ("CMYK;I"): look for the APP14 marker.
[[nodiscard]] bool has_adobe_marker(const std::vector<unsigned char>& bytes);

/// Pillow's CMYK → RGB: R = (255 − C)(255 − K)/255 on non-inverted values.
void cmyk_to_rgb(const std::vector<std::uint8_t>& cmyk,
                 bool inverted,
                 std::vector<std::uint8_t>& rgb);

/// A JPEG's size and colour space as TurboJPEG reads them from its header.
struct jpeg_header {
  int width = 0;
  int height = 0;
  int colorspace = 0;
};

/// Whether an image of this size may be decoded (max_image_side, max_image_pixels).
[[nodiscard]] bool image_size_within_limits(int width, int height);

/// false for an empty buffer, data whose header TurboJPEG cannot read, or an image whose header
/// announces a size over the limits: checked here, before any decoding buffer exists.
[[nodiscard]] bool read_jpeg_header(tjhandle tj,
                                    const std::vector<unsigned char>& bytes,
                                    jpeg_header& header);

/// The largest DCT-domain downscale 1/d (d ∈ {1, 2, 4, 8}, as far as TurboJPEG offers it) that
/// still leaves at least need_w × need_h pixels for a span_w × span_h region of the source.
[[nodiscard]] int dct_scale_denominator(std::int64_t span_w,
                                        std::int64_t span_h,
                                        std::int64_t need_w,
                                        std::int64_t need_h);

/// The whole image decoded at scale 1/denom into packed RGB (CMYK/YCCK converted); false for
/// data that does not decode or a header too large to be a real image (no multi-GiB buffers).
[[nodiscard]] bool decode_scaled_rgb(tjhandle tj,
                                     const std::vector<unsigned char>& bytes,
                                     const jpeg_header& header,
                                     int denom,
                                     std::vector<std::uint8_t>& rgb,
                                     int& scaled_w,
                                     int& scaled_h);

/// A worker thread's decode buffer, reused across images so that a 500×375 decode does not map
/// and fault in fresh pages each time; returned to the system after an unusually large image.
class thread_decode_buffer {
 public:
  thread_decode_buffer() : buffer_(storage()) {}
  ~thread_decode_buffer() {
    if (buffer_.capacity() > keep_bytes) {
      std::vector<std::uint8_t>().swap(buffer_);
    }
  }
  thread_decode_buffer(const thread_decode_buffer&) = delete;
  thread_decode_buffer& operator=(const thread_decode_buffer&) = delete;
  [[nodiscard]] std::vector<std::uint8_t>& get() { return buffer_; }

 private:
  static constexpr std::size_t keep_bytes = std::size_t{32} << 20;
  static std::vector<std::uint8_t>& storage() {
    thread_local std::vector<std::uint8_t> buffer;
    return buffer;
  }
  std::vector<std::uint8_t>& buffer_;
};

/**
 * The decoder proper, writing view v into `chw` at offset Σ_{u<v} 3·size_u² (3 × size_v ×
 * size_v each). Returns false for undecodable data; fills `info` with the image size and the
 * DCT scale used.
 */
[[nodiscard]] bool decode_crop_once(const std::vector<unsigned char>& bytes,
                                    const std::vector<view_crop>& crops,
                                    double ratio_min,
                                    double ratio_max,
                                    std::mt19937_64& rng,
                                    crop_filter f,
                                    std::uint8_t* chw,
                                    decoded_crop& info) noexcept;

/// decode_crop_once with a fresh decompressor for the next call after any failure.
[[nodiscard]] bool decode_crop_into(const std::vector<unsigned char>& bytes,
                                    const std::vector<view_crop>& crops,
                                    double ratio_min,
                                    double ratio_max,
                                    std::mt19937_64& rng,
                                    crop_filter f,
                                    std::uint8_t* chw,
                                    decoded_crop& info) noexcept;

}  // namespace detail
}  // namespace spectral::trainer
