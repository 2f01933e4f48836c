// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// BM_spectral/<tail>: the library's CUDA transforms, timed with CUDA events on the stream they
// run on (google/benchmark manual time). The peer, BM_torch/<tail>, is in torch_cuda_peer.cpp.

#include "cuda/cases.hpp"

#include <spectral/cuda.cuh>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <exception>
#include <string>

#include <cuda_runtime.h>

namespace spectral::bench::gpu {
namespace {

struct event_pair {
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
  event_pair() {
    SPECTRAL_CUDA_TRY(cudaEventCreate(&start));
    SPECTRAL_CUDA_TRY(cudaEventCreate(&stop));
  }
  event_pair(const event_pair&) = delete;
  event_pair& operator=(const event_pair&) = delete;
  ~event_pair() {
    (void)cudaEventDestroy(start);
    (void)cudaEventDestroy(stop);
  }
};

/// Bytes in use in the default stream-ordered pool (where the library allocates) at its peak.
std::size_t pool_peak_bytes(bool reset) {
  int device = 0;
  cudaMemPool_t pool = nullptr;
  SPECTRAL_CUDA_TRY(cudaGetDevice(&device));
  SPECTRAL_CUDA_TRY(cudaDeviceGetDefaultMemPool(&pool, device));
  std::uint64_t value = 0;
  if (reset) {
    SPECTRAL_CUDA_TRY(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &value));
    return 0;
  }
  SPECTRAL_CUDA_TRY(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &value));
  return static_cast<std::size_t>(value);
}

/// Everything one timed call needs, on the device.
struct device_problem {
  cuda::device_buffer<float> z;
  cuda::device_buffer<float> grad_out;
  cuda::device_buffer<float> y;
  cuda::device_buffer<float> grad_in;
  index_t n;
  index_t d;
};

device_problem upload(const host_problem& p) {
  const auto size = static_cast<std::size_t>(p.z.size());
  device_problem out{cuda::device_buffer<float>(size, nullptr),
                     cuda::device_buffer<float>(size, nullptr),
                     cuda::device_buffer<float>(size, nullptr),
                     cuda::device_buffer<float>(size, nullptr),
                     p.z.rows(),
                     p.z.cols()};
  SPECTRAL_CUDA_TRY(
      cudaMemcpy(out.z.data(), p.z.data(), size * sizeof(float), cudaMemcpyHostToDevice));
  SPECTRAL_CUDA_TRY(cudaMemcpy(out.grad_out.data(), p.grad_out.data(), size * sizeof(float),
                               cudaMemcpyHostToDevice));
  return out;
}

template <class Transform>
void run_once(Transform& transform, device_problem& dp, bool backward) {
  const cuda::embedding_view<const float> z(dp.z.data(), dp.n, dp.d);
  const auto ctx = transform.forward(z, cuda::embedding_view<float>(dp.y.data(), dp.n, dp.d));
  if (backward) {
    transform.backward(ctx, cuda::embedding_view<const float>(dp.grad_out.data(), dp.n, dp.d),
                       cuda::embedding_view<float>(dp.grad_in.data(), dp.n, dp.d));
  }
}

template <class Method>
spectral_transform<float, Method, cuda::backend> make_transform(const cuda_case& c,
                                                                Method m,
                                                                double eps) {
  cuda::settings config;
  config.sync_check = false;  // timed as a training step runs: checked once, after the loop
  config.tf32 = c.tf32;
  return spectral_transform<float, Method, cuda::backend>(
      m, options{.axis = c.ax, .groups = c.groups, .eps = eps}, config);
}

void spectral_body(benchmark::State& state, const cuda_case& c) {
  try {
    if (cuda::device_count() == 0) {
      state.SkipWithError("no CUDA device");
      return;
    }
    const host_problem p = make_host_problem(c);
    device_problem dp = upload(p);
    const bool backward = c.pass == pass_id::forward_backward;
    visit_method(c.method, [&](auto method) {
      auto transform = make_transform(c, method, p.eps);
      run_once(transform, dp, backward);  // warm-up: handles, pool, kernels
      SPECTRAL_CUDA_TRY(cudaDeviceSynchronize());
      (void)pool_peak_bytes(true);
      event_pair events;
      for (auto _ : state) {
        SPECTRAL_CUDA_TRY(cudaEventRecord(events.start, nullptr));
        run_once(transform, dp, backward);
        SPECTRAL_CUDA_TRY(cudaEventRecord(events.stop, nullptr));
        SPECTRAL_CUDA_TRY(cudaEventSynchronize(events.stop));
        float ms = 0.0F;
        SPECTRAL_CUDA_TRY(cudaEventElapsedTime(&ms, events.start, events.stop));
        state.SetIterationTime(static_cast<double>(ms) / 1e3);
      }
      state.counters["peak_MiB"] = static_cast<double>(pool_peak_bytes(false)) / (1024.0 * 1024.0);
      // The numerical status that sync_check would have thrown inside the loop.
      const auto ctx = transform.forward(cuda::embedding_view<const float>(dp.z.data(), dp.n, dp.d),
                                         cuda::embedding_view<float>(dp.y.data(), dp.n, dp.d));
      ctx.check(nullptr);
    });
    state.SetItemsProcessed(state.iterations() * c.n);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

const bool registered = [] {
  for (const cuda_case& c : all_cases()) {
    benchmark::RegisterBenchmark(("BM_spectral/" + c.tail()).c_str(),
                                 [c](benchmark::State& state) { spectral_body(state, c); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

device_result spectral_cuda_result(const cuda_case& c, const host_problem& p) {
  device_problem dp = upload(p);
  const bool backward = c.pass == pass_id::forward_backward;
  visit_method(c.method, [&](auto method) {
    cuda::settings config;
    config.tf32 = c.tf32;
    spectral_transform<float, decltype(method), cuda::backend> transform(
        method, options{.axis = c.ax, .groups = c.groups, .eps = p.eps}, config);
    run_once(transform, dp, backward);
  });
  device_result r{row_matrix<float>(dp.n, dp.d), row_matrix<float>()};
  SPECTRAL_CUDA_TRY(cudaMemcpy(r.y.data(), dp.y.data(),
                               static_cast<std::size_t>(r.y.size()) * sizeof(float),
                               cudaMemcpyDeviceToHost));
  if (backward) {
    r.grad.resize(dp.n, dp.d);
    SPECTRAL_CUDA_TRY(cudaMemcpy(r.grad.data(), dp.grad_in.data(),
                                 static_cast<std::size_t>(r.grad.size()) * sizeof(float),
                                 cudaMemcpyDeviceToHost));
  }
  return r;
}

}  // namespace spectral::bench::gpu
