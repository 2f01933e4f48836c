// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

#include "data/image_folder_loader.hpp"

#include "data/jpeg_decode.hpp"

#include <spectral/core/error.hpp>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

namespace spectral::trainer {

image_folder_loader::image_folder_loader(image_folder folder, image_folder_loader_options options)
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

image_folder_loader::~image_folder_loader() { stop_epoch(); }

std::int64_t image_folder_loader::batches_per_epoch() const {
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

void image_folder_loader::stop_epoch() {
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

void image_folder_loader::start_epoch(std::int64_t epoch) {
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
    const std::int64_t window =
        std::min<std::int64_t>(static_cast<std::int64_t>(order_.size()),
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

void image_folder_loader::worker_loop() {
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

torch::Tensor image_folder_loader::new_images(std::int64_t n, std::int64_t s) const {
  auto opts = torch::TensorOptions().dtype(torch::kUInt8);
  if (options_.pin_memory && torch::cuda::is_available()) {
    opts = opts.pinned_memory(true);
  }
  return torch::empty({n, 3, s, s}, opts);
}

void image_folder_loader::assembler_loop() {
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
          SPECTRAL_EXPECTS(
              2 * skipped_epoch_ <= n, "image folder ", folder_.root.string(),
              ": more than half of its ", n, " files do not decode as JPEG (last: ",
              folder_.files[static_cast<std::size_t>(order_[static_cast<std::size_t>(position)])]
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

std::optional<image_folder_batch> image_folder_loader::next() {
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
