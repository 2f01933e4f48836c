// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The CUDA half of the bridge (see cuda_bridge.hpp): the library's CUDA transform on device
// pointers handed over by the LibTorch side.

#include "bridge/cuda_bridge.hpp"

#include <spectral/cuda.cuh>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace spectral::torch_bridge::cuda_bridge {
namespace {

/// memory_resource callbacks over the allocator the LibTorch side passed in.
void* allocate_with(void* state, std::size_t bytes, cudaStream_t stream) {
  return static_cast<const device_allocator*>(state)->allocate(bytes, stream);
}
void deallocate_with(void* state,
                     void* pointer,
                     std::size_t /*bytes*/,
                     cudaStream_t /*stream*/) noexcept {
  static_cast<const device_allocator*>(state)->deallocate(pointer);
}

/// Folds a call's status word into its device's pending one: new flags keep their example
/// (group, value, bound), flags already pending keep the first. One thread; stream-ordered after
/// the call that wrote `from`, so nothing waits on the host.
__global__ void merge_status(status_word* into, const status_word* from) {
  const unsigned fresh = from->flags & ~into->flags;
  for (int slot = 0; slot < status_flag_count; ++slot) {
    if (((fresh >> static_cast<unsigned>(slot)) & 1U) != 0U) {
      into->group[slot] = from->group[slot];
      into->value[slot] = from->value[slot];
      into->bound[slot] = from->bound[slot];
    }
  }
  atomicOr(&into->flags, from->flags);
}

/// What the calls without sync_check recorded, per device, until check_pending() reads it.
class pending_status {
 public:
  static pending_status& instance() {
    // Never destroyed: device memory must not be freed after the CUDA runtime has shut down.
    static auto* record = new pending_status();
    return *record;
  }

  /// Enqueues the merge of `status` (device memory of the current device) on `stream`.
  void add(const status_word* status, std::string_view method, cudaStream_t stream) {
    int device = 0;
    SPECTRAL_CUDA_TRY(cudaGetDevice(&device));
    std::lock_guard<std::mutex> lock(mutex_);
    auto& entry = devices_[device];
    if (entry.word == nullptr) {  // once per device (cudaMalloc synchronises, that once)
      SPECTRAL_CUDA_TRY(cudaMalloc(&entry.word, sizeof(status_word)));
      SPECTRAL_CUDA_TRY(cudaMemsetAsync(entry.word, 0, sizeof(status_word), stream));
    }
    entry.methods.emplace(method);
    merge_status<<<1, 1, 0, stream>>>(entry.word, status);
    SPECTRAL_CUDA_TRY(cudaGetLastError());
  }

  /// Waits for every recorded device, merges their words (each flag keeps its first example)
  /// and throws; the record is cleared first, so a problem is raised once.
  void check() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (devices_.empty()) {
      return;  // no call recorded anything: nothing to wait for (and maybe no usable GPU)
    }
    const current_device_guard guard;
    status_word found{};
    std::string methods;
    for (auto& [device, entry] : devices_) {
      if (entry.word == nullptr || entry.methods.empty()) {
        continue;
      }
      SPECTRAL_CUDA_TRY(cudaSetDevice(device));
      status_word recorded{};
      SPECTRAL_CUDA_TRY(cudaDeviceSynchronize());
      SPECTRAL_CUDA_TRY(
          cudaMemcpy(&recorded, entry.word, sizeof(recorded), cudaMemcpyDeviceToHost));
      SPECTRAL_CUDA_TRY(cudaMemset(entry.word, 0, sizeof(status_word)));
      // Cleared before the mutex is released: no merge on any stream can precede the zeroing.
      SPECTRAL_CUDA_TRY(cudaDeviceSynchronize());
      if (recorded.flags != 0U) {
        for (int slot = 0; slot < status_flag_count; ++slot) {
          const unsigned flag = 1U << static_cast<unsigned>(slot);
          if ((recorded.flags & flag) != 0U && (found.flags & flag) == 0U) {
            found.group[slot] = recorded.group[slot];
            found.value[slot] = recorded.value[slot];
            found.bound[slot] = recorded.bound[slot];
          }
        }
        found.flags |= recorded.flags;
        methods += methods.empty() ? "" : ", ";
        std::string names;
        for (const auto& name : entry.methods) {
          names += names.empty() ? name : "/" + name;
        }
        methods += names + " on cuda:" + std::to_string(device);
      }
      entry.methods.clear();
    }
    throw_status(found, methods);
  }

 private:
  /// Restores the thread's current device, also when a CUDA call throws.
  struct current_device_guard {
    int device = 0;
    current_device_guard() { SPECTRAL_CUDA_TRY(cudaGetDevice(&device)); }
    current_device_guard(const current_device_guard&) = delete;
    current_device_guard& operator=(const current_device_guard&) = delete;
    ~current_device_guard() { (void)cudaSetDevice(device); }
  };
  struct device_record {
    status_word* word = nullptr;
    std::set<std::string, std::less<>> methods;
  };
  std::mutex mutex_;
  std::map<int, device_record> devices_;
};

template <class T, class Method>
using cuda_transform = spectral_transform<T, Method, cuda::backend>;

/// One transform per spec, precision and device (and the allocator of its first call), alive
/// for the process: its cuBLAS/cuSOLVER handles are created once, not at every step. The mutex
/// serialises the host-side enqueueing of forward (the caller's thread) and backward (the
/// autograd engine's device thread). Workspaces go back to LibTorch's caching allocator, which
/// may hand them out again on the stream they were allocated on: a backward must therefore run
/// on its forward's stream, as autograd does.
struct cached_transform {
  std::mutex mutex;
  device_allocator memory;
  std::shared_ptr<void> transform;
  bool sync_check = true;
};

using cache_key =
    std::tuple<std::string, double, int, int, int, std::int64_t, double, int, bool, bool, int>;

std::shared_ptr<cached_transform> cache_entry(const transform_spec& spec,
                                              precision type,
                                              device_allocator memory) {
  int device = 0;
  SPECTRAL_CUDA_TRY(cudaGetDevice(&device));
  const cache_key key{spec.method.name,
                      spec.method.power,
                      spec.method.iterations,
                      static_cast<int>(spec.method.solver),
                      static_cast<int>(spec.opts.axis),
                      spec.opts.groups,
                      spec.opts.eps,
                      static_cast<int>(type),
                      spec.cuda_sync_check,
                      spec.cuda_tf32,
                      device};
  static std::mutex mutex;
  // Never destroyed: handles must not be released after the CUDA runtime has shut down.
  static auto* cache = new std::map<cache_key, std::shared_ptr<cached_transform>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto& entry = (*cache)[key];
  if (!entry) {
    entry = std::make_shared<cached_transform>();
    entry->memory = memory;
    entry->sync_check = spec.cuda_sync_check;
  }
  return entry;
}

template <class T, class Method>
class saved final : public saved_forward {
 public:
  saved(std::shared_ptr<cached_transform> entry, cuda::transform_context<T, Method> context)
      : entry_(std::move(entry)), context_(std::move(context)) {}

  void backward(const void* grad_out, void* grad_in, void* stream) const override {
    std::lock_guard<std::mutex> lock(entry_->mutex);
    auto& transform = *static_cast<cuda_transform<T, Method>*>(entry_->transform.get());
    const auto cuda_stream = static_cast<cudaStream_t>(stream);
    transform.backward(
        context_,
        cuda::embedding_view<const T>(static_cast<const T*>(grad_out), context_.rows(),
                                      context_.cols()),
        cuda::embedding_view<T>(static_cast<T*>(grad_in), context_.rows(), context_.cols()),
        cuda_stream);
    if (!entry_->sync_check) {
      pending_status::instance().add(context_.status.data(), Method::name(), cuda_stream);
    }
  }

 private:
  std::shared_ptr<cached_transform> entry_;
  cuda::transform_context<T, Method> context_;
};

template <class T>
std::shared_ptr<const saved_forward> forward_as(const transform_spec& spec,
                                                const void* z,
                                                void* out,
                                                std::int64_t rows,
                                                std::int64_t cols,
                                                cudaStream_t stream,
                                                device_allocator memory) {
  auto entry =
      cache_entry(spec, std::is_same_v<T, double> ? precision::f64 : precision::f32, memory);
  return detail::with_method(spec, [&](auto method) -> std::shared_ptr<const saved_forward> {
    using method_type = decltype(method);
    std::lock_guard<std::mutex> lock(entry->mutex);
    if (!entry->transform) {
      cuda::settings config;
      config.sync_check = spec.cuda_sync_check;
      config.tf32 = spec.cuda_tf32;
      config.memory = {&entry->memory, &allocate_with, &deallocate_with};
      entry->transform =
          std::make_shared<cuda_transform<T, method_type>>(method, spec.opts, config);
    }
    auto& transform = *static_cast<cuda_transform<T, method_type>*>(entry->transform.get());
    auto context =
        transform.forward(cuda::embedding_view<const T>(static_cast<const T*>(z), rows, cols),
                          cuda::embedding_view<T>(static_cast<T*>(out), rows, cols), stream);
    if (!spec.cuda_sync_check) {
      // Recorded once: the context's word is cleared after the merge, so the backward (which
      // records into the same word) does not report the forward's problems again.
      pending_status::instance().add(context.status.data(), method_type::name(), stream);
      SPECTRAL_CUDA_TRY(cudaMemsetAsync(context.status.data(), 0, sizeof(status_word), stream));
    }
    return std::make_shared<const saved<T, method_type>>(entry, std::move(context));
  });
}

}  // namespace

void check_pending() { pending_status::instance().check(); }

std::shared_ptr<const saved_forward> forward(const transform_spec& spec,
                                             precision type,
                                             const void* z,
                                             void* out,
                                             std::int64_t rows,
                                             std::int64_t cols,
                                             void* stream,
                                             device_allocator memory) {
  SPECTRAL_EXPECTS(memory.allocate != nullptr && memory.deallocate != nullptr,
                   "memory: the device allocator is missing");
  const auto cuda_stream = static_cast<cudaStream_t>(stream);
  return type == precision::f64 ? forward_as<double>(spec, z, out, rows, cols, cuda_stream, memory)
                                : forward_as<float>(spec, z, out, rows, cols, cuda_stream, memory);
}

}  // namespace spectral::torch_bridge::cuda_bridge
