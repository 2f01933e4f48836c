// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// What a hostile input may cost the trainer's data readers: a gzip IDX file that inflates past
// its header, a header announcing more than the limit, an oversized CIFAR or split file, a JPEG
// announcing an enormous image, an oversized image file, and link loops in an ImageFolder. Each
// is refused (or skipped and counted) before the memory it asks for is allocated; the large
// files are sparse, so the tests stay cheap.

// clang-format off

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "common/invalid_input_message.hpp"
#include "common/temp_folder.hpp"
#include "trainer/jpeg_files.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <data/center_crop.hpp>
#include <data/datasets.hpp>
#include <data/image_folder.hpp>
#include <data/image_folder_loader.hpp>
#include <data/jpeg_decode.hpp>
#include <data/split_file.hpp>
// clang-format on

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::ContainsSubstring;
using spectral_test::encode_jpeg;
using spectral_test::with_announced_size;
using spectral_test::write_bytes;

using spectral_test::temp_folder;

using spectral_test::invalid_input_message;

std::vector<unsigned char> seeded_bytes(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<unsigned char> out(n);
  for (unsigned char& b : out) {
    b = static_cast<unsigned char>(rng() >> 56U);
  }
  return out;
}

/// An IDX header: the magic number and the dimensions, big-endian.
std::vector<unsigned char> idx_header(std::uint32_t magic, const std::vector<std::uint32_t>& dims) {
  std::vector<std::uint32_t> words{magic};
  words.insert(words.end(), dims.begin(), dims.end());
  std::vector<unsigned char> out;
  for (const std::uint32_t word : words) {
    for (unsigned shift = 32; shift > 0; shift -= 8) {
      out.push_back(static_cast<unsigned char>((word >> (shift - 8)) & 0xFFU));
    }
  }
  return out;
}

/// `bytes` gzip-compressed (zlib's default level), as gzip(1) would write them.
std::vector<unsigned char> gzip_bytes(const std::vector<unsigned char>& bytes) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  std::vector<unsigned char> out(deflateBound(&z, static_cast<uLong>(bytes.size())));
  z.next_in = const_cast<unsigned char*>(bytes.data());
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  return out;
}

/// A small valid RGB JPEG with smooth seeded content.
std::vector<unsigned char> small_jpeg(int width, int height, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width * height * 3));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        rgb[static_cast<std::size_t>((y * width + x) * 3 + c)] = static_cast<std::uint8_t>(
            (x * (3 + c) + y * (5 - c) + static_cast<int>(rng() % 24U)) % 256);
      }
    }
  }
  return encode_jpeg(rgb, width, height);
}

/// A file of `size` bytes that starts with `head` and is otherwise a hole (no disk, no memory).
void write_sparse(const fs::path& path,
                  const std::vector<unsigned char>& head,
                  std::uintmax_t size) {
  write_bytes(path, head);
  fs::resize_file(path, size);
  REQUIRE(fs::file_size(path) == size);
}

}  // namespace

// --- gzip IDX ------------------------------------------------------------------------------------

TEST_CASE("read_idx: a header announcing more than the limit is refused unread", "[limits]") {
  temp_folder tmp;
  const fs::path file = tmp.path / "train-images-idx3-ubyte.gz";
  // 3 × 65536 × 65536 bytes (12 GiB), and three 32-bit sizes whose product overflows 64 bits.
  for (const std::vector<std::uint32_t>& dims :
       {std::vector<std::uint32_t>{3, 65536, 65536},
        std::vector<std::uint32_t>{0xFFFFFFFFU, 0xFFFFFFFFU, 0xFFFFFFFFU}}) {
    std::vector<unsigned char> raw = idx_header(0x803, dims);
    const std::vector<unsigned char> payload = seeded_bytes(4096, dims[0]);
    raw.insert(raw.end(), payload.begin(), payload.end());
    write_bytes(file, gzip_bytes(raw));
    const std::string message =
        invalid_input_message([&] { (void)spectral::examples::read_idx_images(file); });
    CHECK_THAT(message, ContainsSubstring(file.string()));
    CHECK_THAT(message, ContainsSubstring("more than the limit of"));
  }
}

TEST_CASE("read_idx: inflating stops at the first byte past the announced size", "[limits]") {
  temp_folder tmp;
  const fs::path file = tmp.path / "t10k-images-idx3-ubyte.gz";
  // Two 28×28 images announced, then 16 MiB of zeros (a few kB compressed), the end of the
  // stream cut off. A reader that inflates everything first meets the cut and reports a corrupt
  // stream; one that stops where the header says reports the extra data.
  std::vector<unsigned char> raw = idx_header(0x803, {2, 28, 28});
  const std::vector<unsigned char> images = seeded_bytes(2 * 28 * 28, 5);
  raw.insert(raw.end(), images.begin(), images.end());
  raw.resize(raw.size() + (std::size_t{16} << 20), 0);
  const std::vector<unsigned char> compressed = gzip_bytes(raw);
  REQUIRE(compressed.size() < (std::size_t{64} << 10));
  write_bytes(file, {compressed.begin(),
                     compressed.begin() + static_cast<std::ptrdiff_t>(compressed.size() * 3 / 4)});
  const std::string message =
      invalid_input_message([&] { (void)spectral::examples::read_idx_images(file); });
  CHECK_THAT(message, ContainsSubstring(file.string()));
  CHECK_THAT(message, ContainsSubstring("trailing bytes after the 1568 announced"));

  // The whole stream: read_gzip_file stops at its limit rather than at the end of the data.
  write_bytes(file, compressed);
  const std::string limited = invalid_input_message(
      [&] { (void)spectral::examples::read_gzip_file(file, std::size_t{1} << 20); });
  CHECK_THAT(limited, ContainsSubstring(file.string()));
  CHECK_THAT(limited, ContainsSubstring("limit of 1048576 bytes"));
  // Within its limit it reads everything.
  CHECK(spectral::examples::read_gzip_file(file, raw.size()).size() == raw.size());
}

TEST_CASE("read_idx: a file that matches its header is read", "[limits]") {
  temp_folder tmp;
  const fs::path file = tmp.path / "labels.gz";
  std::vector<unsigned char> raw = idx_header(0x801, {300});
  const std::vector<unsigned char> labels = seeded_bytes(300, 9);
  raw.insert(raw.end(), labels.begin(), labels.end());
  write_bytes(file, gzip_bytes(raw));
  CHECK(spectral::examples::read_idx_labels(file) == labels);
}

// --- CIFAR ---------------------------------------------------------------------------------------

TEST_CASE("load_cifar: a file larger than the whole data set is refused unread", "[limits]") {
  temp_folder tmp;
  const fs::path file = tmp.path / "test_batch.bin";
  constexpr std::uintmax_t record = 1 + 3 * 32 * 32;
  // Whole records with valid labels (7, then zeros): only the size can refuse it.
  std::vector<unsigned char> head = seeded_bytes(record, 3);
  head[0] = 7;
  write_sparse(file, head, (spectral::trainer::max_cifar_file_records + 1) * record);
  const std::string message =
      invalid_input_message([&] { (void)spectral::trainer::load_cifar(tmp.path, 10, false); });
  CHECK_THAT(message, ContainsSubstring(file.string()));
  CHECK_THAT(message, ContainsSubstring("more than the limit of"));
}

// --- split files ---------------------------------------------------------------------------------

TEST_CASE("read_split_file: a file over the size limit is refused", "[limits]") {
  temp_folder tmp;
  const fs::path file = tmp.path / "1percent.txt";
  const std::string line = "n01440764_10026.JPEG\n";
  write_sparse(file, {line.begin(), line.end()}, spectral::trainer::max_split_file_bytes + 1);
  const std::string message =
      invalid_input_message([&] { (void)spectral::trainer::read_split_file(file); });
  CHECK_THAT(message, ContainsSubstring(file.string()));
  CHECK_THAT(message, ContainsSubstring("more than the limit of"));
  // A small one is read.
  write_bytes(file, {line.begin(), line.end()});
  CHECK(spectral::trainer::read_split_file(file) ==
        std::vector<std::string>{"n01440764_10026.JPEG"});
}

// --- JPEG images ---------------------------------------------------------------------------------

TEST_CASE("decoders: an image announced over the size limits is not decoded", "[limits]") {
  using spectral::trainer::max_image_pixels;
  using spectral::trainer::max_image_side;
  const std::vector<unsigned char> jpeg = small_jpeg(48, 40, 21);
  const spectral::trainer::center_crop_options center{36, 32,
                                                      spectral::trainer::crop_filter::bilinear};
  const auto decodes = [&](const std::vector<unsigned char>& bytes) {
    std::mt19937_64 rng(4);
    const bool crop =
        spectral::trainer::decode_random_resized_crop(bytes, 32, 0.08, 1.0, 0.75, 4.0 / 3.0, rng)
            .has_value();
    const bool centre = spectral::trainer::decode_center_crop(bytes, center).has_value();
    CHECK(crop == centre);
    return crop && centre;
  };
  // The patched header alone decides: within the limits the same data still decode (the
  // missing scan lines are padded, as for a truncated file).
  REQUIRE(decodes(jpeg));
  REQUIRE(decodes(with_announced_size(jpeg, 2048, 1024)));
  REQUIRE(decodes(with_announced_size(jpeg, max_image_side, 64)));
  // A side over the limit, and sides within it whose product is over the pixel limit.
  CHECK_FALSE(decodes(with_announced_size(jpeg, max_image_side + 1, 64)));
  CHECK_FALSE(decodes(with_announced_size(jpeg, 40, max_image_side + 1)));
  static_assert(std::int64_t{12000} * 12000 > max_image_pixels);
  CHECK_FALSE(decodes(with_announced_size(jpeg, 12000, 12000)));
}

TEST_CASE("image_folder_loader: oversized files and images are skipped and counted", "[limits]") {
  temp_folder tmp;
  const fs::path root = tmp.path / "train";
  const char* const classes[2] = {"c0", "c1"};
  const char* const names[3] = {"img_0.JPEG", "img_1.JPEG", "img_2.JPEG"};
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < 3; ++i) {
      write_bytes(root / classes[c] / names[i],
                  small_jpeg(40 + 8 * i, 32 + 4 * c, static_cast<std::uint64_t>(10 * c + i)));
    }
  }
  // A valid JPEG followed by a hole up to one byte over the file limit (a decoder stops at the
  // image's end marker, so only the size makes it bad), and a JPEG announcing 16385 × 64.
  const fs::path big_file = root / "c0" / "z_big_file.JPEG";
  write_sparse(big_file, small_jpeg(40, 32, 77), spectral::trainer::max_image_file_bytes + 1);
  CHECK_FALSE(spectral::trainer::detail::try_read_file(big_file).has_value());
  CHECK(spectral::trainer::detail::try_read_file(big_file,
                                                 spectral::trainer::max_image_file_bytes + 1)
            .has_value());
  const fs::path big_image = root / "c1" / "z_big_image.JPEG";
  write_bytes(big_image, with_announced_size(small_jpeg(40, 32, 78),
                                             spectral::trainer::max_image_side + 1, 64));

  const spectral::trainer::image_folder folder = spectral::trainer::scan_image_folder(root);
  REQUIRE(folder.files.size() == 8);
  spectral::trainer::image_folder_loader_options options;
  options.batch_size = 2;
  options.image_size = 16;
  options.threads = 2;
  options.seed = 3;
  options.drop_last = false;
  spectral::trainer::image_folder_loader loader(folder, options);
  loader.start_epoch(0);
  std::int64_t images = 0;
  while (const auto batch = loader.next()) {
    images += batch->images.size(0);
    CHECK(batch->images.to(torch::kFloat32).std().item<double>() > 1.0);
  }
  CHECK(images == 6);
  CHECK(loader.skipped() == 2);

  const auto crops = spectral::trainer::decode_center_crops(
      folder, 0, static_cast<std::int64_t>(folder.files.size()),
      spectral::trainer::center_crop_for(16), 2);
  CHECK(crops.images.size(0) == 6);
  CHECK(crops.skipped == std::vector<fs::path>{big_file, big_image});
}

// --- ImageFolder scan ----------------------------------------------------------------------------

TEST_CASE("scan_image_folder: link loops and dangling links are skipped", "[limits]") {
  temp_folder tmp;
  const fs::path root = tmp.path / "train";
  write_bytes(root / "a" / "one.JPEG", small_jpeg(24, 16, 1));
  write_bytes(root / "a" / "two.jpg", small_jpeg(16, 24, 2));
  write_bytes(root / "b" / "three.jpeg", small_jpeg(20, 20, 3));
  // In a class folder: a link to itself, a dangling link, a link to a good file (kept).
  fs::create_symlink("loop.JPEG", root / "b" / "loop.JPEG");
  fs::create_symlink("missing.JPEG", root / "b" / "gone.JPEG");
  fs::create_symlink("three.jpeg", root / "b" / "four.JPEG");
  // At the class level: a link to itself, a dangling one, and one back up to the root (a
  // directory loop: it is one more class, listed once, and nothing below it is entered).
  fs::create_symlink("self", root / "self");
  fs::create_symlink("nowhere", root / "ghost");
  fs::create_symlink(".", root / "up");
  fs::create_symlink("..", root / "a" / "back");

  const spectral::trainer::image_folder folder = spectral::trainer::scan_image_folder(root);
  CHECK(folder.classes == std::vector<std::string>{"a", "b", "up"});
  std::vector<std::string> names;
  for (const fs::path& file : folder.files) {
    names.push_back(file.parent_path().filename().string() + "/" + file.filename().string());
  }
  CHECK(names ==
        std::vector<std::string>{"a/one.JPEG", "a/two.jpg", "b/four.JPEG", "b/three.jpeg"});
  CHECK(folder.labels == std::vector<std::int64_t>{0, 0, 1, 1});
}
