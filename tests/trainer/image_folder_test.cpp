// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// The ImageFolder JPEG pipeline: scanning, the TurboJPEG RandomResizedCrop decoder (full-image
// crops against the source, the DCT-scaled path, bad bytes) and the threaded loader (shapes,
// labels, skipped files, determinism across thread counts). The JPEG files are real, written
// with TurboJPEG into a temporary folder.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "common/temp_folder.hpp"
#include "trainer/jpeg_files.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <data/image_folder.hpp>
#include <data/image_folder_loader.hpp>
#include <data/jpeg_decode.hpp>
#include <turbojpeg.h>

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using spectral::trainer::decode_random_resized_crop;
using spectral::trainer::image_folder;
using spectral::trainer::image_folder_loader;
using spectral::trainer::image_folder_loader_options;
using spectral::trainer::scan_image_folder;
using spectral::trainer::view_crop;
using spectral_test::encode_jpeg;
using spectral_test::write_bytes;

using spectral_test::temp_folder;

/// A smooth synthetic RGB image (packed HWC), different per `variant`.
std::vector<std::uint8_t> synthetic_rgb(int width, int height, int variant) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) *
                                3);
  constexpr double pi = 3.14159265358979323846;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5) / width;
      const double v = (y + 0.5) / height;
      const double values[3] = {128.0 + 90.0 * std::sin(2.0 * pi * u + variant), 40.0 + 170.0 * v,
                                128.0 + 80.0 * std::cos(pi * (u + v) + 0.5 * variant)};
      for (int c = 0; c < 3; ++c) {
        rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
             static_cast<std::size_t>(x)) *
                3 +
            static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(std::lround(values[c]));
      }
    }
  }
  return rgb;
}

std::vector<unsigned char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// HWC uint8 → 1×3×H×W float tensor.
torch::Tensor to_tensor(const std::vector<std::uint8_t>& rgb, int width, int height) {
  return torch::from_blob(const_cast<std::uint8_t*>(rgb.data()), {height, width, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .unsqueeze(0)
      .to(torch::kFloat32);
}

torch::Tensor crop_tensor(const spectral::trainer::decoded_crop& crop) {
  return torch::from_blob(const_cast<std::uint8_t*>(crop.pixels.data()),
                          {1, 3, crop.size, crop.size}, torch::kUInt8)
      .to(torch::kFloat32);
}

double mean_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().mean().item<double>();
}

const int sizes[4][2] = {{40, 30}, {64, 64}, {300, 200}, {500, 375}};

/// 3 classes × 4 JPEGs (sizes above, mixed extension case) + a corrupt file + a PNG named .JPEG,
/// plus files and folders the scan must ignore.
struct sample_tree {
  temp_folder tmp;
  fs::path root;
  sample_tree() : root(tmp.path / "train") {
    const char* class_names[3] = {"n03", "n01", "n02"};  // sorted: n01=0, n02=1, n03=2
    const char* extensions[4] = {".JPEG", ".jpg", ".JPG", ".jpeg"};
    for (int c = 0; c < 3; ++c) {
      const fs::path folder = root / class_names[c];
      fs::create_directories(folder / "nested");
      for (int i = 0; i < 4; ++i) {
        const int w = sizes[i][0];
        const int h = sizes[i][1];
        write_bytes(folder / ("img_" + std::to_string(i) + extensions[i]),
                    encode_jpeg(synthetic_rgb(w, h, 3 * c + i), w, h));
      }
      write_bytes(folder / "notes.txt", {'h', 'i'});
      write_bytes(folder / "nested" / "deep.JPEG", {'x'});
    }
    write_bytes(root / "stray.JPEG", {'x'});
    std::mt19937_64 rng(7);
    std::vector<unsigned char> noise(2000);
    for (unsigned char& b : noise) {
      b = static_cast<unsigned char>(rng() & 0xFFU);
    }
    noise[0] = 0x12;  // not a JPEG start-of-image by chance
    write_bytes(root / "n02" / "zz_corrupt.JPEG", noise);
    std::vector<unsigned char> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n',
                                      0,    0,   0,   13,  'I',  'H',  'D',  'R'};
    png.resize(300, 0x42);
    write_bytes(root / "n03" / "zz_png.JPEG", png);
  }
};

std::vector<spectral::trainer::image_folder_batch> run_epoch(image_folder_loader& loader,
                                                             std::int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<spectral::trainer::image_folder_batch> batches;
  while (auto batch = loader.next()) {
    batches.push_back(std::move(*batch));
  }
  return batches;
}

}  // namespace

TEST_CASE("scan_image_folder: torchvision class order, sorted JPEG files", "[imagefolder]") {
  const sample_tree tree;
  const image_folder folder = scan_image_folder(tree.root);
  REQUIRE(folder.classes == std::vector<std::string>{"n01", "n02", "n03"});
  REQUIRE(folder.files.size() == 14);  // 12 images + the two bad files, nothing else
  REQUIRE(folder.labels.size() == 14);
  for (std::size_t i = 0; i < folder.files.size(); ++i) {
    const std::int64_t label = folder.labels[i];
    CHECK(folder.files[i].parent_path().filename().string() ==
          folder.classes[static_cast<std::size_t>(label)]);
    if (i > 0) {
      CHECK(folder.labels[i - 1] <= label);
      if (folder.labels[i - 1] == label) {
        CHECK(folder.files[i - 1].filename().string() < folder.files[i].filename().string());
      }
    }
  }
  CHECK(folder.files.front().filename() == "img_0.JPEG");
  CHECK(folder.files[5].filename() == "img_1.jpg");  // class n02 starts at 4
  CHECK(folder.files[8].filename() == "zz_corrupt.JPEG");
  CHECK(folder.files[13].filename() == "zz_png.JPEG");
}

TEST_CASE("scan_image_folder: a missing or empty root throws naming it", "[imagefolder]") {
  const temp_folder tmp;
  const fs::path missing = tmp.path / "no_such_imagenet";
  CHECK_THROWS_AS(scan_image_folder(missing), spectral::invalid_input);
  CHECK_THROWS_WITH(scan_image_folder(missing), ContainsSubstring(missing.string()));
  CHECK_THROWS_WITH(scan_image_folder(tmp.path), ContainsSubstring("no class folders"));
  fs::create_directories(tmp.path / "empty_class");
  CHECK_THROWS_WITH(scan_image_folder(tmp.path), ContainsSubstring(tmp.path.string()));
}

TEST_CASE("decode_random_resized_crop: a full-image crop reproduces the image", "[imagefolder]") {
  const std::vector<std::uint8_t> rgb = synthetic_rgb(64, 64, 1);
  const std::vector<unsigned char> jpeg = encode_jpeg(rgb, 64, 64);
  const torch::Tensor source = to_tensor(rgb, 64, 64);
  std::mt19937_64 rng(1);

  const auto same = decode_random_resized_crop(jpeg, 64, 1.0, 1.0, 1.0, 1.0, rng);
  REQUIRE(same.has_value());
  CHECK(same->size == 64);
  CHECK(same->width == 64);
  CHECK(same->height == 64);
  CHECK(same->scale_denom == 1);
  REQUIRE(same->pixels.size() == 3 * 64 * 64);
  CHECK(mean_abs_diff(crop_tensor(*same), source) < 2.0);

  // Halving: the crop is exactly twice the output, so the DCT does it (1/2), ≈ 2×2 average.
  const auto half = decode_random_resized_crop(jpeg, 32, 1.0, 1.0, 1.0, 1.0, rng);
  REQUIRE(half.has_value());
  CHECK(half->scale_denom == 2);
  const torch::Tensor pooled =
      torch::nn::functional::avg_pool2d(source, torch::nn::functional::AvgPool2dFuncOptions(2));
  CHECK(mean_abs_diff(crop_tensor(*half), pooled) < 3.0);

  // Shrinking by 64/40 without DCT scaling (64 < 2·40): antialiased bicubic and bilinear.
  const torch::Tensor area = torch::nn::functional::adaptive_avg_pool2d(
      source, torch::nn::functional::AdaptiveAvgPool2dFuncOptions(40));
  const auto bicubic = decode_random_resized_crop(jpeg, 40, 1.0, 1.0, 1.0, 1.0, rng);
  REQUIRE(bicubic.has_value());
  CHECK(bicubic->scale_denom == 1);
  CHECK(mean_abs_diff(crop_tensor(*bicubic), area) < 3.0);
  const auto bilinear = decode_random_resized_crop(jpeg, 40, 1.0, 1.0, 1.0, 1.0, rng,
                                                   spectral::trainer::crop_filter::bilinear);
  REQUIRE(bilinear.has_value());
  CHECK(bilinear->scale_denom == 1);
  CHECK(mean_abs_diff(crop_tensor(*bilinear), area) < 3.0);
}

TEST_CASE("decode_random_resized_crop: DCT scaling for a large image", "[imagefolder]") {
  const std::vector<std::uint8_t> rgb = synthetic_rgb(500, 375, 2);
  const std::vector<unsigned char> jpeg = encode_jpeg(rgb, 500, 375);
  std::mt19937_64 rng(3);

  // The whole 500×375 image (ratio 4/3) to 32×32: 375/8 ≥ 32, so 1/8 scaling.
  const auto full = decode_random_resized_crop(jpeg, 32, 1.0, 1.0, 4.0 / 3.0, 4.0 / 3.0, rng);
  REQUIRE(full.has_value());
  CHECK(full->scale_denom == 8);
  CHECK(full->width == 500);
  CHECK(full->height == 375);
  REQUIRE(full->pixels.size() == 3 * 32 * 32);
  const torch::Tensor reference = torch::nn::functional::adaptive_avg_pool2d(
      to_tensor(rgb, 500, 375), torch::nn::functional::AdaptiveAvgPool2dFuncOptions(32));
  CHECK(mean_abs_diff(crop_tensor(*full), reference) < 4.0);

  // Random crops: right shape, a DCT scale consistent with the rule, sane values.
  std::set<int> denoms;
  for (int i = 0; i < 50; ++i) {
    const auto crop = decode_random_resized_crop(jpeg, 32, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0, rng);
    REQUIRE(crop.has_value());
    REQUIRE(crop->pixels.size() == 3 * 32 * 32);
    denoms.insert(crop->scale_denom);
    const torch::Tensor t = crop_tensor(*crop);
    CHECK(t.mean().item<double>() > 30.0);
    CHECK(t.mean().item<double>() < 230.0);
  }
  CHECK(denoms.count(2) + denoms.count(4) + denoms.count(8) > 0);
  for (int d : denoms) {
    CHECK((d == 1 || d == 2 || d == 4 || d == 8));
  }
}

TEST_CASE("decode_random_resized_crop: bad bytes give nullopt, never a crash", "[imagefolder]") {
  std::mt19937_64 rng(5);
  const std::vector<unsigned char> empty;
  CHECK_FALSE(decode_random_resized_crop(empty, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng).has_value());
  std::vector<unsigned char> noise(4096);
  for (unsigned char& b : noise) {
    b = static_cast<unsigned char>(rng() & 0xFFU);
  }
  CHECK_FALSE(decode_random_resized_crop(noise, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng).has_value());
  // A JPEG start-of-image followed by noise.
  noise[0] = 0xFF;
  noise[1] = 0xD8;
  CHECK_FALSE(decode_random_resized_crop(noise, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng).has_value());
  const std::vector<unsigned char> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0};
  CHECK_FALSE(decode_random_resized_crop(png, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng).has_value());
  // A truncated JPEG: a header-only prefix fails; a longer one may decode with a warning.
  const std::vector<unsigned char> jpeg = encode_jpeg(synthetic_rgb(300, 200, 0), 300, 200);
  const std::vector<unsigned char> header(jpeg.begin(), jpeg.begin() + 20);
  CHECK_FALSE(decode_random_resized_crop(header, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng).has_value());
  const std::vector<unsigned char> half(
      jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() / 2));
  const auto partial = decode_random_resized_crop(half, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng);
  if (partial) {
    CHECK(partial->pixels.size() == 3 * 16 * 16);
  }
  // The thread's decompressor still works after all these failures.
  CHECK(decode_random_resized_crop(jpeg, 16, 0.08, 1.0, 0.75, 4.0 / 3.0, rng).has_value());
  // Invalid parameters are the caller's error.
  CHECK_THROWS_AS(decode_random_resized_crop(jpeg, 0, 0.08, 1.0, 0.75, 4.0 / 3.0, rng),
                  spectral::invalid_input);
  CHECK_THROWS_AS(decode_random_resized_crop(jpeg, 16, 0.5, 0.1, 0.75, 4.0 / 3.0, rng),
                  spectral::invalid_input);
}

TEST_CASE("image_folder_loader: shapes, labels, skipped files, determinism", "[imagefolder]") {
  const sample_tree tree;
  const image_folder folder = scan_image_folder(tree.root);
  image_folder_loader_options options;
  options.batch_size = 4;
  options.image_size = 24;
  options.seed = 11;
  options.prefetch = 2;

  options.threads = 1;
  image_folder_loader one(folder, options);
  options.threads = 3;
  image_folder_loader three(folder, options);
  CHECK(one.batches_per_epoch() == 3);  // 14 files / 4, drop_last

  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    const auto a = run_epoch(one, epoch);
    const auto b = run_epoch(three, epoch);
    // 12 decodable images: 3 full batches; the two bad files are skipped every epoch.
    REQUIRE(a.size() == 3);
    REQUIRE(b.size() == 3);
    CHECK(one.skipped() == 2 * (epoch + 1));
    CHECK(three.skipped() == 2 * (epoch + 1));
    std::set<std::int64_t> seen;
    for (std::size_t k = 0; k < a.size(); ++k) {
      const auto& batch = a[k];
      CHECK(batch.images.sizes() == torch::IntArrayRef({4, 3, 24, 24}));
      CHECK(batch.images.scalar_type() == torch::kUInt8);
      CHECK(batch.labels.sizes() == torch::IntArrayRef({4}));
      CHECK(batch.labels.scalar_type() == torch::kInt64);
      for (std::int64_t i = 0; i < 4; ++i) {
        const std::int64_t index = batch.indices[i].item<std::int64_t>();
        CHECK(batch.labels[i].item<std::int64_t>() ==
              folder.labels[static_cast<std::size_t>(index)]);
        CHECK(folder.files[static_cast<std::size_t>(index)].filename().string().rfind("zz_", 0) ==
              std::string::npos);
        seen.insert(index);
      }
      // The same batches whatever the number of threads.
      CHECK(torch::equal(batch.images, b[k].images));
      CHECK(torch::equal(batch.labels, b[k].labels));
      CHECK(torch::equal(batch.indices, b[k].indices));
    }
    CHECK(seen.size() == 12);

    // A sample is the decoder's output for its (seed, epoch, index) generator.
    const std::int64_t index = a[1].indices[2].item<std::int64_t>();
    std::mt19937_64 rng(spectral::trainer::detail::sample_seed(11, epoch, index));
    const auto expected = decode_random_resized_crop(
        read_bytes(folder.files[static_cast<std::size_t>(index)]), 24, options.scale_min,
        options.scale_max, options.ratio_min, options.ratio_max, rng);
    REQUIRE(expected.has_value());
    const torch::Tensor got = a[1].images[2].contiguous();
    CHECK(
        std::equal(expected->pixels.begin(), expected->pixels.end(), got.data_ptr<std::uint8_t>()));
  }
  // Another epoch, another order.
  const auto e0 = run_epoch(one, 0);
  const auto e5 = run_epoch(one, 5);
  bool differs = false;
  for (std::size_t k = 0; k < e0.size(); ++k) {
    differs = differs || !torch::equal(e0[k].indices, e5[k].indices);
  }
  CHECK(differs);

  // Without drop_last the remainder comes as a last, smaller batch; no shuffle keeps file order.
  options.drop_last = false;
  options.shuffle = false;
  options.batch_size = 5;
  image_folder_loader ordered(folder, options);
  const auto c = run_epoch(ordered, 0);
  REQUIRE(c.size() == 3);  // 5 + 5 + 2
  CHECK(c[2].images.size(0) == 2);
  CHECK(c[0].indices[0].item<std::int64_t>() == 0);
  CHECK(ordered.skipped() == 2);
}

TEST_CASE("image_folder_loader: mostly undecodable data throws; shutdown", "[imagefolder]") {
  const sample_tree tree;
  image_folder folder = scan_image_folder(tree.root);
  // Keep one good file and the two bad ones: 2 of 3 undecodable.
  image_folder bad = folder;
  bad.files = {folder.files[0], folder.files[8], folder.files[13]};
  bad.labels = {0, 1, 2};
  image_folder_loader_options options;
  options.batch_size = 1;
  options.image_size = 8;
  options.threads = 2;
  image_folder_loader loader(bad, options);
  loader.start_epoch(0);
  CHECK_THROWS_WITH(
      [&] {
        while (loader.next()) {
        }
      }(),
      ContainsSubstring("more than half"));

  // Destroying a loader with an epoch in flight joins its threads.
  options.batch_size = 2;
  options.prefetch = 1;
  {
    image_folder_loader busy(folder, options);
    busy.start_epoch(0);
    CHECK(busy.next().has_value());
  }
  {
    image_folder_loader idle(folder, options);
    CHECK_THROWS_AS(idle.next(), spectral::invalid_input);
  }
}

TEST_CASE("image_folder_loader: two views per image from one decode", "[imagefolder]") {
  const sample_tree tree;
  image_folder_loader_options options;
  options.batch_size = 4;
  options.image_size = 24;
  options.seed = 5;
  options.threads = 2;
  options.scale_min = 0.1;
  options.scale_max = 0.5;
  image_folder_loader single(scan_image_folder(tree.root), options);
  options.views = 2;
  image_folder_loader paired(scan_image_folder(tree.root), options);
  const auto one = run_epoch(single, 0);
  const auto two = run_epoch(paired, 0);
  REQUIRE(two.size() == 3);
  REQUIRE(one.size() == two.size());
  for (std::size_t k = 0; k < two.size(); ++k) {
    REQUIRE(two[k].views.size() == 2);
    CHECK(two[k].views[1].sizes() == torch::IntArrayRef({4, 3, 24, 24}));
    CHECK(torch::equal(two[k].images, two[k].views[0]));
    CHECK(torch::equal(two[k].indices, one[k].indices));  // the same files in the same order
    // View 0 is the first box drawn from the file's generator, as with one view (decoded at a
    // DCT scale fine enough for both boxes, so pixels may differ by the scaling's rounding);
    // view 1 is an independent crop of the same image.
    CHECK(mean_abs_diff(two[k].views[0].to(torch::kFloat64), one[k].images.to(torch::kFloat64)) <
          3.0);
    CHECK_FALSE(torch::equal(two[k].views[0], two[k].views[1]));
    CHECK(two[k].views[1].to(torch::kFloat64).std().item<double>() > 1.0);
  }
  CHECK(paired.skipped() == 2);
}

TEST_CASE("image_folder_loader: multi-crop views of their own sizes from one read",
          "[imagefolder]") {
  const sample_tree tree;
  const image_folder folder = scan_image_folder(tree.root);
  image_folder_loader_options options;
  options.seed = 5;
  options.threads = 2;
  options.batch_size = 3;
  options.crops = {{16, 0.2, 1.0}, {16, 0.2, 1.0}, {12, 0.14, 0.7}, {7, 0.09, 0.43}};
  image_folder_loader multi(folder, options);
  CHECK(multi.options().views == 4);
  const auto batches = run_epoch(multi, 0);
  REQUIRE(batches.size() == 4);  // 12 of the 14 files decode: 4 batches of 3
  const std::int64_t sizes[] = {16, 16, 12, 7};
  for (const auto& batch : batches) {
    REQUIRE(batch.views.size() == 4);
    for (std::size_t v = 0; v < 4; ++v) {
      CHECK(batch.views[v].sizes() == torch::IntArrayRef({3, 3, sizes[v], sizes[v]}));
      CHECK(batch.views[v].to(torch::kFloat64).std().item<double>() > 1.0);  // real pixels
    }
    CHECK(torch::equal(batch.images, batch.views[0]));
  }
  CHECK(multi.skipped() == 2);
  // The first view is the same crop as a 1-view loader's with that crop (the same draw from
  // the file's generator), up to the DCT scale the smaller views may force.
  image_folder_loader_options single = options;
  single.crops = {options.crops.front()};
  image_folder_loader one(folder, single);
  const auto reference = run_epoch(one, 0);
  REQUIRE(reference.size() == batches.size());
  for (std::size_t k = 0; k < batches.size(); ++k) {
    CHECK(torch::equal(batches[k].indices, reference[k].indices));
    CHECK(mean_abs_diff(batches[k].views[0].to(torch::kFloat64),
                        reference[k].images.to(torch::kFloat64)) < 3.0);
  }
  image_folder_loader_options bad = options;
  bad.crops[2].size = 0;
  CHECK_THROWS_AS(image_folder_loader(folder, bad), spectral::invalid_input);
  bad = options;
  bad.crops.assign(17, view_crop{});
  CHECK_THROWS_AS(image_folder_loader(folder, bad), spectral::invalid_input);
}

TEST_CASE("image_folder_loader: ranks take disjoint blocks of every global batch",
          "[imagefolder]") {
  const sample_tree tree;
  const image_folder folder = scan_image_folder(tree.root);
  image_folder_loader_options options;
  options.image_size = 16;
  options.seed = 9;
  options.threads = 2;
  options.batch_size = 2;
  options.shard_count = 2;
  options.shard_rank = 0;
  image_folder_loader rank0(folder, options);
  options.shard_rank = 1;
  image_folder_loader rank1(folder, options);
  // Rank r's files: positions [4g + 2r, 4g + 2r + 2) of the epoch's permutation (a global batch
  // of 4 = 2 ranks x 2), without the files that do not decode (zz_*), cut to whole batches.
  const auto n = static_cast<std::int64_t>(folder.files.size());
  const std::vector<std::int64_t> order =
      spectral::trainer::detail::permutation(n, spectral::trainer::detail::epoch_seed(9, 0));
  const auto expected = [&](std::int64_t rank) {
    std::vector<std::int64_t> files;
    for (std::int64_t start = 0; start < n; start += 4) {
      for (std::int64_t i = start + 2 * rank; i < std::min(start + 2 * rank + 2, n); ++i) {
        const std::int64_t index = order[static_cast<std::size_t>(i)];
        if (folder.files[static_cast<std::size_t>(index)].filename().string().rfind("zz_", 0) !=
            0) {
          files.push_back(index);
        }
      }
    }
    files.resize(files.size() / 2 * 2);
    return files;
  };
  const auto loaded = [](const std::vector<spectral::trainer::image_folder_batch>& batches) {
    std::vector<std::int64_t> files;
    for (const auto& batch : batches) {
      for (std::int64_t i = 0; i < batch.indices.size(0); ++i) {
        files.push_back(batch.indices[i].item<std::int64_t>());
      }
    }
    return files;
  };
  const auto first = loaded(run_epoch(rank0, 0));
  const auto second = loaded(run_epoch(rank1, 0));
  REQUIRE(first.size() >= 4);
  REQUIRE(second.size() >= 4);
  CHECK(first == expected(0));
  CHECK(second == expected(1));
  const std::set<std::int64_t> first_set(first.begin(), first.end());
  for (const std::int64_t index : second) {
    CHECK(first_set.count(index) == 0);  // no file is loaded by both ranks
  }
  // 14 files = 3 global batches of 4 + 2 positions, which go to rank 0: 4 and 3 batches.
  REQUIRE(n == 14);
  CHECK(rank0.batches_per_epoch() == 4);
  CHECK(rank1.batches_per_epoch() == 3);
  image_folder_loader_options bad = options;
  bad.shard_rank = 2;
  CHECK_THROWS_AS(image_folder_loader(folder, bad), spectral::invalid_input);
  bad = options;
  bad.views = 0;
  CHECK_THROWS_AS(image_folder_loader(folder, bad), spectral::invalid_input);
}
