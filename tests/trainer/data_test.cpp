// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// The trainer's data layer: the Fashion-MNIST and CIFAR readers and the batched augmentations.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include <common/invalid_input_message.hpp>
#include <common/temp_folder.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <data/augment.hpp>
#include <data/datasets.hpp>
#include <zlib.h>

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using spectral::trainer::augment;
using spectral::trainer::augment_config;

const fs::path fashion_folder{SPECTRAL_TEST_FASHION_MNIST};

using spectral_test::temp_folder;

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_gzip(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  gzFile out = gzopen(path.string().c_str(), "wb");
  REQUIRE(out != nullptr);
  REQUIRE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(out) == Z_OK);
}

using spectral_test::invalid_input_message;

std::int64_t pixel_sum(const torch::Tensor& images) {
  return images.sum(torch::kInt64).item<std::int64_t>();
}

const spectral::trainer::image_dataset& fashion_test_split() {
  static const spectral::trainer::image_dataset split =
      spectral::trainer::load_fashion_mnist(fashion_folder, false);
  return split;
}

at::Generator seeded(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

/// Un-normalises augment()'s output back to pixel values in [0, 1].
torch::Tensor pixels(const torch::Tensor& normalized, const augment_config& config) {
  const auto channels = static_cast<std::int64_t>(config.mean.size());
  const torch::Tensor mean =
      torch::tensor(config.mean).to(torch::kFloat32).view({1, channels, 1, 1});
  const torch::Tensor std = torch::tensor(config.std).to(torch::kFloat32).view({1, channels, 1, 1});
  return normalized * std + mean;
}

/// Everything random switched off and the crop fixed to the whole image: the identity resample.
augment_config identity_config(std::int64_t size, std::int64_t channels) {
  augment_config config;
  config.size = size;
  config.scale_min = config.scale_max = 1.0;
  config.ratio_min = config.ratio_max = 1.0;
  config.flip_p = config.jitter_p = config.gray_p = config.blur_p = config.solarize_p = 0.0;
  config.mean.assign(static_cast<std::size_t>(channels), 0.0);
  config.std.assign(static_cast<std::size_t>(channels), 1.0);
  return config;
}

/// Seeded RGB images with smooth structure and noise, so every colour operation has work to do.
torch::Tensor rgb_images(std::int64_t n, std::int64_t size, std::uint64_t seed) {
  at::Generator generator = seeded(seed);
  const torch::Tensor ramp = torch::linspace(0.0, 1.0, size);
  const torch::Tensor base = torch::stack({ramp.view({1, -1}).expand({size, size}),
                                           ramp.view({-1, 1}).expand({size, size}),
                                           (1.0 - ramp).view({1, -1}).expand({size, size})});
  const torch::Tensor noise = torch::rand({n, 3, size, size}, generator);
  return (255.0 * (0.6 * base.unsqueeze(0) + 0.4 * noise)).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace

// --- Fashion-MNIST -------------------------------------------------------------------------------

// The expected numbers come from the raw files, independently of this code, with
//   /usr/bin/python3 -c 'import gzip, numpy as np; d = "/usr/share/datasets/fashion-mnist";
//     im = np.frombuffer(gzip.open(d + "/train-images-idx3-ubyte.gz").read(), np.uint8, offset=16);
//     lb = np.frombuffer(gzip.open(d + "/train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8);
//     print(im.size // 784, im.astype(np.int64).sum(), lb[:10], lb.astype(np.int64).sum(),
//           im[:784].astype(np.int64).sum())'
// (and the same with t10k-*): train 60000 3431114169 [9 0 0 3 0 2 7 2 5 5] 270000 76247,
// test 10000 573469082 [9 2 1 1 6 1 4 6 5 7] 45000 33456; every class has 6000 / 1000 images.
TEST_CASE("load_fashion_mnist reads the real train split", "[data]") {
  const auto train = spectral::trainer::load_fashion_mnist(fashion_folder, true);
  REQUIRE(train.images.sizes() == torch::IntArrayRef({60000, 1, 28, 28}));
  REQUIRE(train.images.scalar_type() == torch::kUInt8);
  REQUIRE(train.images.is_contiguous());
  REQUIRE(train.labels.sizes() == torch::IntArrayRef({60000}));
  REQUIRE(train.labels.scalar_type() == torch::kInt64);
  CHECK(train.classes == 10);
  CHECK(train.name == "fashion-mnist/train");
  CHECK(torch::equal(train.labels.narrow(0, 0, 10),
                     torch::tensor({9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, torch::kInt64)));
  CHECK(pixel_sum(train.images) == 3431114169LL);
  CHECK(pixel_sum(train.images[0]) == 76247);
  CHECK(train.labels.sum().item<std::int64_t>() == 270000);
  CHECK(torch::equal(train.labels.bincount(), torch::full({10}, 6000, torch::kInt64)));
}

TEST_CASE("load_fashion_mnist reads the real test split", "[data]") {
  const auto& test = fashion_test_split();
  REQUIRE(test.images.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
  REQUIRE(test.labels.sizes() == torch::IntArrayRef({10000}));
  CHECK(test.classes == 10);
  CHECK(test.name == "fashion-mnist/test");
  CHECK(torch::equal(test.labels.narrow(0, 0, 10),
                     torch::tensor({9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, torch::kInt64)));
  CHECK(pixel_sum(test.images) == 573469082LL);
  CHECK(pixel_sum(test.images[0]) == 33456);
  CHECK(test.labels.sum().item<std::int64_t>() == 45000);
  CHECK(torch::equal(test.labels.bincount(), torch::full({10}, 1000, torch::kInt64)));
}

TEST_CASE("load_fashion_mnist names the path of a missing or broken file", "[data]") {
  using spectral::trainer::load_fashion_mnist;
  temp_folder tmp;
  const fs::path images = tmp.path / "t10k-images-idx3-ubyte.gz";
  const fs::path labels = tmp.path / "t10k-labels-idx1-ubyte.gz";

  SECTION("missing folder") {
    const fs::path missing = tmp.path / "no_such_folder";
    const std::string message =
        invalid_input_message([&] { (void)load_fashion_mnist(missing, false); });
    CHECK_THAT(message, ContainsSubstring(missing.string()));
  }
  SECTION("missing file") {
    const std::string message =
        invalid_input_message([&] { (void)load_fashion_mnist(tmp.path, false); });
    CHECK_THAT(message, ContainsSubstring(images.string()));
  }

  fs::copy_file(fashion_folder / "t10k-labels-idx1-ubyte.gz", labels);
  const std::vector<std::uint8_t> compressed =
      read_bytes(fashion_folder / "t10k-images-idx3-ubyte.gz");
  std::vector<std::uint8_t> raw =
      spectral::examples::read_gzip_file(fashion_folder / "t10k-images-idx3-ubyte.gz");
  REQUIRE(raw.size() == 16 + 10000 * 784);

  SECTION("truncated gzip stream") {
    write_bytes(images, {compressed.begin(),
                         compressed.begin() + static_cast<std::ptrdiff_t>(compressed.size() / 2)});
    const std::string message =
        invalid_input_message([&] { (void)load_fashion_mnist(tmp.path, false); });
    CHECK_THAT(message, ContainsSubstring(images.string()));
    CHECK_THAT(message, ContainsSubstring("truncated"));
  }
  SECTION("IDX payload shorter than its header says") {
    raw.resize(16 + 1000);
    write_gzip(images, raw);
    const std::string message =
        invalid_input_message([&] { (void)load_fashion_mnist(tmp.path, false); });
    CHECK_THAT(message, ContainsSubstring(images.string()));
    CHECK_THAT(message, ContainsSubstring("truncated"));
  }
  SECTION("corrupted magic number") {
    raw[3] = 0x04;
    write_gzip(images, raw);
    const std::string message =
        invalid_input_message([&] { (void)load_fashion_mnist(tmp.path, false); });
    CHECK_THAT(message, ContainsSubstring(images.string()));
    CHECK_THAT(message, ContainsSubstring("magic"));
  }
  SECTION("an intact copy loads") {
    write_gzip(images, raw);
    CHECK(pixel_sum(load_fashion_mnist(tmp.path, false).images) == 573469082LL);
  }
}

// --- CIFAR ---------------------------------------------------------------------------------------

namespace {

constexpr std::size_t cifar_pixels = 3 * 32 * 32;

/// One binary CIFAR record: the label byte(s), then a pattern that depends on `seed`.
std::vector<std::uint8_t> cifar_record(std::vector<std::uint8_t> labels, unsigned seed) {
  std::vector<std::uint8_t> record = std::move(labels);
  for (std::size_t k = 0; k < cifar_pixels; ++k) {
    record.push_back(static_cast<std::uint8_t>((k * 7 + seed * 13 + k / 97) % 256));
  }
  return record;
}

/// The images a reader should produce from records: the pixel bytes, already C×H×W.
torch::Tensor expected_images(const std::vector<std::vector<std::uint8_t>>& records,
                              std::size_t label_bytes) {
  torch::Tensor out =
      torch::empty({static_cast<std::int64_t>(records.size()), 3, 32, 32}, torch::kUInt8);
  for (std::size_t n = 0; n < records.size(); ++n) {
    std::memcpy(out.data_ptr<std::uint8_t>() + n * cifar_pixels, records[n].data() + label_bytes,
                cifar_pixels);
  }
  return out;
}

std::vector<std::uint8_t> concat(const std::vector<std::vector<std::uint8_t>>& records) {
  std::vector<std::uint8_t> out;
  for (const auto& r : records) {
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

}  // namespace

TEST_CASE("load_cifar reads synthetic binary files", "[data]") {
  using spectral::trainer::load_cifar;
  temp_folder tmp;

  SECTION("CIFAR-10 test batch, two records") {
    const std::vector<std::vector<std::uint8_t>> records{cifar_record({3}, 1),
                                                         cifar_record({9}, 2)};
    write_bytes(tmp.path / "test_batch.bin", concat(records));
    const auto test = load_cifar(tmp.path, 10, false);
    REQUIRE(test.images.sizes() == torch::IntArrayRef({2, 3, 32, 32}));
    CHECK(test.classes == 10);
    CHECK(test.name == "cifar10/test");
    CHECK(torch::equal(test.labels, torch::tensor({3, 9}, torch::kInt64)));
    CHECK(torch::equal(test.images, expected_images(records, 1)));
    // Channel-planar layout: the last byte of a record is blue at row 31, column 31.
    CHECK(test.images[1][2][31][31].item<std::uint8_t>() == records[1].back());
    CHECK(test.images[1][0][0][1].item<std::uint8_t>() == records[1][2]);
  }
  SECTION("CIFAR-10 train batches in order, from the unpacked subfolder") {
    const fs::path unpacked = tmp.path / "cifar-10-batches-bin";
    fs::create_directories(unpacked);
    std::vector<std::vector<std::uint8_t>> records;
    for (unsigned b = 1; b <= 5; ++b) {
      records.push_back(cifar_record({static_cast<std::uint8_t>(b - 1)}, 10 + b));
      write_bytes(unpacked / ("data_batch_" + std::to_string(b) + ".bin"), records.back());
    }
    const auto train = load_cifar(tmp.path, 10, true);
    CHECK(torch::equal(train.labels, torch::arange(5, torch::kInt64)));
    CHECK(torch::equal(train.images, expected_images(records, 1)));
  }
  SECTION("CIFAR-100 uses the fine label") {
    const std::vector<std::vector<std::uint8_t>> records{cifar_record({5, 77}, 3),
                                                         cifar_record({19, 99}, 4)};
    write_bytes(tmp.path / "train.bin", concat(records));
    const auto train = load_cifar(tmp.path, 100, true);
    CHECK(train.classes == 100);
    CHECK(train.name == "cifar100/train");
    CHECK(torch::equal(train.labels, torch::tensor({77, 99}, torch::kInt64)));
    CHECK(torch::equal(train.images, expected_images(records, 2)));
  }
}

TEST_CASE("load_cifar names the path of a missing or broken file", "[data]") {
  using spectral::trainer::load_cifar;
  temp_folder tmp;
  const fs::path test_file = tmp.path / "test_batch.bin";

  SECTION("truncated file") {
    std::vector<std::uint8_t> bytes = concat({cifar_record({1}, 1), cifar_record({2}, 2)});
    bytes.resize(bytes.size() - 10);
    write_bytes(test_file, bytes);
    const std::string message =
        invalid_input_message([&] { (void)load_cifar(tmp.path, 10, false); });
    CHECK_THAT(message, ContainsSubstring(test_file.string()));
    CHECK_THAT(message, ContainsSubstring("6136 bytes"));
  }
  SECTION("empty file") {
    write_bytes(test_file, {});
    CHECK_THAT(invalid_input_message([&] { (void)load_cifar(tmp.path, 10, false); }),
               ContainsSubstring(test_file.string()));
  }
  SECTION("label out of range") {
    write_bytes(test_file, cifar_record({10}, 1));
    const std::string message =
        invalid_input_message([&] { (void)load_cifar(tmp.path, 10, false); });
    CHECK_THAT(message, ContainsSubstring(test_file.string()));
    CHECK_THAT(message, ContainsSubstring("label 10"));
  }
  SECTION("missing file") {
    write_bytes(test_file, cifar_record({1}, 1));
    CHECK_THAT(invalid_input_message([&] { (void)load_cifar(tmp.path, 10, true); }),
               ContainsSubstring((tmp.path / "data_batch_1.bin").string()));
  }
  SECTION("missing folder") {
    const fs::path missing = tmp.path / "nowhere";
    CHECK_THAT(invalid_input_message([&] { (void)load_cifar(missing, 100, false); }),
               ContainsSubstring(missing.string()));
  }
  SECTION("class count") {
    CHECK_THAT(invalid_input_message([&] { (void)load_cifar(tmp.path, 20, false); }),
               ContainsSubstring("classes"));
  }
}

// --- augmentations -------------------------------------------------------------------------------

TEST_CASE("augment returns normalised float images in the pixel range", "[data]") {
  const torch::Tensor grey = fashion_test_split().images.narrow(0, 0, 64);
  const torch::Tensor rgb = rgb_images(32, 32, 7);

  augment_config with_everything = spectral::trainer::cifar_view(1, 10);
  with_everything.blur_p = 0.5;
  with_everything.solarize_p = 0.5;
  augment_config smaller = spectral::trainer::fashion_mnist_view(1, 20);
  smaller.blur_p = 1.0;

  const std::vector<std::pair<torch::Tensor, augment_config>> cases{
      {grey, spectral::trainer::fashion_mnist_view(0, 28)},
      {grey, spectral::trainer::fashion_mnist_view(1, 28)},
      {grey, smaller},
      {rgb, spectral::trainer::cifar_view(0, 100)},
      {rgb, with_everything}};
  std::uint64_t seed = 100;
  for (const auto& [images, config] : cases) {
    CAPTURE(seed, config.size, images.size(1));
    at::Generator generator = seeded(seed++);
    const torch::Tensor out = augment(images, config, generator);
    REQUIRE(out.sizes() ==
            torch::IntArrayRef({images.size(0), images.size(1), config.size, config.size}));
    REQUIRE(out.scalar_type() == torch::kFloat32);
    REQUIRE(out.device() == images.device());
    REQUIRE(out.isfinite().all().item<bool>());
    const torch::Tensor x = pixels(out, config);
    CHECK(x.min().item<float>() >= -1e-5F);
    CHECK(x.max().item<float>() <= 1.0F + 1e-5F);
    // Not degenerate: the batch still has contrast after augmentation.
    CHECK(x.std().item<float>() > 0.05F);
  }
}

TEST_CASE("augment is a function of the generator state", "[data]") {
  const torch::Tensor images = fashion_test_split().images.narrow(0, 0, 32);
  const augment_config config = spectral::trainer::fashion_mnist_view(1, 28);

  at::Generator a = seeded(42);
  at::Generator b = seeded(42);
  at::Generator c = seeded(43);
  const torch::Tensor first = augment(images, config, a);
  CHECK(torch::equal(first, augment(images, config, b)));
  CHECK_FALSE(torch::equal(first, augment(images, config, c)));

  // Checkpoint the state, draw a batch, restore, draw again: the same batch.
  const torch::Tensor state = a.get_state();
  const torch::Tensor next = augment(images, config, a);
  CHECK_FALSE(torch::equal(first, next));
  a.set_state(state);
  CHECK(torch::equal(next, augment(images, config, a)));

  // A fixed number of draws per sample, whatever the configuration: the state after a batch is
  // the state after N × augment_draws_per_sample uniform doubles.
  at::Generator counted = seeded(42);
  (void)augment(images, identity_config(28, 1), counted);
  at::Generator reference = seeded(42);
  (void)torch::rand({32 * spectral::trainer::augment_draws_per_sample}, reference,
                    torch::TensorOptions().dtype(torch::kFloat64));
  CHECK(torch::equal(torch::rand({8}, counted), torch::rand({8}, reference)));
}

TEST_CASE("augment with only the flip gives the image or its mirror", "[data]") {
  const torch::Tensor images = fashion_test_split().images.narrow(0, 0, 48);
  const torch::Tensor rgb = rgb_images(16, 24, 3);
  for (const torch::Tensor& batch : {images, rgb}) {
    augment_config config = identity_config(batch.size(2), batch.size(1));
    config.flip_p = 0.5;
    at::Generator generator = seeded(5);
    const torch::Tensor out = pixels(augment(batch, config, generator), config);
    const torch::Tensor source = batch.to(torch::kFloat32) / 255.0;
    const torch::Tensor mirror = source.flip({3});
    // Bicubic weights at exact pixel centres are (0, 1, 0, 0): the copy is exact up to rounding.
    const torch::Tensor same = (out - source).abs().amax({1, 2, 3}).lt(1e-4);
    const torch::Tensor mirrored = (out - mirror).abs().amax({1, 2, 3}).lt(1e-4);
    CHECK(same.logical_or(mirrored).all().item<bool>());
    // Both outcomes occur (each misses with probability 2^-16 or less for this seed's batch).
    CHECK(same.logical_and(mirrored.logical_not()).any().item<bool>());
    CHECK(mirrored.logical_and(same.logical_not()).any().item<bool>());
  }
}

TEST_CASE("augment's crop is a bicubic resize of a sub-image", "[data]") {
  // A 14×14 crop of a 28×28 image, scaled ×2: away from the crop's border (where the taps of
  // grid_sample read the neighbouring pixels instead of repeating the crop's edge) the output
  // must equal an independent bicubic resize of one of the 15×15 possible sub-images.
  const torch::Tensor images = fashion_test_split().images.narrow(0, 100, 8);
  augment_config config = identity_config(28, 1);
  config.scale_min = config.scale_max = 0.25;
  at::Generator generator = seeded(21);
  const torch::Tensor out = pixels(augment(images, config, generator), config);
  const torch::Tensor source = images.to(torch::kFloat32) / 255.0;
  namespace F = torch::nn::functional;
  for (std::int64_t n = 0; n < images.size(0); ++n) {
    int matches = 0;
    for (std::int64_t top = 0; top <= 14; ++top) {
      for (std::int64_t left = 0; left <= 14; ++left) {
        const torch::Tensor crop = source.narrow(0, n, 1).narrow(2, top, 14).narrow(3, left, 14);
        const torch::Tensor resized =
            F::interpolate(crop, F::InterpolateFuncOptions()
                                     .size(std::vector<std::int64_t>{28, 28})
                                     .mode(torch::kBicubic)
                                     .align_corners(false))
                .clamp(0.0, 1.0);
        const torch::Tensor inner =
            (resized - out.narrow(0, n, 1)).narrow(2, 4, 20).narrow(3, 4, 20);
        matches += inner.abs().max().item<float>() < 1e-4F ? 1 : 0;
      }
    }
    CAPTURE(n);
    CHECK(matches == 1);
  }
}

TEST_CASE("augment changes the images, each step as specified", "[data]") {
  const torch::Tensor grey = fashion_test_split().images.narrow(0, 0, 64);
  const torch::Tensor rgb = rgb_images(16, 32, 11);

  SECTION("the reference recipe is not a no-op") {
    const augment_config config = spectral::trainer::fashion_mnist_view(0, 28);
    at::Generator generator = seeded(1);
    const torch::Tensor out = augment(grey, config, generator);
    const torch::Tensor plain = spectral::trainer::to_normalized(grey, config.mean, config.std);
    const torch::Tensor changed = (out - plain).abs().amax({1, 2, 3}).gt(0.5);
    CHECK(changed.to(torch::kFloat32).mean().item<float>() > 0.9F);
  }

  const augment_config identity = identity_config(32, 3);
  at::Generator base_generator = seeded(2);
  const torch::Tensor base = augment(rgb, identity, base_generator);
  CHECK(torch::allclose(base, rgb.to(torch::kFloat32) / 255.0, 0.0, 1e-4));

  SECTION("solarize inverts values from 128/255 up") {
    augment_config config = identity;
    config.solarize_p = 1.0;
    at::Generator generator = seeded(3);
    const torch::Tensor out = augment(rgb, config, generator);
    const torch::Tensor expected = torch::where(base >= 128.0 / 255.0, 1.0 - base, base);
    CHECK(torch::allclose(out, expected, 0.0, 1e-6));
    CHECK_FALSE(torch::allclose(out, base, 0.0, 1e-2));
  }
  SECTION("grayscale gives three equal luma channels") {
    augment_config config = identity;
    config.gray_p = 1.0;
    at::Generator generator = seeded(4);
    const torch::Tensor out = augment(rgb, config, generator);
    const torch::Tensor luma =
        0.2989 * base.select(1, 0) + 0.587 * base.select(1, 1) + 0.114 * base.select(1, 2);
    for (std::int64_t c = 0; c < 3; ++c) {
      CHECK(torch::allclose(out.select(1, c), luma, 0.0, 1e-5));
    }
  }
  SECTION("blur smooths and keeps the mean") {
    augment_config config = identity;
    config.blur_p = 1.0;
    at::Generator generator = seeded(5);
    const torch::Tensor out = augment(rgb, config, generator);
    const auto variation = [](const torch::Tensor& x) {
      return (x.narrow(3, 1, x.size(3) - 1) - x.narrow(3, 0, x.size(3) - 1)).abs().sum({1, 2, 3});
    };
    // σ near 0.1 is almost the identity, so only the batch as a whole must get clearly smoother.
    CHECK(variation(out).le(variation(base) * (1.0 + 1e-5)).all().item<bool>());
    CHECK(variation(out).sum().item<float>() < 0.9F * variation(base).sum().item<float>());
    CHECK(torch::allclose(out.mean({1, 2, 3}), base.mean({1, 2, 3}), 0.0, 1e-2));
  }
  SECTION("brightness scales each sample by one factor in [0.6, 1.4]") {
    augment_config config = identity;
    config.jitter_p = 1.0;
    config.contrast = config.saturation = config.hue = 0.0;
    at::Generator generator = seeded(6);
    const torch::Tensor out = augment(rgb, config, generator);
    for (std::int64_t n = 0; n < rgb.size(0); ++n) {
      const torch::Tensor keep = base[n].gt(0.1).logical_and(out[n].lt(0.999));
      const torch::Tensor ratio = out[n].masked_select(keep) / base[n].masked_select(keep);
      const float factor = ratio.mean().item<float>();
      CAPTURE(n, factor);
      CHECK(factor >= 0.6F - 1e-4F);
      CHECK(factor <= 1.4F + 1e-4F);
      CHECK((ratio - factor).abs().max().item<float>() < 1e-3F);
    }
    CHECK_FALSE(torch::allclose(out, base, 0.0, 1e-3));
  }
  SECTION("hue rotates colours and saturation keeps grey pixels grey") {
    augment_config config = identity;
    config.jitter_p = 1.0;
    config.brightness = config.contrast = 0.0;
    at::Generator generator = seeded(7);
    const torch::Tensor out = augment(rgb, config, generator);
    CHECK_FALSE(torch::allclose(out, base, 0.0, 1e-2));
    // A grey image has neither hue nor saturation to change (luma weights sum to 0.9999).
    const torch::Tensor grey_rgb =
        rgb.select(1, 0).unsqueeze(1).expand({-1, 3, -1, -1}).contiguous();
    at::Generator again = seeded(7);
    const torch::Tensor grey_out = augment(grey_rgb, config, again);
    CHECK(torch::allclose(grey_out, grey_rgb.to(torch::kFloat32) / 255.0, 0.0, 1e-4));
  }
}

TEST_CASE("HSV round trip and hue rotation", "[data]") {
  using namespace spectral::trainer::detail;
  at::Generator generator = seeded(8);
  const torch::Tensor rgb = torch::rand({4, 3, 8, 8}, generator);
  CHECK(torch::allclose(hsv_to_rgb(rgb_to_hsv(rgb)), rgb, 0.0, 1e-5));
  // Primary colours move a third of the circle per 1/3 shift: red → green → blue → red.
  const torch::Tensor red = torch::tensor({1.0F, 0.0F, 0.0F}).view({1, 3, 1, 1});
  const torch::Tensor third = torch::full({1}, 1.0F / 3.0F);
  const torch::Tensor green = adjust_hue(red, third);
  CHECK(torch::allclose(green, torch::tensor({0.0F, 1.0F, 0.0F}).view({1, 3, 1, 1}), 0.0, 1e-5));
  CHECK(torch::allclose(adjust_hue(green, third),
                        torch::tensor({0.0F, 0.0F, 1.0F}).view({1, 3, 1, 1}), 0.0, 1e-5));
  CHECK(torch::allclose(adjust_hue(red, torch::full({1}, -1.0F / 3.0F)),
                        torch::tensor({0.0F, 0.0F, 1.0F}).view({1, 3, 1, 1}), 0.0, 1e-5));
}

TEST_CASE("to_normalized and the view recipes", "[data]") {
  const torch::Tensor images = fashion_test_split().images.narrow(0, 0, 4);
  const torch::Tensor out = spectral::trainer::to_normalized(images, {0.2860}, {0.3530});
  REQUIRE(out.sizes() == images.sizes());
  REQUIRE(out.scalar_type() == torch::kFloat32);
  CHECK(torch::allclose(out.to(torch::kFloat64),
                        (images.to(torch::kFloat64) / 255.0 - 0.2860) / 0.3530, 1e-6, 1e-5));

  const augment_config view0 = spectral::trainer::fashion_mnist_view(0, 28);
  const augment_config view1 = spectral::trainer::fashion_mnist_view(1, 28);
  CHECK(view0.solarize_p == 0.0);
  CHECK(view1.solarize_p == 0.2);
  CHECK(view0.blur_p == 0.0);
  CHECK(view1.blur_p == 0.0);
  CHECK(view1.jitter_p == 0.8);
  CHECK(view1.gray_p == 0.2);
  CHECK(view1.flip_p == 0.5);
  CHECK(view1.mean == std::vector<double>{0.2860});
  CHECK(view1.std == std::vector<double>{0.3530});
  CHECK(spectral::trainer::cifar_view(1, 100).mean.size() == 3);
  CHECK(spectral::trainer::blur_kernel_size(28) == 3);
  CHECK(spectral::trainer::blur_kernel_size(224) == 23);
}

TEST_CASE("augment and to_normalized reject bad input", "[data]") {
  const torch::Tensor images = fashion_test_split().images.narrow(0, 0, 2);
  at::Generator generator = seeded(9);
  const augment_config good = spectral::trainer::fashion_mnist_view(0, 28);
  const auto message = [&](const augment_config& config, const torch::Tensor& batch) {
    return invalid_input_message([&] { (void)augment(batch, config, generator); });
  };

  CHECK_THAT(message(good, images.to(torch::kFloat32)), ContainsSubstring("uint8"));
  CHECK_THAT(message(good, images[0]), ContainsSubstring("dimensions"));
  CHECK_THAT(message(good, rgb_images(2, 8, 1)), ContainsSubstring("mean"));
  CHECK_THAT(message(good, torch::zeros({2, 2, 8, 8}, torch::kUInt8)),
             ContainsSubstring("channels"));
  augment_config bad = good;
  bad.flip_p = 1.5;
  CHECK_THAT(message(bad, images), ContainsSubstring("flip_p"));
  bad = good;
  bad.scale_min = 0.0;
  CHECK_THAT(message(bad, images), ContainsSubstring("scale"));
  bad = good;
  bad.hue = 0.7;
  CHECK_THAT(message(bad, images), ContainsSubstring("hue"));
  bad = good;
  bad.std = {0.0};
  CHECK_THAT(message(bad, images), ContainsSubstring("std[0]"));
  bad = good;
  bad.size = 0;
  CHECK_THAT(message(bad, images), ContainsSubstring("size"));
  CHECK_THAT(invalid_input_message([] { (void)spectral::trainer::fashion_mnist_view(2, 28); }),
             ContainsSubstring("view"));
  CHECK_THAT(invalid_input_message([&] {
               (void)spectral::trainer::to_normalized(images, {0.1, 0.2}, {0.3, 0.4});
             }),
             ContainsSubstring("mean"));

  // An empty batch is fine and still yields the requested shape.
  const torch::Tensor empty = augment(images.narrow(0, 0, 0), good, generator);
  CHECK(empty.sizes() == torch::IntArrayRef({0, 1, 28, 28}));
}

TEST_CASE("augment gives the same batch on CPU and CUDA", "[data][cuda]") {
  if (!torch::cuda::is_available()) {
    SKIP("no CUDA device");
  }
  const torch::Tensor rgb = rgb_images(32, 32, 12);
  augment_config config = spectral::trainer::cifar_view(1, 10);
  config.blur_p = 0.5;
  at::Generator on_cpu = seeded(13);
  at::Generator on_gpu = seeded(13);
  const torch::Tensor cpu = augment(rgb, config, on_cpu);
  const torch::Tensor gpu = augment(rgb.to(torch::kCUDA), config, on_gpu);
  REQUIRE(gpu.device().is_cuda());
  CHECK(torch::allclose(gpu.cpu(), cpu, 1e-4, 1e-3));
}
