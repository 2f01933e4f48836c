// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The CUDA half of the bridge (see cuda_bridge.hpp): the library's CUDA transform on device
// pointers handed over by the LibTorch side.

#include "bridge/cuda_bridge.hpp"

#include <spectral/cuda.cuh>

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

namespace spectral::trainer::cuda_bridge {
namespace {

/// memory_resource callbacks over the allocator the LibTorch side passed in.
void* allocate_with(void* state, std::size_t bytes, cudaStream_t stream) {
  return static_cast<const device_allocator*>(state)->allocate(bytes, stream);
}
void deallocate_with(void* state, void* pointer, std::size_t /*bytes*/,
                     cudaStream_t /*stream*/) noexcept {
  static_cast<const device_allocator*>(state)->deallocate(pointer);
}

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
};

using cache_key = std::tuple<std::string, double, int, int, int, std::int64_t, double, int, bool,
                             bool, int>;

std::shared_ptr<cached_transform> cache_entry(const transform_spec& spec, precision type,
                                              device_allocator memory) {
  int device = 0;
  SPECTRAL_CUDA_TRY(cudaGetDevice(&device));
  const cache_key key{spec.method.name, spec.method.power, spec.method.iterations,
                      static_cast<int>(spec.method.solver), static_cast<int>(spec.opts.axis),
                      spec.opts.groups, spec.opts.eps, static_cast<int>(type),
                      spec.cuda_sync_check, spec.cuda_tf32, device};
  static std::mutex mutex;
  // Never destroyed: handles must not be released after the CUDA runtime has shut down.
  static auto* cache = new std::map<cache_key, std::shared_ptr<cached_transform>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto& entry = (*cache)[key];
  if (!entry) {
    entry = std::make_shared<cached_transform>();
    entry->memory = memory;
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
    transform.backward(context_,
                       cuda::embedding_view<const T>(static_cast<const T*>(grad_out),
                                                     context_.rows(), context_.cols()),
                       cuda::embedding_view<T>(static_cast<T*>(grad_in), context_.rows(),
                                               context_.cols()),
                       static_cast<cudaStream_t>(stream));
  }

 private:
  std::shared_ptr<cached_transform> entry_;
  cuda::transform_context<T, Method> context_;
};

template <class T>
std::shared_ptr<const saved_forward> forward_as(const transform_spec& spec, const void* z,
                                                void* out, std::int64_t rows, std::int64_t cols,
                                                cudaStream_t stream, device_allocator memory) {
  auto entry = cache_entry(spec, std::is_same_v<T, double> ? precision::f64 : precision::f32,
                           memory);
  return detail::with_method(spec, [&](auto method) -> std::shared_ptr<const saved_forward> {
    using method_type = decltype(method);
    std::lock_guard<std::mutex> lock(entry->mutex);
    if (!entry->transform) {
      cuda::settings config;
      config.sync_check = spec.cuda_sync_check;
      config.tf32 = spec.cuda_tf32;
      config.memory = {&entry->memory, &allocate_with, &deallocate_with};
      entry->transform = std::make_shared<cuda_transform<T, method_type>>(method, spec.opts, config);
    }
    auto& transform = *static_cast<cuda_transform<T, method_type>*>(entry->transform.get());
    auto context = transform.forward(
        cuda::embedding_view<const T>(static_cast<const T*>(z), rows, cols),
        cuda::embedding_view<T>(static_cast<T*>(out), rows, cols), stream);
    return std::make_shared<const saved<T, method_type>>(entry, std::move(context));
  });
}

}  // namespace

std::shared_ptr<const saved_forward> forward(const transform_spec& spec, precision type,
                                             const void* z, void* out, std::int64_t rows,
                                             std::int64_t cols, void* stream,
                                             device_allocator memory) {
  SPECTRAL_EXPECTS(memory.allocate != nullptr && memory.deallocate != nullptr,
                   "memory: the device allocator is missing");
  const auto cuda_stream = static_cast<cudaStream_t>(stream);
  return type == precision::f64
             ? forward_as<double>(spec, z, out, rows, cols, cuda_stream, memory)
             : forward_as<float>(spec, z, out, rows, cols, cuda_stream, memory);
}

}  // namespace spectral::trainer::cuda_bridge
