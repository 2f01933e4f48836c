// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// The loaders' crop resampler (data/resample.hpp) against an independent double-precision
// evaluation of PIL's antialiased filters, computed here as one 2-D weighted sum per output pixel
// (no separable passes, no shared code), plus the exact cases: identity, constant images, and
// results that do not depend on what the thread's buffers held before.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include <data/resample.hpp>

namespace {

using spectral::trainer::box_edges;
using spectral::trainer::crop_filter;
using spectral::trainer::detail::resample_box;

struct image {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::vector<std::uint8_t> rgb;  // packed, 3 bytes a pixel
};

image random_image(std::int64_t width, std::int64_t height, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  image im{width, height, std::vector<std::uint8_t>(static_cast<std::size_t>(width * height * 3))};
  for (auto& v : im.rgb) {
    v = static_cast<std::uint8_t>(rng() % 256);
  }
  return im;
}

// PIL's kernels (Imaging/Resample.c), written out again: triangle and Keys' cubic with a = -0.5.
double kernel(crop_filter f, double x) {
  const double t = std::fabs(x);
  if (f == crop_filter::bilinear) {
    return std::max(0.0, 1.0 - t);
  }
  if (t < 1.0) {
    return 1.5 * t * t * t - 2.5 * t * t + 1.0;
  }
  if (t < 2.0) {
    return -0.5 * t * t * t + 2.5 * t * t - 4.0 * t + 2.0;
  }
  return 0.0;
}

// One axis: output o reads input pixels [first, first + weights.size()) with these weights.
struct axis_weights {
  std::vector<std::int64_t> first;
  std::vector<std::vector<double>> weights;
};

axis_weights reference_weights(
    double lo, double hi, std::int64_t size, std::int64_t out, crop_filter f) {
  const double scale = (hi - lo) / static_cast<double>(out);
  const double stretch = std::max(1.0, scale);  // antialiasing: widen the kernel when shrinking
  const double support = (f == crop_filter::bicubic ? 2.0 : 1.0) * stretch;
  axis_weights a;
  for (std::int64_t o = 0; o < out; ++o) {
    const double centre = lo + (static_cast<double>(o) + 0.5) * scale;
    const auto begin = std::max<std::int64_t>(0, static_cast<std::int64_t>(centre - support + 0.5));
    const auto end =
        std::min<std::int64_t>(size, static_cast<std::int64_t>(centre + support + 0.5));
    std::vector<double> w;
    double total = 0.0;
    for (std::int64_t i = begin; i < end; ++i) {
      w.push_back(kernel(f, (static_cast<double>(i) + 0.5 - centre) / stretch));
      total += w.back();
    }
    for (double& v : w) {
      v /= total;
    }
    a.first.push_back(begin);
    a.weights.push_back(w);
  }
  return a;
}

std::vector<std::uint8_t> reference_resample(
    const image& im, double x0, double y0, double x1, double y1, std::int64_t out, crop_filter f) {
  const axis_weights wx = reference_weights(x0, x1, im.width, out, f);
  const axis_weights wy = reference_weights(y0, y1, im.height, out, f);
  std::vector<std::uint8_t> chw(static_cast<std::size_t>(3 * out * out));
  for (std::int64_t c = 0; c < 3; ++c) {
    for (std::int64_t oy = 0; oy < out; ++oy) {
      for (std::int64_t ox = 0; ox < out; ++ox) {
        const auto& vy = wy.weights[static_cast<std::size_t>(oy)];
        const auto& vx = wx.weights[static_cast<std::size_t>(ox)];
        double sum = 0.0;
        for (std::size_t i = 0; i < vy.size(); ++i) {
          for (std::size_t j = 0; j < vx.size(); ++j) {
            const std::int64_t y =
                wy.first[static_cast<std::size_t>(oy)] + static_cast<std::int64_t>(i);
            const std::int64_t x =
                wx.first[static_cast<std::size_t>(ox)] + static_cast<std::int64_t>(j);
            sum += vy[i] * vx[j] * im.rgb[static_cast<std::size_t>((y * im.width + x) * 3 + c)];
          }
        }
        chw[static_cast<std::size_t>((c * out + oy) * out + ox)] =
            static_cast<std::uint8_t>(std::clamp(std::nearbyint(sum), 0.0, 255.0));
      }
    }
  }
  return chw;
}

std::vector<std::uint8_t> resample(const image& im,
                                   double x0,
                                   double y0,
                                   double x1,
                                   double y1,
                                   std::int64_t out,
                                   crop_filter f,
                                   box_edges edges = box_edges::image) {
  std::vector<std::uint8_t> chw(static_cast<std::size_t>(3 * out * out));
  resample_box(im.rgb.data(), im.width, im.height, x0, y0, x1, y1, out, f, edges, chw.data());
  return chw;
}

image crop(
    const image& im, std::int64_t left, std::int64_t top, std::int64_t width, std::int64_t height) {
  image c{width, height, {}};
  for (std::int64_t y = top; y < top + height; ++y) {
    const auto row = im.rgb.begin() + (y * im.width + left) * 3;
    c.rgb.insert(c.rgb.end(), row, row + width * 3);
  }
  return c;
}

// Bytes that differ, and by how much at most.
struct difference {
  std::size_t bytes = 0;
  std::size_t differing = 0;
  int largest = 0;

  void add(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const int d = std::abs(int{got[i]} - int{want[i]});
      largest = std::max(largest, d);
      differing += d != 0 ? 1U : 0U;
    }
    bytes += got.size();
  }
  // float sums against double ones: only a value within float rounding of a .5 may round apart.
  [[nodiscard]] bool only_rounding() const {
    return largest <= 1 && static_cast<double>(differing) <= 1e-3 * static_cast<double>(bytes);
  }
};

}  // namespace

TEST_CASE("resample_box equals a double-precision 2-D evaluation of PIL's filters", "[resample]") {
  const crop_filter f = GENERATE(crop_filter::bilinear, crop_filter::bicubic);
  const image im = random_image(123, 77, 5);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  difference diff;
  std::int64_t shrunk = 0;
  std::int64_t enlarged = 0;
  for (int trial = 0; trial < 40; ++trial) {
    // Fractional boxes of 2 to 123 pixels wide, some touching the image's edges, to outputs
    // smaller (antialiased) and larger (interpolated) than the box.
    const double w = 2.0 + unit(rng) * 121.0;
    const double h = std::min(77.0, 2.0 + unit(rng) * 75.0);
    const double x0 = trial % 5 == 0 ? 0.0 : unit(rng) * (123.0 - w);
    const double y0 = trial % 7 == 0 ? 77.0 - h : unit(rng) * (77.0 - h);
    const std::int64_t out = 1 + static_cast<std::int64_t>(unit(rng) * 90.0);
    (static_cast<double>(out) < std::min(w, h) ? shrunk : enlarged) += 1;
    diff.add(resample(im, x0, y0, x0 + w, y0 + h, out, f),
             reference_resample(im, x0, y0, x0 + w, y0 + h, out, f));
  }
  CHECK(shrunk > 5);
  CHECK(enlarged > 5);
  CHECK(diff.only_rounding());
}

TEST_CASE("resample_box with box_edges::box resizes the cropped box (RandomResizedCrop)",
          "[resample]") {
  const crop_filter f = GENERATE(crop_filter::bilinear, crop_filter::bicubic);
  const image im = random_image(123, 77, 6);
  std::mt19937_64 rng(12);
  difference on_crop;
  difference beyond_box;
  for (int trial = 0; trial < 30; ++trial) {
    const auto w = static_cast<std::int64_t>(3 + rng() % 100);
    const auto h = static_cast<std::int64_t>(3 + rng() % 60);
    const auto left = static_cast<std::int64_t>(1 + rng() % static_cast<std::uint64_t>(122 - w));
    const auto top = static_cast<std::int64_t>(1 + rng() % static_cast<std::uint64_t>(76 - h));
    const auto out = static_cast<std::int64_t>(2 + rng() % 80);
    const auto x0 = static_cast<double>(left);
    const auto y0 = static_cast<double>(top);
    const auto x1 = static_cast<double>(left + w);
    const auto y1 = static_cast<double>(top + h);
    const auto got = resample(im, x0, y0, x1, y1, out, f, box_edges::box);
    const image box = crop(im, left, top, w, h);
    on_crop.add(got, reference_resample(box, 0.0, 0.0, static_cast<double>(w),
                                        static_cast<double>(h), out, f));
    // Away from the image's edges, reading beyond the box changes the border pixels.
    beyond_box.add(got, resample(im, x0, y0, x1, y1, out, f, box_edges::image));
  }
  CHECK(on_crop.only_rounding());
  CHECK(beyond_box.largest > 1);
}

TEST_CASE("resample_box: the whole image at its own size is the identity", "[resample]") {
  const crop_filter f = GENERATE(crop_filter::bilinear, crop_filter::bicubic);
  const auto square = random_image(33, 33, 8);
  const auto same = resample(square, 0.0, 0.0, 33.0, 33.0, 33, f);
  for (std::int64_t c = 0; c < 3; ++c) {
    for (std::int64_t y = 0; y < 33; ++y) {
      for (std::int64_t x = 0; x < 33; ++x) {
        REQUIRE(same[static_cast<std::size_t>((c * 33 + y) * 33 + x)] ==
                square.rgb[static_cast<std::size_t>((y * 33 + x) * 3 + c)]);
      }
    }
  }
}

TEST_CASE("resample_box: a constant image stays constant under any box and size", "[resample]") {
  const crop_filter f = GENERATE(crop_filter::bilinear, crop_filter::bicubic);
  image im{57, 45, std::vector<std::uint8_t>(57 * 45 * 3)};
  for (std::size_t i = 0; i < im.rgb.size(); ++i) {
    im.rgb[i] = static_cast<std::uint8_t>(i % 3 == 0 ? 200 : (i % 3 == 1 ? 31 : 97));
  }
  for (const std::int64_t out : {1, 5, 24, 130}) {
    const auto got = resample(im, 3.25, 1.5, 50.75, 44.0, out, f);
    for (std::int64_t c = 0; c < 3; ++c) {
      const auto want = static_cast<std::uint8_t>(c == 0 ? 200 : (c == 1 ? 31 : 97));
      for (std::int64_t i = 0; i < out * out; ++i) {
        REQUIRE(got[static_cast<std::size_t>(c * out * out + i)] == want);
      }
    }
  }
}

TEST_CASE("resample_box: the thread's reused buffers do not leak into the next crop",
          "[resample]") {
  const image small = random_image(30, 20, 9);
  const image large = random_image(300, 200, 10);
  const auto first = resample(small, 1.5, 2.0, 27.0, 19.0, 16, crop_filter::bicubic);
  const auto big = resample(large, 0.0, 0.0, 300.0, 200.0, 150, crop_filter::bicubic);
  const auto again = resample(small, 1.5, 2.0, 27.0, 19.0, 16, crop_filter::bicubic);
  CHECK(big.size() == 3U * 150U * 150U);
  CHECK(first == again);
  CHECK(std::adjacent_find(first.begin(), first.end(), std::not_equal_to<>()) != first.end());
}
