// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// ImageNet-style ImageFolder input: `root/<class>/<file>.JPEG`, decoded with libjpeg-turbo's
/// TurboJPEG API (link with -lturbojpeg). Each sample is decoded straight into a
/// RandomResizedCrop (torchvision's box sampling), using the decoder's DCT-domain scaling when the
/// crop is at least twice the output size, then resampled PIL-style (antialiased, bicubic by
/// default as spec §6.2; data/resample.hpp) from the box's own pixels, as torchvision crops and
/// then resizes, to out_size × out_size. The remaining augmentations run batched on the
/// device (augment.hpp). A worker pool prefetches uint8 batches into a bounded queue.
///
/// Every random number of a sample comes from a generator seeded by (seed, epoch, file index),
/// and batches are assembled in permutation order, so a batch does not depend on the number of
/// threads or their timing. Files that do not decode (corrupt, truncated headers, a PNG named
/// .JPEG) are skipped and counted; the batch is filled with the next files of the permutation.
///
/// Input limits, so that a small hostile file cannot cost gigabytes: a file larger than
/// max_image_file_bytes (64 MiB) is not read, and an image whose header announces a width or
/// height above max_image_side (16384) or more than max_image_pixels (2^27) pixels is not
/// decoded; both are skipped and counted like a corrupt file. The limits sit far above the
/// photographs of ImageNet-like data sets and far below what would exhaust a machine's memory.
///
/// Deliberate differences from PIL/torchvision: a DCT-scaled decode (1/2, 1/4, 1/8) replaces the
/// first part of the downscale (its box edges fall between scaled pixels, so the edge pixels
/// there come from the scaled pixels the box touches); the resampler keeps float between its two
/// passes where PIL rounds to uint8; CMYK/YCCK JPEGs are converted as Pillow does (Adobe-marked
/// files are taken as inverted CMYK) without colour management.

#include "data/resample.hpp"

#include <spectral/core/error.hpp>

#include <torch/torch.h>
#include <turbojpeg.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// The largest image file read (larger ones are skipped as undecodable).
inline constexpr std::uintmax_t max_image_file_bytes = std::uintmax_t{64} << 20;
/// The largest width or height decoded (larger images are skipped as undecodable).
inline constexpr int max_image_side = 16384;
/// The most pixels decoded (larger images are skipped): a 3-channel decode of this many pixels
/// takes 384 MiB, which a decoding thread may hold.
inline constexpr std::int64_t max_image_pixels = std::int64_t{1} << 27;

/// The files of an ImageFolder tree with torchvision's class ids.
struct image_folder {
  std::vector<std::filesystem::path> files;
  std::vector<std::int64_t> labels;  ///< class id of files[i]
  std::vector<std::string> classes;  ///< class-folder names; the id is the position
  std::filesystem::path root;
};

/**
 * @brief Lists the files `root/<class>/<name>` of every class folder (not recursive).
 *
 * Class ids follow the sorted class-folder names (torchvision's ImageFolder order); files are
 * sorted by name within a class. Only regular files (symlinks followed) ending in .jpg or .jpeg,
 * in any letter case, are taken; other files and nested folders are ignored. The scan goes two
 * levels deep and no further, so a link that loops back up cannot make it run forever. An entry
 * that cannot be examined (a link loop, a dangling link, a vanished or unreadable entry) is
 * skipped, and a class folder that cannot be listed keeps its class id but gives no files.
 * @throws invalid_input naming the path for a missing root, a root that is not a directory or
 *         cannot be listed, a root without class folders, or class folders without any JPEG file
 */
[[nodiscard]] image_folder scan_image_folder(const std::filesystem::path& root);

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

/// One view's crop: its output size and RandomResizedCrop area range (multi-crop, spec §5.4).
struct view_crop {
  std::int64_t size = 224;
  double scale_min = 0.08, scale_max = 1.0;
};

/// Loader settings; the defaults are spec §6.2's crop at batch 256.
struct image_folder_loader_options {
  std::int64_t batch_size = 256;
  std::int64_t image_size = 224;
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
  crop_filter filter = crop_filter::bicubic;
  int threads = 4;                ///< decoding threads
  std::int64_t prefetch = 4;      ///< finished batches held in the queue
  std::uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;          ///< else the last, smaller batch is returned too
  bool pin_memory = false;        ///< page-locked batches, when CUDA is available
  /// Crops drawn from each image (the views of self-supervised training): the file is read
  /// once and each view is an independent RandomResizedCrop of it.
  int views = 1;
  /// Multi-crop: one entry per view with its own size and area range (then `views`,
  /// `image_size` and the scale range above are not used). Empty: `views` crops of image_size.
  std::vector<view_crop> crops;
  /// Data-parallel sharding: of every global batch of batch_size·shard_count positions of the
  /// epoch's permutation (the same on every rank for a given seed), this loader takes the
  /// shard_rank-th contiguous block of batch_size. 1 rank: the whole permutation.
  int shard_rank = 0;
  int shard_count = 1;
};

/// One batch, on the CPU.
struct image_folder_batch {
  torch::Tensor images;   ///< uint8, N×3×S×S: views[0]
  std::vector<torch::Tensor> views;  ///< one uint8 N×3×S_v×S_v tensor per view
  torch::Tensor labels;   ///< int64, N
  torch::Tensor indices;  ///< int64, N: positions in image_folder::files
};

/**
 * @brief Multi-threaded, prefetching RandomResizedCrop loader over an image_folder.
 *
 * Usage: `start_epoch(e)`, then `next()` until it returns std::nullopt. Threads live for one
 * epoch; start_epoch() and the destructor stop and join them (work in flight is dropped).
 */
class image_folder_loader {
 public:
  /// @throws invalid_input for an empty folder or invalid options
  image_folder_loader(image_folder folder, image_folder_loader_options options);
  ~image_folder_loader();
  image_folder_loader(const image_folder_loader&) = delete;
  image_folder_loader& operator=(const image_folder_loader&) = delete;

  /// Stops the current epoch, if any, and starts decoding epoch `epoch` (its own permutation).
  void start_epoch(std::int64_t epoch);

  /**
   * @brief The next batch of the epoch, waiting for it if needed; std::nullopt at the epoch's end.
   * @throws invalid_input when more than half of the files of the epoch did not decode, or when
   *         start_epoch() was not called; rethrows any other error of the worker threads
   */
  [[nodiscard]] std::optional<image_folder_batch> next();

  /// Files that failed to decode since construction (a bad file counts once per epoch).
  [[nodiscard]] std::int64_t skipped() const { return skipped_total_.load(); }
  /// Batches this loader (this rank's shard) yields in an epoch when every file decodes; files
  /// that do not decode can only make it fewer.
  [[nodiscard]] std::int64_t batches_per_epoch() const;
  [[nodiscard]] const image_folder& folder() const { return folder_; }
  [[nodiscard]] const image_folder_loader_options& options() const { return options_; }

 private:
  struct slot {
    enum class state { empty, ok, failed } status = state::empty;
    std::vector<std::uint8_t> pixels;
  };

  void stop_epoch();
  void worker_loop();
  void assembler_loop();
  [[nodiscard]] torch::Tensor new_images(std::int64_t n, std::int64_t size) const;

  image_folder folder_;
  image_folder_loader_options options_;
  std::vector<view_crop> crops_;  // every view's crop: options.crops, or `views` alike
  std::atomic<std::int64_t> skipped_total_{0};

  // One epoch's state, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable work_cv_;      // workers: a position became claimable, or stop
  std::condition_variable ready_cv_;     // assembler: a slot was filled, or stop
  std::condition_variable queue_cv_;     // consumer and assembler: queue changed, or stop
  std::vector<std::thread> threads_;
  std::vector<std::int64_t> order_;      // file index at each position of the epoch
  std::vector<slot> slots_;              // ring of decoded samples, position % size
  std::deque<image_folder_batch> queue_;
  std::exception_ptr error_;
  std::int64_t epoch_ = -1;
  std::int64_t next_position_ = 0;       // next position a worker claims
  std::int64_t assembled_ = 0;           // positions the assembler has consumed
  std::int64_t skipped_epoch_ = 0;
  bool stop_ = false;
  bool finished_ = false;                // the assembler pushed its last batch
};

// --- implementation -----------------------------------------------------------------------------

namespace detail {

[[nodiscard]] inline bool has_jpeg_extension(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return ext == ".jpg" || ext == ".jpeg";
}

/// splitmix64 finaliser: decorrelates nearby seeds.
[[nodiscard]] inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Seed of the generator of file `index` in `epoch`: the same whatever thread decodes it.
[[nodiscard]] inline std::uint64_t sample_seed(std::uint64_t seed,
                                               std::int64_t epoch,
                                               std::int64_t index) {
  return mix64(mix64(mix64(seed) ^ static_cast<std::uint64_t>(epoch)) ^
               static_cast<std::uint64_t>(index));
}

/// Seed of the permutation of `epoch`; distinct from every sample seed's stream.
[[nodiscard]] inline std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch) {
  return mix64(mix64(seed ^ 0x5851F42D4C957F2DULL) + static_cast<std::uint64_t>(epoch));
}

// Own distributions: std::uniform_*_distribution differ between standard libraries, and the
// crops must be reproducible from the seed alone.
[[nodiscard]] inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

[[nodiscard]] inline double uniform_between(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * uniform01(rng);
}

/// Uniform integer in [0, n), n ≥ 1.
[[nodiscard]] inline std::int64_t uniform_below(std::mt19937_64& rng, std::int64_t n) {
  const auto k = static_cast<std::int64_t>(uniform01(rng) * static_cast<double>(n));
  return std::min(k, n - 1);
}

/// Fisher–Yates permutation of 0..n-1.
[[nodiscard]] inline std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> p(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    p[static_cast<std::size_t>(i)] = i;
  }
  std::mt19937_64 rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    const std::int64_t j = uniform_below(rng, i + 1);
    std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
  }
  return p;
}

/// A crop box in pixels of the full image.
struct crop_box {
  std::int64_t top = 0, left = 0, height = 0, width = 0;
};

/// torchvision's RandomResizedCrop.get_params (Python's round() is half-to-even, as nearbyint).
[[nodiscard]] inline crop_box random_resized_crop_box(std::int64_t height,
                                                      std::int64_t width,
                                                      double scale_min,
                                                      double scale_max,
                                                      double ratio_min,
                                                      double ratio_max,
                                                      std::mt19937_64& rng) {
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(ratio_min);
  const double log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform_between(rng, scale_min, scale_max);
    const double aspect = std::exp(uniform_between(rng, log_lo, log_hi));
    const auto w = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target_area * aspect)));
    const auto h = static_cast<std::int64_t>(std::nearbyint(std::sqrt(target_area / aspect)));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const std::int64_t top = uniform_below(rng, height - h + 1);
      const std::int64_t left = uniform_below(rng, width - w + 1);
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width;
  std::int64_t h = height;
  if (in_ratio < ratio_min) {
    h = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(w) / ratio_min));
  } else if (in_ratio > ratio_max) {
    w = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(h) * ratio_max));
  }
  h = std::clamp<std::int64_t>(h, 1, height);
  w = std::clamp<std::int64_t>(w, 1, width);
  return {(height - h) / 2, (width - w) / 2, h, w};
}

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
[[nodiscard]] inline bool is_libjpeg_warning(const char* message) {
  if (message == nullptr) {
    return false;
  }
  static constexpr const char* prefixes[] = {
      "Corrupt JPEG data:",          "Premature end of JPEG file",
      "Inconsistent progression",    "Invalid SOS parameters for sequential JPEG",
      "Warning: unknown JFIF",       "Unknown Adobe color transform",
      "Application transferred too many scanlines"};
  const std::string text(message);
  return std::any_of(std::begin(prefixes), std::end(prefixes),
                     [&](const char* prefix) { return text.rfind(prefix, 0) == 0; });
}

/// Pillow reads Adobe-marked CMYK JPEGs as inverted ("CMYK;I"): look for the APP14 marker.
[[nodiscard]] inline bool has_adobe_marker(const std::vector<unsigned char>& bytes) {
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

/// Pillow's CMYK → RGB: R = (255 − C)(255 − K)/255 on non-inverted values.
inline void cmyk_to_rgb(const std::vector<std::uint8_t>& cmyk,
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

/// A JPEG's size and colour space as TurboJPEG reads them from its header.
struct jpeg_header {
  int width = 0;
  int height = 0;
  int colorspace = 0;
};

/// Whether an image of this size may be decoded (max_image_side, max_image_pixels).
[[nodiscard]] inline bool image_size_within_limits(int width, int height) {
  return width >= 1 && height >= 1 && width <= max_image_side && height <= max_image_side &&
         std::int64_t{width} * std::int64_t{height} <= max_image_pixels;
}

/// false for an empty buffer, data whose header TurboJPEG cannot read, or an image whose header
/// announces a size over the limits: checked here, before any decoding buffer exists.
[[nodiscard]] inline bool read_jpeg_header(tjhandle tj, const std::vector<unsigned char>& bytes,
                                           jpeg_header& header) {
  int subsamp = 0;
  return !bytes.empty() &&
         tjDecompressHeader3(tj, bytes.data(), static_cast<unsigned long>(bytes.size()),
                             &header.width, &header.height, &subsamp, &header.colorspace) == 0 &&
         image_size_within_limits(header.width, header.height);
}

/// The largest DCT-domain downscale 1/d (d ∈ {1, 2, 4, 8}, as far as TurboJPEG offers it) that
/// still leaves at least need_w × need_h pixels for a span_w × span_h region of the source.
[[nodiscard]] inline int dct_scale_denominator(std::int64_t span_w, std::int64_t span_h,
                                               std::int64_t need_w, std::int64_t need_h) {
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

/// The whole image decoded at scale 1/denom into packed RGB (CMYK/YCCK converted); false for
/// data that does not decode or a header too large to be a real image (no multi-GiB buffers).
[[nodiscard]] inline bool decode_scaled_rgb(tjhandle tj, const std::vector<unsigned char>& bytes,
                                            const jpeg_header& header, int denom,
                                            std::vector<std::uint8_t>& rgb, int& scaled_w,
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
[[nodiscard]] inline bool decode_crop_once(const std::vector<unsigned char>& bytes,
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
      resample_box(decoded.data(), scaled_w, scaled_h, static_cast<double>(box.left) * fx,
                   static_cast<double>(box.top) * fy,
                   static_cast<double>(box.left + box.width) * fx,
                   static_cast<double>(box.top + box.height) * fy, out, f, box_edges::box,
                   view_chw);
      view_chw += 3 * out * out;
    }
    return true;
  } catch (...) {  // std::bad_alloc for a huge image: treat as undecodable, never crash
    return false;
  }
}

/// decode_crop_once with a fresh decompressor for the next call after any failure.
[[nodiscard]] inline bool decode_crop_into(const std::vector<unsigned char>& bytes,
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

inline void expect_crop_params(std::int64_t out_size,
                               double scale_min,
                               double scale_max,
                               double ratio_min,
                               double ratio_max) {
  SPECTRAL_EXPECTS(out_size >= 1 && out_size <= 65535, "image size: expected 1-65535, got ",
                   out_size);
  SPECTRAL_EXPECTS(std::isfinite(scale_min) && std::isfinite(scale_max) && scale_min > 0.0 &&
                       scale_min <= scale_max,
                   "crop scale: expected 0 < min <= max, got (", scale_min, ", ", scale_max, ")");
  SPECTRAL_EXPECTS(std::isfinite(ratio_min) && std::isfinite(ratio_max) && ratio_min > 0.0 &&
                       ratio_min <= ratio_max,
                   "crop ratio: expected 0 < min <= max, got (", ratio_min, ", ", ratio_max, ")");
}

/// Whole file; std::nullopt when it cannot be read or is larger than `max_bytes`, checked
/// before anything is allocated (counted as undecodable by the loader).
[[nodiscard]] inline std::optional<std::vector<unsigned char>> try_read_file(
    const std::filesystem::path& path, std::uintmax_t max_bytes = max_image_file_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<std::uintmax_t>(size) > max_bytes) {
    return std::nullopt;
  }
  in.seekg(0, std::ios::beg);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) {
    return std::nullopt;
  }
  return bytes;
}

/// The entries of `folder` that `keep` accepts. An entry that cannot be examined (a link loop, a
/// dangling link, an entry removed meanwhile) is passed over, and an error while listing ends the
/// listing: std::filesystem's throwing calls would abort the whole scan for one bad entry.
template <class Keep>
[[nodiscard]] std::vector<std::filesystem::path> list_folder(const std::filesystem::path& folder,
                                                             Keep keep,
                                                             std::error_code& ec) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  fs::directory_iterator it(folder, ec);
  for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (keep(*it, entry_ec) && !entry_ec) {
      out.push_back(it->path());
    }
  }
  return out;
}

}  // namespace detail

inline image_folder scan_image_folder(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  SPECTRAL_EXPECTS(fs::exists(root, ec), "image folder ", root.string(), " does not exist");
  SPECTRAL_EXPECTS(fs::is_directory(root, ec), "image folder ", root.string(),
                   " is not a directory");
  image_folder out;
  out.root = root;
  const std::vector<fs::path> class_folders = detail::list_folder(
      root,
      [](const fs::directory_entry& entry, std::error_code& entry_ec) {
        return entry.is_directory(entry_ec);
      },
      ec);
  SPECTRAL_EXPECTS(!ec, "image folder ", root.string(), ": cannot list it (", ec.message(), ")");
  for (const fs::path& folder : class_folders) {
    out.classes.push_back(folder.filename().string());
  }
  SPECTRAL_EXPECTS(!out.classes.empty(), "image folder ", root.string(),
                   " has no class folders (expected root/<class>/<image>.JPEG)");
  std::sort(out.classes.begin(), out.classes.end());
  for (std::size_t c = 0; c < out.classes.size(); ++c) {
    // An unlistable class folder keeps its id (the others' ids do not shift) and gives no files.
    std::error_code list_ec;
    std::vector<fs::path> files = detail::list_folder(
        root / out.classes[c],
        [](const fs::directory_entry& entry, std::error_code& entry_ec) {
          return detail::has_jpeg_extension(entry.path()) && entry.is_regular_file(entry_ec);
        },
        list_ec);
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
      return a.filename().string() < b.filename().string();
    });
    for (fs::path& file : files) {
      out.files.push_back(std::move(file));
      out.labels.push_back(static_cast<std::int64_t>(c));
    }
  }
  SPECTRAL_EXPECTS(!out.files.empty(), "image folder ", root.string(), ": none of its ",
                   out.classes.size(), " class folders holds a .jpg/.jpeg file");
  return out;
}

inline std::optional<decoded_crop> decode_random_resized_crop(
    const std::vector<unsigned char>& jpeg_bytes,
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
  if (!detail::decode_crop_into(jpeg_bytes, {view_crop{out_size, scale_min, scale_max}},
                                ratio_min, ratio_max, rng, filter, crop.pixels.data(), crop)) {
    return std::nullopt;
  }
  return crop;
}

inline image_folder_loader::image_folder_loader(image_folder folder,
                                                image_folder_loader_options options)
    : folder_(std::move(folder)), options_(std::move(options)) {
  SPECTRAL_EXPECTS(!folder_.files.empty(), "image folder ", folder_.root.string(),
                   ": no files to load");
  SPECTRAL_EXPECTS(folder_.labels.size() == folder_.files.size(), "image folder ",
                   folder_.root.string(), ": ", folder_.labels.size(), " labels for ",
                   folder_.files.size(), " files");
  SPECTRAL_EXPECTS(options_.batch_size >= 1, "batch size: expected >= 1, got ",
                   options_.batch_size);
  SPECTRAL_EXPECTS(options_.threads >= 1 && options_.threads <= 256,
                   "loader threads: expected 1-256, got ", options_.threads);
  SPECTRAL_EXPECTS(options_.prefetch >= 1, "prefetch: expected >= 1 batch, got ",
                   options_.prefetch);
  if (options_.crops.empty()) {
    SPECTRAL_EXPECTS(options_.views >= 1 && options_.views <= 16, "views: expected 1-16, got ",
                     options_.views);
    crops_.assign(static_cast<std::size_t>(options_.views),
                  view_crop{options_.image_size, options_.scale_min, options_.scale_max});
  } else {
    SPECTRAL_EXPECTS(options_.crops.size() <= 16, "crops: expected 1-16 views, got ",
                     options_.crops.size());
    crops_ = options_.crops;
    options_.views = static_cast<int>(crops_.size());
    options_.image_size = crops_.front().size;
  }
  for (const view_crop& crop : crops_) {
    detail::expect_crop_params(crop.size, crop.scale_min, crop.scale_max, options_.ratio_min,
                               options_.ratio_max);
  }
  SPECTRAL_EXPECTS(options_.shard_count >= 1, "shard count: expected >= 1, got ",
                   options_.shard_count);
  SPECTRAL_EXPECTS(options_.shard_rank >= 0 && options_.shard_rank < options_.shard_count,
                   "shard rank: expected 0-", options_.shard_count - 1, ", got ",
                   options_.shard_rank);
}

inline image_folder_loader::~image_folder_loader() { stop_epoch(); }

inline std::int64_t image_folder_loader::batches_per_epoch() const {
  const auto n = static_cast<std::int64_t>(folder_.files.size());
  const std::int64_t b = options_.batch_size;
  const std::int64_t global = b * options_.shard_count;
  // Whole global batches give every rank b positions; the rest is dealt out b at a time.
  const std::int64_t full = n / global;
  const std::int64_t rest = n - full * global;
  const std::int64_t mine =
      full * b + std::clamp<std::int64_t>(rest - options_.shard_rank * b, 0, b);
  return options_.drop_last ? mine / b : (mine + b - 1) / b;
}

inline void image_folder_loader::stop_epoch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  ready_cv_.notify_all();
  queue_cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
}

inline void image_folder_loader::start_epoch(std::int64_t epoch) {
  SPECTRAL_EXPECTS(epoch >= 0, "epoch: expected >= 0, got ", epoch);
  stop_epoch();
  const auto n = static_cast<std::int64_t>(folder_.files.size());
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  if (options_.shuffle) {
    order = detail::permutation(n, detail::epoch_seed(options_.seed, epoch));
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      order[static_cast<std::size_t>(i)] = i;
    }
  }
  if (options_.shard_count > 1) {  // this rank's block of every global batch
    const std::int64_t b = options_.batch_size;
    const std::int64_t global = b * options_.shard_count;
    std::vector<std::int64_t> mine;
    mine.reserve(static_cast<std::size_t>(n / options_.shard_count + b));
    for (std::int64_t start = 0; start < n; start += global) {
      const std::int64_t first = start + options_.shard_rank * b;
      for (std::int64_t i = first; i < std::min(first + b, n); ++i) {
        mine.push_back(order[static_cast<std::size_t>(i)]);
      }
    }
    order = std::move(mine);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    order_ = std::move(order);
    // Workers may run a batch plus a little ahead of the assembler.
    const std::int64_t window = std::min<std::int64_t>(
        static_cast<std::int64_t>(order_.size()),
        options_.batch_size + 2 * std::int64_t{options_.threads});
    slots_.assign(static_cast<std::size_t>(window), slot{});
    queue_.clear();
    error_ = nullptr;
    epoch_ = epoch;
    next_position_ = 0;
    assembled_ = 0;
    skipped_epoch_ = 0;
    stop_ = false;
    finished_ = false;
  }
  threads_.reserve(static_cast<std::size_t>(options_.threads) + 1);
  threads_.emplace_back([this] { assembler_loop(); });
  for (int t = 0; t < options_.threads; ++t) {
    threads_.emplace_back([this] { worker_loop(); });
  }
}

inline void image_folder_loader::worker_loop() {
  const auto n = static_cast<std::int64_t>(order_.size());
  const auto window = static_cast<std::int64_t>(slots_.size());
  std::int64_t sample_bytes = 0;  // every view of one image
  for (const view_crop& crop : crops_) {
    sample_bytes += 3 * crop.size * crop.size;
  }
  std::int64_t position = 0;
  std::int64_t epoch = 0;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] {
        return stop_ || next_position_ >= n || next_position_ < assembled_ + window;
      });
      if (stop_ || next_position_ >= n) {
        return;
      }
      position = next_position_++;
      epoch = epoch_;
    }
    // The slot is this worker's until it is marked: the assembler only reads marked slots.
    slot& out = slots_[static_cast<std::size_t>(position % window)];
    const std::int64_t index = order_[static_cast<std::size_t>(position)];
    bool ok = false;
    try {
      out.pixels.resize(static_cast<std::size_t>(sample_bytes));
      const std::optional<std::vector<unsigned char>> bytes =
          detail::try_read_file(folder_.files[static_cast<std::size_t>(index)]);
      if (bytes) {
        // One generator per file (view v's crop is its v-th draw, whatever thread decodes
        // it) and one decode for all views.
        std::mt19937_64 rng(detail::sample_seed(options_.seed, epoch, index));
        decoded_crop info;
        ok = detail::decode_crop_into(*bytes, crops_, options_.ratio_min, options_.ratio_max, rng,
                                      options_.filter, out.pixels.data(), info);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) {
        error_ = std::current_exception();
      }
      stop_ = true;
      work_cv_.notify_all();
      ready_cv_.notify_all();
      queue_cv_.notify_all();
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      out.status = ok ? slot::state::ok : slot::state::failed;
    }
    ready_cv_.notify_all();
  }
}

inline torch::Tensor image_folder_loader::new_images(std::int64_t n, std::int64_t s) const {
  auto opts = torch::TensorOptions().dtype(torch::kUInt8);
  if (options_.pin_memory && torch::cuda::is_available()) {
    opts = opts.pinned_memory(true);
  }
  return torch::empty({n, 3, s, s}, opts);
}

inline void image_folder_loader::assembler_loop() {
  const auto n = static_cast<std::int64_t>(order_.size());
  const auto window = static_cast<std::int64_t>(slots_.size());
  const std::int64_t b = options_.batch_size;
  try {
    image_folder_batch batch;
    std::int64_t filled = 0;
    const auto fresh = [&] {
      batch.views.clear();
      for (const view_crop& crop : crops_) {
        batch.views.push_back(new_images(b, crop.size));
      }
      batch.images = batch.views.front();
      batch.labels = torch::empty({b}, torch::kInt64);
      batch.indices = torch::empty({b}, torch::kInt64);
      filled = 0;
    };
    const auto push = [&](image_folder_batch&& done) {
      std::unique_lock<std::mutex> lock(mutex_);
      queue_cv_.wait(lock, [&] {
        return stop_ || static_cast<std::int64_t>(queue_.size()) < options_.prefetch;
      });
      if (stop_) {
        return false;
      }
      queue_.push_back(std::move(done));
      queue_cv_.notify_all();
      return true;
    };
    fresh();
    for (std::int64_t position = 0; position < n; ++position) {
      slot& in = slots_[static_cast<std::size_t>(position % window)];
      bool ok = false;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_cv_.wait(lock, [&] { return stop_ || in.status != slot::state::empty; });
        if (stop_) {
          return;
        }
        ok = in.status == slot::state::ok;
        if (!ok) {
          ++skipped_epoch_;
          skipped_total_.fetch_add(1);
          SPECTRAL_EXPECTS(2 * skipped_epoch_ <= n, "image folder ", folder_.root.string(),
                           ": more than half of its ", n,
                           " files do not decode as JPEG (last: ",
                           folder_.files[static_cast<std::size_t>(
                                             order_[static_cast<std::size_t>(position)])]
                               .string(),
                           ")");
        }
      }
      if (ok) {
        const std::int64_t index = order_[static_cast<std::size_t>(position)];
        const std::uint8_t* from = in.pixels.data();
        for (std::size_t v = 0; v < batch.views.size(); ++v) {
          const std::int64_t view_bytes = 3 * crops_[v].size * crops_[v].size;
          std::memcpy(batch.views[v].data_ptr<std::uint8_t>() + filled * view_bytes, from,
                      static_cast<std::size_t>(view_bytes));
          from += view_bytes;
        }
        batch.labels.data_ptr<std::int64_t>()[filled] =
            folder_.labels[static_cast<std::size_t>(index)];
        batch.indices.data_ptr<std::int64_t>()[filled] = index;
        ++filled;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        in.status = slot::state::empty;
        ++assembled_;
      }
      work_cv_.notify_all();
      if (filled == b) {
        if (!push(std::move(batch))) {
          return;
        }
        fresh();
      }
    }
    if (filled > 0 && !options_.drop_last) {
      for (torch::Tensor& view : batch.views) {
        view = view.narrow(0, 0, filled);
      }
      batch.images = batch.views.front();
      batch.labels = batch.labels.narrow(0, 0, filled);
      batch.indices = batch.indices.narrow(0, 0, filled);
      if (!push(std::move(batch))) {
        return;
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    queue_cv_.notify_all();
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) {
      error_ = std::current_exception();
    }
    stop_ = true;
    work_cv_.notify_all();
    ready_cv_.notify_all();
    queue_cv_.notify_all();
  }
}

inline std::optional<image_folder_batch> image_folder_loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  SPECTRAL_EXPECTS(epoch_ >= 0, "image_folder_loader: call start_epoch() before next()");
  queue_cv_.wait(lock, [&] { return !queue_.empty() || finished_ || stop_ || error_; });
  if (!queue_.empty()) {
    image_folder_batch batch = std::move(queue_.front());
    queue_.pop_front();
    queue_cv_.notify_all();
    return batch;
  }
  if (error_) {
    std::rethrow_exception(error_);
  }
  return std::nullopt;
}

}  // namespace spectral::trainer
