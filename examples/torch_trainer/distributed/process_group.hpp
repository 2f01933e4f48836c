// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Multi-process training on torch's c10d: a process group over a TCPStore (rank 0 serves it)
/// or a FileStore, with the three collectives DDP-style training needs (gradient averaging,
/// initial parameter broadcast, barrier) and an all-gather for the global-batch ST
/// (docs/math.md#distributed-gather, distributed/gather.hpp). world_size 1 creates no c10d object
/// and every call is a no-op.
///
/// Needs the Gloo headers (Debian: libgloo-dev) next to LibTorch's c10d headers; without them
/// (or without USE_C10D_GLOO) only world_size 1 is available and anything larger throws.

#include <spectral/spectral.hpp>

#include <c10/util/Logging.h>
#include <torch/types.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if defined(USE_C10D_GLOO) && __has_include(<gloo/context.h>)
#define SPECTRAL_TRAINER_HAS_GLOO 1
#else
#define SPECTRAL_TRAINER_HAS_GLOO 0
#endif
#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#define SPECTRAL_TRAINER_HAS_NCCL 1
#else
#define SPECTRAL_TRAINER_HAS_NCCL 0
#endif
#define SPECTRAL_TRAINER_HAS_C10D (SPECTRAL_TRAINER_HAS_GLOO || SPECTRAL_TRAINER_HAS_NCCL)

#if SPECTRAL_TRAINER_HAS_C10D
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if SPECTRAL_TRAINER_HAS_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if SPECTRAL_TRAINER_HAS_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace spectral::trainer {

/// Where this process sits in the job and how the ranks meet.
struct dist_config {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string backend = "gloo";  ///< "gloo" (CPU tensors) or "nccl" (CUDA tensors, LibTorch 2.x)
  std::string file_store{};      ///< non-empty: rendezvous through this file instead of TCP
  int rendezvous_timeout_seconds = 300;  ///< start-up: every rank must have joined by then
  int timeout_seconds = 300;             ///< every collective after start-up
  std::ostream* log = nullptr;           ///< non-null: told what start-up waits for, at once
};

/// Start-up of a process group failed: a rank did not arrive (or could not be reached) in time.
class rendezvous_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

#if SPECTRAL_TRAINER_HAS_C10D
namespace detail {

/// Mutes LibTorch's own log (glog or c10's) while any instance lives: c10d logs every failed
/// connection attempt of the rendezvous, which the one-line rendezvous_error already reports.
/// Counted, so ranks joining from several threads of one process restore the level once.
class quiet_torch_log {
 public:
  quiet_torch_log() {
    const std::lock_guard<std::mutex> lock(state().mutex);
    if (state().users++ == 0) {
      state().saved = level();
      level() = fatal;
    }
  }
  ~quiet_torch_log() {
    const std::lock_guard<std::mutex> lock(state().mutex);
    if (--state().users == 0) {
      level() = state().saved;
    }
  }
  quiet_torch_log(const quiet_torch_log&) = delete;
  quiet_torch_log& operator=(const quiet_torch_log&) = delete;

 private:
#ifdef C10_USE_GLOG
  static constexpr int fatal = google::GLOG_FATAL;
  static decltype(FLAGS_minloglevel)& level() noexcept { return FLAGS_minloglevel; }
#else
  static constexpr int fatal = 3;  // c10's FATAL
  static decltype(FLAGS_caffe2_log_level)& level() noexcept { return FLAGS_caffe2_log_level; }
#endif
  struct shared {
    std::mutex mutex;
    int users = 0;
    int saved = 0;
  };
  static shared& state() {
    static shared s;
    return s;
  }
};

// The only LibTorch-version-specific code of the distributed layer (move to compat.hpp):
// in 1.13 the concrete groups (ProcessGroupGloo, ProcessGroupNCCL) derive from c10d::ProcessGroup;
// from 2.0 they derive from c10d::Backend and c10d::ProcessGroup became a dispatching wrapper
// around backends. Both bases declare the same virtual broadcast/allreduce/allgather/barrier, so
// holding the concrete group through this alias keeps every call site version-neutral.
#if TORCH_VERSION_MAJOR >= 2
using c10d_group = c10d::Backend;
#else
using c10d_group = c10d::ProcessGroup;
#endif

inline c10::intrusive_ptr<c10d_group> make_c10d_group(const c10::intrusive_ptr<c10d::Store>& store,
                                                      const dist_config& c,
                                                      std::chrono::milliseconds timeout) {
#if SPECTRAL_TRAINER_HAS_GLOO
  if (c.backend == "gloo") {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Bind where the peers can reach us: an explicit interface, loopback for a one-machine job
    // (hostname resolution is unreliable in containers), else the hostname's address.
    if (const char* iface = std::getenv("GLOO_SOCKET_IFNAME"); iface != nullptr && *iface != 0) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
    } else if (c.master_addr == "localhost" || c.master_addr.rfind("127.", 0) == 0) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(c.master_addr));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 2;
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, c.rank, c.world_size, options);
  }
#endif
#if SPECTRAL_TRAINER_HAS_NCCL
  if (c.backend == "nccl") {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, c.rank, c.world_size, options);
  }
#endif
  SPECTRAL_EXPECTS(false, "--backend: '", c.backend, "' is not available in this LibTorch build");
  return {};
}

}  // namespace detail
#endif

/**
 * @brief This process's membership of a c10d process group (or of a one-process "group").
 *
 * Construction blocks until all world_size ranks have joined, at most the rendezvous timeout,
 * first telling c.log what it waits for. Every collective must be called by every rank in the
 * same order with tensors of the same shapes (c10d's contract).
 * @throws spectral::invalid_input for a bad rank/size/port/backend/timeout, or world_size > 1 in
 *         a build without c10d backends; rendezvous_error (one line, naming the rank, the address
 *         and what did not arrive) when start-up fails or times out; c10::Error when a later
 *         collective fails or times out.
 */
class distributed {
 public:
  /// The single-process instance: rank 0 of 1, no c10d objects.
  distributed() = default;

  explicit distributed(const dist_config& c)
      : rank_(c.rank), world_size_(c.world_size), counters_on_cuda_(c.backend == "nccl") {
    SPECTRAL_EXPECTS(c.world_size >= 1, "--world-size: must be >= 1, got ", c.world_size);
    SPECTRAL_EXPECTS(c.rank >= 0 && c.rank < c.world_size, "--rank: must be in [0, ", c.world_size,
                     "), got ", c.rank);
    if (c.world_size == 1) {
      return;
    }
#if SPECTRAL_TRAINER_HAS_C10D
    SPECTRAL_EXPECTS(c.master_port > 0 && c.master_port < 65536,
                     "--master-port: must be in [1, 65535], got ", c.master_port);
    SPECTRAL_EXPECTS(c.rendezvous_timeout_seconds > 0, "--rendezvous-timeout: must be > 0 s, got ",
                     c.rendezvous_timeout_seconds);
    SPECTRAL_EXPECTS(c.timeout_seconds > 0, "timeout: must be > 0 s, got ", c.timeout_seconds);
    const std::chrono::milliseconds start_timeout{std::int64_t{c.rendezvous_timeout_seconds} *
                                                  1000};
    const std::chrono::milliseconds timeout{std::int64_t{c.timeout_seconds} * 1000};
    const std::string where = c.file_store.empty()
                                  ? c.master_addr + ":" + std::to_string(c.master_port)
                                  : "the file store " + c.file_store;
    const std::string waiting = c.rank == 0 ? "the other " + std::to_string(c.world_size - 1) +
                                                  " rank(s) to join at " + where
                                            : "rank 0 to serve the rendezvous at " + where;
    if (c.log != nullptr) {  // the only word before a wait of up to the whole timeout
      *c.log << "rendezvous: rank " << c.rank << " of " << c.world_size << " waiting up to "
             << c.rendezvous_timeout_seconds << " s (--rendezvous-timeout) for " << waiting
             << std::endl;
    }
    const auto fail = [&](const std::string& why) {
      return rendezvous_error(
          "rendezvous: rank " + std::to_string(c.rank) + " of " + std::to_string(c.world_size) +
          " gave up after " + std::to_string(c.rendezvous_timeout_seconds) +
          " s (--rendezvous-timeout) waiting for " + waiting + " (c10d: " + first_line(why) + ")");
    };
    const auto start = std::chrono::steady_clock::now();
    c10::intrusive_ptr<c10d::Store> store;
    try {
      const detail::quiet_torch_log quiet;
      if (!c.file_store.empty()) {
        store = c10::make_intrusive<c10d::FileStore>(c.file_store, c.world_size);
      } else {
        c10d::TCPStoreOptions opts;
        opts.port = static_cast<std::uint16_t>(c.master_port);
        opts.isServer = c.rank == 0;
        opts.numWorkers = static_cast<std::size_t>(c.world_size);
        // Not the store's own wait for workers: it gives up silently and the process group's
        // rendezvous then waits as long as a collective. The check-in below fails instead.
        opts.waitWorkers = false;
        opts.timeout = start_timeout;  // a client retries connecting for this long
        store = c10::make_intrusive<c10d::TCPStore>(c.master_addr, opts);
      }
      // Every rank checks in; the last one opens the gate every rank waits for, within what is
      // left of the rendezvous timeout.
      const auto left =
          std::max(std::chrono::milliseconds{1000},
                   start_timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - start));
      store->setTimeout(left);
      if (store->add("spectral/rendezvous/joined", 1) == c.world_size) {
        store->set("spectral/rendezvous/complete", std::vector<std::uint8_t>{1});
      }
      store->wait({"spectral/rendezvous/complete"}, left);
    } catch (const c10::Error& e) {
      throw fail(e.what_without_backtrace());
    } catch (const invalid_input&) {
      throw;
    } catch (const std::exception& e) {
      throw fail(e.what());
    }
    // Every rank is there: the process group's own connections follow at once.
    store->setTimeout(timeout);
    group_ = detail::make_c10d_group(store, c, timeout);
#else
    SPECTRAL_EXPECTS(false, "--world-size ", c.world_size,
                     ": this build has no c10d backend (LibTorch without USE_C10D_GLOO, or the "
                     "Gloo headers, Debian libgloo-dev, were missing at compile time)");
#endif
  }

  [[nodiscard]] int rank() const noexcept { return rank_; }
  [[nodiscard]] int world_size() const noexcept { return world_size_; }

  /// grads ← (Σ_ranks grads) / world_size, in place (DDP's gradient averaging). Undefined
  /// tensors (parameters without a gradient) are skipped; all defined ones must share one dtype
  /// and device, as one flat buffer is reduced (one collective instead of one per parameter).
  void all_reduce_mean_(std::vector<torch::Tensor>& grads) {
    if (world_size_ == 1) {
      return;
    }
    auto flat = flatten(grads, "grads");
    if (!flat.defined()) {
      return;
    }
    all_reduce_sum_(flat);
    flat.div_(world_size_);
    unflatten(flat, grads);
  }

  /// tensors ← root's tensors, in place (initial parameter/buffer sync).
  void broadcast_(std::vector<torch::Tensor>& tensors, int root = 0) {
    SPECTRAL_EXPECTS(root >= 0 && root < world_size_, "root: must be in [0, ", world_size_,
                     "), got ", root);
    if (world_size_ == 1) {
      return;
    }
    auto flat = flatten(tensors, "tensors");
    if (!flat.defined()) {
      return;
    }
#if SPECTRAL_TRAINER_HAS_C10D
    std::vector<torch::Tensor> io{flat};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    group_->broadcast(io, opts)->wait();
#endif
    unflatten(flat, tensors);
  }

  /// Blocks until every rank has reached it.
  void barrier() {
#if SPECTRAL_TRAINER_HAS_C10D
    if (world_size_ > 1) {
      group_->barrier()->wait();
    }
#endif
  }

  /// t ← Σ_ranks t, in place; t contiguous (used by gather's backward).
  void all_reduce_sum_(torch::Tensor& t) {
#if SPECTRAL_TRAINER_HAS_C10D
    if (world_size_ > 1) {
      std::vector<torch::Tensor> io{t};
      group_->allreduce(io)->wait();  // AllreduceOptions' default op is SUM
    }
#else
    (void)t;
#endif
  }

  /// Whether `value` is true on every rank (one small all-reduce; every rank gets the answer).
  /// Keeps the ranks in lockstep when one of them may run out of data first.
  [[nodiscard]] bool all_true(bool value) {
    if (world_size_ == 1) {
      return value;
    }
    const std::int64_t mine = value ? 1 : 0;
    torch::Tensor count = torch::tensor({mine}, torch::kInt64).to(counter_device());
    all_reduce_sum_(count);
    return count.item<std::int64_t>() == world_size_;
  }

  /// Σ_ranks value (counters such as skipped files).
  [[nodiscard]] std::int64_t sum(std::int64_t value) {
    if (world_size_ == 1) {
      return value;
    }
    torch::Tensor total = torch::tensor({value}, torch::kInt64).to(counter_device());
    all_reduce_sum_(total);
    return total.item<std::int64_t>();
  }

  /// Every rank's `local` (same shape, dtype and device everywhere), in rank order.
  [[nodiscard]] std::vector<torch::Tensor> all_gather(const torch::Tensor& local) {
    if (world_size_ == 1) {
      return {local};
    }
    std::vector<torch::Tensor> outputs;
#if SPECTRAL_TRAINER_HAS_C10D
    std::vector<torch::Tensor> input{local.contiguous()};
    std::vector<std::vector<torch::Tensor>> out(1);
    for (int r = 0; r < world_size_; ++r) {
      out[0].push_back(torch::empty_like(input[0]));
    }
    group_->allgather(out, input)->wait();
    outputs = std::move(out[0]);
#endif
    return outputs;
  }

 private:
  // NCCL reduces CUDA tensors only; Gloo takes CPU tensors.
  [[nodiscard]] torch::Device counter_device() const {
    return counters_on_cuda_ ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  }

  // c10d's messages run over several lines; an error here is one line.
  [[nodiscard]] static std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
  }

  // One contiguous buffer of all defined tensors (undefined: none defined).
  static torch::Tensor flatten(const std::vector<torch::Tensor>& ts, const char* what) {
    std::vector<torch::Tensor> parts;
    for (const auto& t : ts) {
      if (!t.defined()) {
        continue;
      }
      if (!parts.empty()) {
        SPECTRAL_EXPECTS(
            t.scalar_type() == parts[0].scalar_type() && t.device() == parts[0].device(), what,
            ": all tensors must share one dtype and device, got ", parts[0].scalar_type(), " and ",
            t.scalar_type());
      }
      parts.push_back(t.reshape({-1}));
    }
    return parts.empty() ? torch::Tensor() : torch::cat(parts);
  }

  static void unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& ts) {
    std::int64_t offset = 0;
    torch::NoGradGuard no_grad;  // parameters (leaf tensors) may be among `ts`
    for (auto& t : ts) {
      if (!t.defined()) {
        continue;
      }
      const std::int64_t n = t.numel();
      t.copy_(flat.slice(0, offset, offset + n).view(t.sizes()));
      offset += n;
    }
  }

  int rank_ = 0;
  int world_size_ = 1;
  bool counters_on_cuda_ = false;
#if SPECTRAL_TRAINER_HAS_C10D
  c10::intrusive_ptr<detail::c10d_group> group_;
#endif
};

}  // namespace spectral::trainer
