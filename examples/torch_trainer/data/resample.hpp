// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// PIL's separable resampler (Imaging/Resample.c: antialiased bilinear and bicubic) for the
/// loaders' crops: a box of a packed RGB image to out × out channel-planar uint8. It was half of
/// a loader worker's time as plain per-pixel loops; now the horizontal pass sums pixels widened
/// to 4 floats (RGB + a zero lane) for four outputs at a time, and the vertical pass accumulates
/// whole contiguous rows. Each sum is still taken in the plain loops' order, so the pixels are
/// the same bits. bench/loader times it against LibTorch's antialiased interpolate.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// Which PIL filter resamples the crop to the output size (both antialiased when shrinking).
enum class crop_filter { bilinear, bicubic };

/// Which pixels the filter may read near the box's edges.
enum class box_edges {
  /// The image's pixels beyond the box too: the box's pixels of the whole image resized
  /// (torchvision's Resize, then CenterCrop).
  image,
  /// The box's own pixels only: the box cropped, then resized (torchvision's RandomResizedCrop).
  box,
};

namespace detail {

/// PIL's filters: support and kernel.
[[nodiscard]] inline double filter_support(crop_filter f) {
  return f == crop_filter::bicubic ? 2.0 : 1.0;
}

[[nodiscard]] inline double filter_kernel(crop_filter f, double x) {
  x = std::abs(x);
  if (f == crop_filter::bilinear) {
    return x < 1.0 ? 1.0 - x : 0.0;
  }
  constexpr double a = -0.5;
  if (x < 1.0) {
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  }
  if (x < 2.0) {
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  }
  return 0.0;
}

/// Per output pixel: first input pixel and normalised weights (PIL's precompute_coeffs).
struct resample_weights {
  std::vector<std::int64_t> first, count;
  std::vector<float> weights;  ///< out × taps
  std::int64_t taps = 0;

  /// [lo, hi): the input pixels some output reads (lo = hi when none does).
  [[nodiscard]] std::int64_t span_lo() const {
    std::int64_t lo = INT64_MAX;
    for (std::size_t o = 0; o < first.size(); ++o) {
      lo = count[o] > 0 ? std::min(lo, first[o]) : lo;
    }
    return lo == INT64_MAX ? 0 : lo;
  }
  [[nodiscard]] std::int64_t span_hi() const {
    std::int64_t hi = 0;
    for (std::size_t o = 0; o < first.size(); ++o) {
      hi = count[o] > 0 ? std::max(hi, first[o] + count[o]) : hi;
    }
    return std::max(hi, span_lo());
  }
};

/// Weights of the span [in_lo, in_hi) resampled to out_size pixels, each window clipped to the
/// input pixels [clip_lo, clip_hi) and renormalised.
[[nodiscard]] inline resample_weights make_weights(double in_lo,
                                                   double in_hi,
                                                   std::int64_t clip_lo,
                                                   std::int64_t clip_hi,
                                                   std::int64_t out_size,
                                                   crop_filter f) {
  const double scale = (in_hi - in_lo) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter_support(f) * filter_scale;
  resample_weights r;
  r.taps = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  r.first.resize(static_cast<std::size_t>(out_size));
  r.count.resize(static_cast<std::size_t>(out_size));
  r.weights.assign(static_cast<std::size_t>(out_size * r.taps), 0.0F);
  std::vector<double> w(static_cast<std::size_t>(r.taps));
  for (std::int64_t o = 0; o < out_size; ++o) {
    const double center = in_lo + (static_cast<double>(o) + 0.5) * scale;
    const std::int64_t lo =
        std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), clip_lo);
    const std::int64_t hi =
        std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), clip_hi);
    const std::int64_t n = std::min(std::max<std::int64_t>(hi - lo, 0), r.taps);
    double total = 0.0;
    for (std::int64_t k = 0; k < n; ++k) {
      w[static_cast<std::size_t>(k)] =
          filter_kernel(f, (static_cast<double>(lo + k) - center + 0.5) / filter_scale);
      total += w[static_cast<std::size_t>(k)];
    }
    for (std::int64_t k = 0; k < n; ++k) {
      r.weights[static_cast<std::size_t>(o * r.taps + k)] =
          static_cast<float>(total != 0.0 ? w[static_cast<std::size_t>(k)] / total : 0.0);
    }
    r.first[static_cast<std::size_t>(o)] = lo;
    r.count[static_cast<std::size_t>(o)] = n;
  }
  return r;
}

/// Round half to even (as std::nearbyint in the default rounding mode) without a libm call:
/// adding 1.5·2²³ leaves no fraction bits. Valid for |v| < 2²²; the resampler's sums lie within
/// [−2¹⁰, 2¹⁰].
[[nodiscard]] inline float round_half_even(float v) {
  constexpr float magic = 12582912.0F;  // 1.5 · 2²³
  return (v + magic) - magic;
}

/// Four floats as one SIMD register (GCC/Clang vector extension: SSE, NEON, ...): a pixel's
/// RGB and a zero lane in the horizontal pass.
using float4 = float __attribute__((vector_size(16)));

[[nodiscard]] inline float4 load4(const float* p) {
  float4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Output pixel `o` of a row stored as three planes of `out` floats (R, G, B).
inline void store_planar(float* row, std::int64_t out, std::int64_t o, float4 v) {
  row[o] = v[0];
  row[out + o] = v[1];
  row[2 * out + o] = v[2];
}

/// Per-thread buffers of resample_box, kept between calls (the loader calls it per view).
struct resample_scratch {
  std::vector<float> pixels;          ///< one input row's span, 4 floats a pixel, then `taps` zeros
  std::vector<float> rows;            ///< horizontal pass: per input row, R, G and B runs of `out`
  std::vector<float> line;            ///< vertical pass: one output row, the same layout
  std::vector<std::int64_t> offsets;  ///< horizontal pass: each output's first pixel in `pixels`
};

[[nodiscard]] inline resample_scratch& thread_resample_scratch() {
  thread_local resample_scratch scratch;
  return scratch;
}

/**
 * Resamples the box [x0, x1) × [y0, y1) of a packed RGB image (3 bytes a pixel) to
 * out × out, channel-planar, separably (rows first, only the rows and columns the output reads),
 * rounded half to even and clamped to [0, 255] as PIL's uint8 output (bicubic overshoots).
 * With box_edges::box the filter reads pixels [⌊x0⌋, ⌈x1⌉) × [⌊y0⌋, ⌈y1⌉) only: for an integer
 * box, PIL's resize of the cropped image.
 */
inline void resample_box(const std::uint8_t* rgb,
                         std::int64_t width,
                         std::int64_t height,
                         double x0,
                         double y0,
                         double x1,
                         double y1,
                         std::int64_t out,
                         crop_filter f,
                         box_edges edges,
                         std::uint8_t* chw) {
  const auto clip = [edges](double lo, double hi, std::int64_t size) {
    if (edges == box_edges::image) {
      return std::pair<std::int64_t, std::int64_t>{0, size};
    }
    return std::pair{std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(lo))),
                     std::min<std::int64_t>(size, static_cast<std::int64_t>(std::ceil(hi)))};
  };
  const auto [col_clip_lo, col_clip_hi] = clip(x0, x1, width);
  const auto [row_clip_lo, row_clip_hi] = clip(y0, y1, height);
  const resample_weights wx = make_weights(x0, x1, col_clip_lo, col_clip_hi, out, f);
  const resample_weights wy = make_weights(y0, y1, row_clip_lo, row_clip_hi, out, f);
  const std::int64_t col_lo = wx.span_lo();
  const std::int64_t cols = wx.span_hi() - col_lo;
  const std::int64_t row_lo = wy.span_lo();
  const std::int64_t rows = wy.span_hi() - row_lo;
  resample_scratch& scratch = thread_resample_scratch();
  scratch.pixels.resize(static_cast<std::size_t>((cols + wx.taps) * 4));
  scratch.rows.resize(static_cast<std::size_t>(rows * out * 3));
  scratch.line.resize(static_cast<std::size_t>(out * 3));

  // Horizontal pass into `rows` (planar per row). Every output runs over all `taps` weights (those
  // past its count are 0 and read the zero padding at the row's end), four outputs at a time so
  // that four independent sums hide the adds' latency; each sum keeps the plain loop's order.
  float* pixels = scratch.pixels.data();
  std::fill(pixels + cols * 4, pixels + (cols + wx.taps) * 4, 0.0F);
  constexpr std::int64_t lanes = 4;
  // Offsets into `pixels`; an output that reads no pixel (all its weights 0) is pointed into
  // the span so that its `taps` reads stay inside the buffer.
  scratch.offsets.resize(static_cast<std::size_t>(out));
  for (std::size_t o = 0; o < scratch.offsets.size(); ++o) {
    scratch.offsets[o] = std::clamp<std::int64_t>(wx.first[o] - col_lo, 0, cols) * 4;
  }
  const std::int64_t* offset = scratch.offsets.data();
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint8_t* src = rgb + ((row_lo + r) * width + col_lo) * 3;
    for (std::int64_t x = 0; x < cols; ++x) {
      for (std::int64_t c = 0; c < 3; ++c) {
        pixels[x * 4 + c] = static_cast<float>(src[x * 3 + c]);
      }
      pixels[x * 4 + 3] = 0.0F;
    }
    float* dst = scratch.rows.data() + r * out * 3;
    const std::int64_t whole = out - out % lanes;  // outputs done four at a time
    for (std::int64_t o = 0; o < whole; o += lanes) {
      const float* w = wx.weights.data() + o * wx.taps;
      const float* p0 = pixels + offset[o];
      const float* p1 = pixels + offset[o + 1];
      const float* p2 = pixels + offset[o + 2];
      const float* p3 = pixels + offset[o + 3];
      float4 a0 = {}, a1 = {}, a2 = {}, a3 = {};
      for (std::int64_t k = 0; k < wx.taps; ++k) {
        a0 += w[k] * load4(p0 + k * 4);
        a1 += w[wx.taps + k] * load4(p1 + k * 4);
        a2 += w[2 * wx.taps + k] * load4(p2 + k * 4);
        a3 += w[3 * wx.taps + k] * load4(p3 + k * 4);
      }
      store_planar(dst, out, o, a0);
      store_planar(dst, out, o + 1, a1);
      store_planar(dst, out, o + 2, a2);
      store_planar(dst, out, o + 3, a3);
    }
    for (std::int64_t o = whole; o < out; ++o) {
      const float* w = wx.weights.data() + o * wx.taps;
      const float* p = pixels + offset[o];
      float4 a = {};
      for (std::int64_t k = 0; k < wx.taps; ++k) {
        a += w[k] * load4(p + k * 4);
      }
      store_planar(dst, out, o, a);
    }
  }

  // Vertical pass, one output row at a time (channel-agnostic: the layout is the rows').
  const std::int64_t row_floats = out * 3;
  float* line = scratch.line.data();
  for (std::int64_t oy = 0; oy < out; ++oy) {
    const auto i = static_cast<std::size_t>(oy);
    const float* w = wy.weights.data() + oy * wy.taps;
    std::fill(line, line + row_floats, 0.0F);
    for (std::int64_t k = 0; k < wy.count[i]; ++k) {
      const float* src = scratch.rows.data() + (wy.first[i] - row_lo + k) * row_floats;
      const float weight = w[k];
      for (std::int64_t j = 0; j < row_floats; ++j) {
        line[j] += weight * src[j];
      }
    }
    // The row is planar (R, G, B runs of `out`), as is the output: round each run in place.
    for (std::int64_t c = 0; c < 3; ++c) {
      const float* run = line + c * out;
      std::uint8_t* plane_row = chw + (c * out + oy) * out;
      for (std::int64_t ox = 0; ox < out; ++ox) {
        const float v = round_half_even(run[ox]);
        plane_row[ox] = static_cast<std::uint8_t>(
            static_cast<std::int32_t>(v < 0.0F ? 0.0F : (v > 255.0F ? 255.0F : v)));
      }
    }
  }
}

}  // namespace detail
}  // namespace spectral::trainer
