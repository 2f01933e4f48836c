// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// The loaders' crop resampler (examples/torch_trainer/data/resample.hpp) next to LibTorch's
// antialiased interpolate, the path torchvision's tensor transforms take for a resized crop:
// one 500×375 RGB image (ImageNet's typical size), integer boxes, uint8 channel-planar output,
// one thread each (the loader runs one crop per worker thread).
//
//   BM_spectral/resample/<filter>/<box w>x<box h>/out:<n>   data/resample.hpp
//   BM_torch/resample/<filter>/<box w>x<box h>/out:<n>      crop → float → interpolate(antialias)
//                                                           → round → clamp → uint8
// Both crop, then resize (box_edges::box), as RandomResizedCrop. The torch rows also report
// max_abs_diff, the largest difference of any output byte from the library's crop (both follow
// PIL's antialiased filters, so 1 is rounding).

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <data/resample.hpp>

namespace {

using spectral::trainer::box_edges;
using spectral::trainer::crop_filter;

constexpr std::int64_t image_width = 500;
constexpr std::int64_t image_height = 375;

struct crop_case {
  std::int64_t left, top, width, height, out;
};

// Downscale (the usual RandomResizedCrop), a strong downscale (a whole image to a small
// multi-crop view) and an upscale (a small box).
constexpr crop_case cases[] = {
    {60, 40, 340, 300, 224},
    {0, 0, 500, 375, 96},
    {200, 100, 150, 150, 224},
};

const std::vector<std::uint8_t>& image() {
  static const std::vector<std::uint8_t> rgb = [] {
    // Smooth gradients plus noise: not constant, not pure noise, like a photograph's pixels.
    std::mt19937_64 rng(7);
    std::vector<std::uint8_t> v(static_cast<std::size_t>(image_width * image_height * 3));
    for (std::int64_t y = 0; y < image_height; ++y) {
      for (std::int64_t x = 0; x < image_width; ++x) {
        for (std::int64_t c = 0; c < 3; ++c) {
          const auto base = (x * (c + 1) + y * (3 - c)) / 4 % 200;
          v[static_cast<std::size_t>((y * image_width + x) * 3 + c)] =
              static_cast<std::uint8_t>(base + static_cast<std::int64_t>(rng() % 56));
        }
      }
    }
    return v;
  }();
  return rgb;
}

std::vector<std::uint8_t> library_crop(const crop_case& k, crop_filter f) {
  std::vector<std::uint8_t> chw(static_cast<std::size_t>(3 * k.out * k.out));
  spectral::trainer::detail::resample_box(
      image().data(), image_width, image_height, static_cast<double>(k.left),
      static_cast<double>(k.top), static_cast<double>(k.left + k.width),
      static_cast<double>(k.top + k.height), k.out, f, box_edges::box, chw.data());
  return chw;
}

torch::Tensor torch_crop(const torch::Tensor& hwc, const crop_case& k, crop_filter f) {
  namespace F = torch::nn::functional;
  const torch::Tensor box = hwc.slice(0, k.top, k.top + k.height)
                                .slice(1, k.left, k.left + k.width)
                                .permute({2, 0, 1})
                                .unsqueeze(0)
                                .to(torch::kFloat);
  F::InterpolateFuncOptions options;
  options.size(std::vector<std::int64_t>{k.out, k.out}).align_corners(false).antialias(true);
  if (f == crop_filter::bicubic) {
    options.mode(torch::kBicubic);
  } else {
    options.mode(torch::kBilinear);
  }
  return F::interpolate(box, options).round().clamp(0, 255).to(torch::kUInt8);
}

void bm_spectral(benchmark::State& state, crop_case k, crop_filter f) {
  std::vector<std::uint8_t> chw(static_cast<std::size_t>(3 * k.out * k.out));
  for (auto _ : state) {
    spectral::trainer::detail::resample_box(
        image().data(), image_width, image_height, static_cast<double>(k.left),
        static_cast<double>(k.top), static_cast<double>(k.left + k.width),
        static_cast<double>(k.top + k.height), k.out, f, box_edges::box, chw.data());
    benchmark::DoNotOptimize(chw.data());
  }
}

void bm_torch(benchmark::State& state, crop_case k, crop_filter f) {
  torch::set_num_threads(1);
  const torch::Tensor hwc =
      torch::from_blob(const_cast<std::uint8_t*>(image().data()),  // read only
                       {image_height, image_width, 3}, torch::kUInt8);
  torch::Tensor out;
  for (auto _ : state) {
    out = torch_crop(hwc, k, f);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  const std::vector<std::uint8_t> ours = library_crop(k, f);
  const torch::Tensor theirs = out.contiguous().view({-1}).to(torch::kInt32);
  const torch::Tensor mine =
      torch::from_blob(const_cast<std::uint8_t*>(ours.data()),
                       {static_cast<std::int64_t>(ours.size())}, torch::kUInt8)
          .to(torch::kInt32);
  const double max_abs_diff = (theirs - mine).abs().max().item<double>();
  state.counters["max_abs_diff"] = max_abs_diff;
  if (max_abs_diff > 1.0) {
    state.SkipWithError(("the library's crop differs from LibTorch's by " +
                         std::to_string(max_abs_diff) + " (1 is rounding)")
                            .c_str());
  }
}

int register_all() {
  for (const crop_filter f : {crop_filter::bilinear, crop_filter::bicubic}) {
    const std::string filter = f == crop_filter::bicubic ? "bicubic" : "bilinear";
    for (const crop_case& k : cases) {
      const std::string tail = "resample/" + filter + "/" + std::to_string(k.width) + "x" +
                               std::to_string(k.height) + "/out:" + std::to_string(k.out);
      benchmark::RegisterBenchmark(("BM_spectral/" + tail).c_str(), bm_spectral, k, f)
          ->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("BM_torch/" + tail).c_str(), bm_torch, k, f)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return 0;
}

const int registered = register_all();

}  // namespace
