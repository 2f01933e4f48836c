// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The ImageFolder loader: a worker pool decodes each file's views (data/jpeg_decode.hpp) into
/// uint8 batches held in a bounded prefetch queue; the remaining augmentations run batched on
/// the device (data/augment.hpp). Batches are assembled in the epoch's permutation order and
/// every random number of a sample comes from its own seed (data/crop_sampling.hpp), so a batch
/// does not depend on the number of threads or their timing. Files that do not decode are
/// skipped and counted; the batch is filled with the next files of the permutation.

#include "data/crop_sampling.hpp"
#include "data/image_folder.hpp"
#include "data/resample.hpp"

#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace spectral::trainer {

/// Loader settings; the defaults are the crop of docs/trainer.md#imagenet-pretraining at batch 256.
struct image_folder_loader_options {
  std::int64_t batch_size = 256;
  std::int64_t image_size = 224;
  double scale_min = 0.08, scale_max = 1.0;
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;
  crop_filter filter = crop_filter::bicubic;
  int threads = 4;            ///< decoding threads
  std::int64_t prefetch = 4;  ///< finished batches held in the queue
  std::uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;    ///< else the last, smaller batch is returned too
  bool pin_memory = false;  ///< page-locked batches, when CUDA is available
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
  torch::Tensor images;              ///< uint8, N×3×S×S: views[0]
  std::vector<torch::Tensor> views;  ///< one uint8 N×3×S_v×S_v tensor per view
  torch::Tensor labels;              ///< int64, N
  torch::Tensor indices;             ///< int64, N: positions in image_folder::files
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
  std::condition_variable work_cv_;   // workers: a position became claimable, or stop
  std::condition_variable ready_cv_;  // assembler: a slot was filled, or stop
  std::condition_variable queue_cv_;  // consumer and assembler: queue changed, or stop
  std::vector<std::thread> threads_;
  std::vector<std::int64_t> order_;  // file index at each position of the epoch
  std::vector<slot> slots_;          // ring of decoded samples, position % size
  std::deque<image_folder_batch> queue_;
  std::exception_ptr error_;
  std::int64_t epoch_ = -1;
  std::int64_t next_position_ = 0;  // next position a worker claims
  std::int64_t assembled_ = 0;      // positions the assembler has consumed
  std::int64_t skipped_epoch_ = 0;
  bool stop_ = false;
  bool finished_ = false;  // the assembler pushed its last batch
};

}  // namespace spectral::trainer
