// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Image data sets for the trainer as whole-split CPU tensors: Fashion-MNIST (gzip IDX, read with
/// examples/common/fashion_mnist.hpp) and CIFAR-10/100 (the "binary version" from a folder the
/// user downloaded). Every problem with a folder or a file throws spectral::invalid_input naming
/// the path and what is wrong.

#include <spectral/core/error.hpp>

#include <common/fashion_mnist.hpp>

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace spectral::trainer {

/// One split of a labelled image data set, held in CPU memory.
struct image_dataset {
  torch::Tensor images;  ///< uint8, N×C×H×W, contiguous, CPU
  torch::Tensor labels;  ///< int64, N, values in [0, classes)
  std::int64_t classes = 0;
  std::string name;  ///< e.g. "fashion-mnist/train", "cifar10/test"
};

/**
 * @brief Reads Fashion-MNIST's `train-*` or `t10k-*` pair of gzip IDX files from `folder`.
 * @param folder e.g. /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
 * @param train the 60000 training images, else the 10000 test images
 * @return images 1×28×28 per sample, 10 classes
 * @throws invalid_input for a missing folder or file, gzip errors, a wrong IDX magic, a size that
 *         does not match the header, images that are not 28×28, or a label above 9
 */
[[nodiscard]] image_dataset load_fashion_mnist(const std::filesystem::path& folder, bool train);

/**
 * @brief Reads the binary version of CIFAR-10 or CIFAR-100 from `folder` (or from its
 * `cifar-10-batches-bin` / `cifar-100-binary` subfolder, as the archives unpack).
 *
 * CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` (train) or `test_batch.bin`, records of one
 * label byte + 3072 pixel bytes. CIFAR-100: `train.bin` or `test.bin`, records of a coarse and a
 * fine label byte + 3072 pixel bytes; the fine label (100 classes) is used. Pixels are stored
 * channel-planar (1024 R, 1024 G, 1024 B, rows of 32), which is already C×H×W.
 * @param classes 10 or 100
 * @return images 3×32×32 per sample
 * @throws invalid_input for classes other than 10 or 100, a missing folder or file, a file that
 *         is empty, not a whole number of records or larger than max_cifar_file_records records
 *         (checked before it is read), or a label ≥ classes
 */
[[nodiscard]] image_dataset load_cifar(const std::filesystem::path& folder,
                                       int classes,
                                       bool train);

/// The most records one CIFAR file may hold: the whole data set has 60000 images (its files hold
/// 10000 or 50000), so a larger file is refused before it is read.
inline constexpr std::size_t max_cifar_file_records = 60000;

// --- implementation -----------------------------------------------------------------------------

namespace detail {

inline void expect_folder(const std::filesystem::path& folder, const char* what) {
  SPECTRAL_EXPECTS(std::filesystem::is_directory(folder), what, ": data folder ", folder.string(),
                   " does not exist or is not a directory");
}

/// Whole file as bytes; reading it in one go keeps the size check exact. The size is checked
/// against `max_bytes` before anything is allocated or read.
[[nodiscard]] inline std::vector<char> read_binary_file(const std::filesystem::path& path,
                                                        std::size_t max_bytes) {
  SPECTRAL_EXPECTS(std::filesystem::is_regular_file(path), path.string(), ": no such file");
  std::ifstream in(path, std::ios::binary);
  SPECTRAL_EXPECTS(in.good(), path.string(), ": cannot open");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  SPECTRAL_EXPECTS(size >= 0, path.string(), ": cannot determine its size");
  SPECTRAL_EXPECTS(static_cast<std::uintmax_t>(size) <= max_bytes, path.string(), ": ", size,
                   " bytes is more than the limit of ", max_bytes, " bytes");
  in.seekg(0, std::ios::beg);
  std::vector<char> bytes(static_cast<std::size_t>(size));
  in.read(bytes.data(), size);
  SPECTRAL_EXPECTS(in.gcount() == size, path.string(), ": read ", in.gcount(), " of ", size,
                   " bytes");
  return bytes;
}

}  // namespace detail

inline image_dataset load_fashion_mnist(const std::filesystem::path& folder, bool train) {
  detail::expect_folder(folder, "fashion-mnist");
  const std::string split = train ? "train" : "t10k";
  for (const char* kind : {"-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz"}) {
    const std::filesystem::path file = folder / (split + kind);
    SPECTRAL_EXPECTS(std::filesystem::is_regular_file(file), "fashion-mnist: no file ",
                     file.string(), " (expected the four *-ubyte.gz files in ", folder.string(),
                     ")");
  }
  const examples::fashion_mnist_split raw = examples::load_fashion_mnist(folder, split);
  const auto count = static_cast<std::int64_t>(raw.images.count);
  const auto rows = static_cast<std::int64_t>(raw.images.rows);
  const auto cols = static_cast<std::int64_t>(raw.images.cols);

  image_dataset out;
  out.images = torch::empty({count, 1, rows, cols}, torch::kUInt8);
  std::memcpy(out.images.data_ptr<std::uint8_t>(), raw.images.pixels.data(),
              raw.images.pixels.size());
  out.labels = torch::empty({count}, torch::kInt64);
  auto* labels = out.labels.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < raw.labels.size(); ++i) {
    labels[i] = std::int64_t{raw.labels[i]};
  }
  out.classes = 10;
  out.name = "fashion-mnist/" + std::string(train ? "train" : "test");
  return out;
}

inline image_dataset load_cifar(const std::filesystem::path& folder, int classes, bool train) {
  SPECTRAL_EXPECTS(classes == 10 || classes == 100, "classes: CIFAR has 10 or 100, got ", classes);
  const std::string name = classes == 10 ? "cifar10" : "cifar100";
  detail::expect_folder(folder, name.c_str());

  std::vector<std::string> files;
  if (classes == 10) {
    if (train) {
      for (int b = 1; b <= 5; ++b) {
        files.push_back("data_batch_" + std::to_string(b) + ".bin");
      }
    } else {
      files.emplace_back("test_batch.bin");
    }
  } else {
    files.emplace_back(train ? "train.bin" : "test.bin");
  }
  // Accept the folder the archive unpacks to as well as the folder above it.
  std::filesystem::path root = folder;
  const std::filesystem::path unpacked =
      folder / (classes == 10 ? "cifar-10-batches-bin" : "cifar-100-binary");
  if (!std::filesystem::is_regular_file(root / files.front()) &&
      std::filesystem::is_regular_file(unpacked / files.front())) {
    root = unpacked;
  }

  constexpr std::size_t pixels = 3 * 32 * 32;
  const std::size_t label_bytes = classes == 10 ? 1 : 2;
  const std::size_t record = label_bytes + pixels;

  std::vector<std::vector<char>> contents;
  std::size_t total = 0;
  for (const std::string& file : files) {
    const std::filesystem::path path = root / file;
    SPECTRAL_EXPECTS(std::filesystem::is_regular_file(path), name, ": no file ", path.string(),
                     " (expected the binary version of ", name, " in ", folder.string(), ")");
    contents.push_back(detail::read_binary_file(path, max_cifar_file_records * record));
    const std::size_t size = contents.back().size();
    SPECTRAL_EXPECTS(size > 0 && size % record == 0, path.string(), ": ", size,
                     " bytes is not a whole number of ", record, "-byte ", name,
                     " records (truncated or not a ", name, " binary file)");
    total += size / record;
  }

  image_dataset out;
  const auto count = static_cast<std::int64_t>(total);
  out.images = torch::empty({count, 3, 32, 32}, torch::kUInt8);
  out.labels = torch::empty({count}, torch::kInt64);
  auto* images = out.images.data_ptr<std::uint8_t>();
  auto* labels = out.labels.data_ptr<std::int64_t>();
  std::size_t n = 0;
  for (std::size_t f = 0; f < contents.size(); ++f) {
    const std::vector<char>& bytes = contents[f];
    for (std::size_t offset = 0; offset < bytes.size(); offset += record, ++n) {
      // CIFAR-100 stores (coarse, fine); the fine label is the 100-class one.
      const auto label = static_cast<std::uint8_t>(bytes[offset + label_bytes - 1]);
      SPECTRAL_EXPECTS(label < classes, (root / files[f]).string(), ": label ", int{label},
                       " of record ", offset / record, " is not a class 0-", classes - 1);
      labels[n] = std::int64_t{label};
      std::memcpy(images + n * pixels, bytes.data() + offset + label_bytes, pixels);
    }
  }
  out.classes = classes;
  out.name = name + (train ? "/train" : "/test");
  return out;
}

}  // namespace spectral::trainer
