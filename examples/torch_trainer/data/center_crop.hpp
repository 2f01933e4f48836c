// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The deterministic evaluation crop of docs/trainer.md#linear-evaluation: torchvision's
/// `Resize(256)` (shorter side to 256, the longer one truncated) then `CenterCrop(224)`, decoded
/// with TurboJPEG and resampled PIL-style in one pass. Resampling the centre box of the source
/// image at the resize's scale gives the same pixels as resizing the whole image and cropping it,
/// without the work outside the crop. Shares the decoder helpers of jpeg_decode.hpp (per-thread
/// handle, libjpeg warning filter, CMYK conversion, the separable resampler), including its one
/// deliberate difference from PIL: an image at least twice the resize is decoded DCT-scaled (1/2,
/// 1/4, 1/8) first.

#include "data/jpeg_decode.hpp"

#include <spectral/core/error.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <turbojpeg.h>

namespace spectral::trainer {

/// `Resize(resize_size)` + `CenterCrop(crop_size)`; torchvision's defaults are bilinear, 256, 224.
struct center_crop_options {
  std::int64_t resize_size = 256;
  std::int64_t crop_size = 224;
  crop_filter filter = crop_filter::bilinear;
};

/// The reference's 256/224 scaled to another crop size: resize = round(256 · size / 224).
[[nodiscard]] center_crop_options center_crop_for(std::int64_t image_size);

/**
 * @brief Decodes the evaluation crop of a JPEG image: crop_size × crop_size, channel-planar RGB.
 * @return std::nullopt for bytes that are not a decodable JPEG (never throws for bad data)
 * @throws invalid_input for sizes outside 1-65535 or resize_size < crop_size
 */
[[nodiscard]] std::optional<decoded_crop> decode_center_crop(
    const std::vector<unsigned char>& jpeg_bytes, const center_crop_options& options);

/// Evaluation crops of a range of an image_folder's files.
struct center_crop_batch {
  torch::Tensor images;   ///< uint8, N×3×S×S, the files that decoded, in folder order
  torch::Tensor labels;   ///< int64, N
  torch::Tensor indices;  ///< int64, N: positions in image_folder::files
  std::vector<std::filesystem::path> skipped;  ///< files that did not read or decode
};

/**
 * @brief Decodes files [first, last) of `folder` on `threads` threads. The result does not
 *        depend on the number of threads.
 * @throws invalid_input for an empty or out-of-range range, bad options or threads < 1
 */
[[nodiscard]] center_crop_batch decode_center_crops(const image_folder& folder,
                                                    std::int64_t first,
                                                    std::int64_t last,
                                                    const center_crop_options& options,
                                                    int threads);

// --- implementation

namespace detail {

inline void expect_center_crop_options(const center_crop_options& o) {
  SPECTRAL_EXPECTS(o.crop_size >= 1 && o.crop_size <= 65535, "crop size: expected 1-65535, got ",
                   o.crop_size);
  SPECTRAL_EXPECTS(o.resize_size >= o.crop_size && o.resize_size <= 65535,
                   "resize size: expected crop size (", o.crop_size, ") to 65535, got ",
                   o.resize_size);
}

/// Decodes into `chw` (3 × crop × crop); false for undecodable data.
[[nodiscard]] inline bool decode_center_crop_once(const std::vector<unsigned char>& bytes,
                                                  const center_crop_options& o,
                                                  std::uint8_t* chw,
                                                  decoded_crop& info) noexcept {
  try {
    const tjhandle tj = thread_decompressor::get();
    jpeg_header header;
    if (tj == nullptr || !read_jpeg_header(tj, bytes, header)) {
      return false;
    }
    info.width = header.width;
    info.height = header.height;
    // torchvision Resize(int): shorter side → resize_size, longer = int(resize · long / short).
    const std::int64_t w = header.width;
    const std::int64_t h = header.height;
    const std::int64_t resized_w = w <= h ? o.resize_size : o.resize_size * w / h;
    const std::int64_t resized_h = w <= h ? o.resize_size * h / w : o.resize_size;
    // CenterCrop: int(round((size − crop) / 2)), Python's round being half-to-even.
    const auto offset = [&](std::int64_t resized) {
      return static_cast<std::int64_t>(
          std::nearbyint(static_cast<double>(resized - o.crop_size) / 2.0));
    };
    const std::int64_t top = offset(resized_h);
    const std::int64_t left = offset(resized_w);

    // The smallest DCT-scaled decode that is still at least as large as the resized image.
    const int denom = dct_scale_denominator(w, h, resized_w, resized_h);
    thread_decode_buffer buffer;
    std::vector<std::uint8_t>& decoded = buffer.get();
    int scaled_w = 0;
    int scaled_h = 0;
    if (!decode_scaled_rgb(tj, bytes, header, denom, decoded, scaled_w, scaled_h)) {
      return false;
    }
    info.scale_denom = denom;
    // Resized pixel k covers source [k·w/resized_w, (k+1)·w/resized_w): map the crop's box.
    const double fx = static_cast<double>(scaled_w) / static_cast<double>(resized_w);
    const double fy = static_cast<double>(scaled_h) / static_cast<double>(resized_h);
    resample_box(decoded.data(), scaled_w, scaled_h, static_cast<double>(left) * fx,
                 static_cast<double>(top) * fy, static_cast<double>(left + o.crop_size) * fx,
                 static_cast<double>(top + o.crop_size) * fy, o.crop_size, o.filter,
                 box_edges::image, chw);
    return true;
  } catch (...) {  // std::bad_alloc for a huge image: undecodable, never a crash
    return false;
  }
}

/// decode_center_crop_once with a fresh decompressor for the next call after a failure.
[[nodiscard]] inline bool decode_center_crop_into(const std::vector<unsigned char>& bytes,
                                                  const center_crop_options& o,
                                                  std::uint8_t* chw,
                                                  decoded_crop& info) noexcept {
  const bool ok = decode_center_crop_once(bytes, o, chw, info);
  if (!ok) {
    thread_decompressor::reset();
  }
  return ok;
}

}  // namespace detail

inline center_crop_options center_crop_for(std::int64_t image_size) {
  SPECTRAL_EXPECTS(image_size >= 1 && image_size <= 65535, "image size: expected 1-65535, got ",
                   image_size);
  return {std::llround(256.0 * static_cast<double>(image_size) / 224.0), image_size,
          crop_filter::bilinear};
}

inline std::optional<decoded_crop> decode_center_crop(const std::vector<unsigned char>& jpeg_bytes,
                                                      const center_crop_options& options) {
  detail::expect_center_crop_options(options);
  decoded_crop crop;
  crop.size = options.crop_size;
  crop.pixels.resize(static_cast<std::size_t>(3 * options.crop_size * options.crop_size));
  if (!detail::decode_center_crop_into(jpeg_bytes, options, crop.pixels.data(), crop)) {
    return std::nullopt;
  }
  return crop;
}

inline center_crop_batch decode_center_crops(const image_folder& folder,
                                             std::int64_t first,
                                             std::int64_t last,
                                             const center_crop_options& options,
                                             int threads) {
  detail::expect_center_crop_options(options);
  const auto files = static_cast<std::int64_t>(folder.files.size());
  SPECTRAL_EXPECTS(0 <= first && first < last && last <= files, "files [", first, ", ", last,
                   "): expected a non-empty range within the ", files, " files of ",
                   folder.root.string());
  SPECTRAL_EXPECTS(threads >= 1 && threads <= 256, "decoding threads: expected 1-256, got ",
                   threads);
  const std::int64_t n = last - first;
  const std::int64_t s = options.crop_size;
  const std::int64_t sample_bytes = 3 * s * s;
  torch::Tensor images = torch::empty({n, 3, s, s}, torch::kUInt8);
  std::vector<char> ok(static_cast<std::size_t>(n), 0);
  std::uint8_t* base = images.data_ptr<std::uint8_t>();
  const auto work = [&](std::int64_t worker, std::int64_t workers) {
    for (std::int64_t i = worker; i < n; i += workers) {
      const auto bytes = detail::try_read_file(folder.files[static_cast<std::size_t>(first + i)]);
      decoded_crop info;
      ok[static_cast<std::size_t>(i)] = static_cast<char>(
          bytes && detail::decode_center_crop_into(*bytes, options, base + i * sample_bytes, info));
    }
  };
  const std::int64_t workers = std::min<std::int64_t>(threads, n);
  std::vector<std::thread> pool;
  for (std::int64_t t = 1; t < workers; ++t) {
    pool.emplace_back(work, t, workers);
  }
  work(0, workers);
  for (std::thread& thread : pool) {
    thread.join();
  }
  center_crop_batch batch;
  std::vector<std::int64_t> kept;
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto index = static_cast<std::size_t>(first + i);
    if (ok[static_cast<std::size_t>(i)] != 0) {
      kept.push_back(i);
      labels.push_back(folder.labels[index]);
    } else {
      batch.skipped.push_back(folder.files[index]);
    }
  }
  const auto rows = torch::tensor(kept, torch::kInt64);
  batch.images =
      static_cast<std::int64_t>(kept.size()) == n ? images : images.index_select(0, rows);
  batch.labels = torch::tensor(labels, torch::kInt64);
  batch.indices = rows + first;
  return batch;
}

}  // namespace spectral::trainer
