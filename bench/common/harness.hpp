// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The two benchmark bodies (library, LibTorch peer) and their registration over the axes.

#include "common/defaults.hpp"
#include "torch_reference/reference.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <dlfcn.h>

namespace spectral::bench {

inline constexpr int bench_threads = 2;

/// Pins LibTorch to `bench_threads` and records the thread setup in the JSON context. Runs
/// once, at registration (before main), so every benchmark sees the same setting.
inline void configure_threads_once() {
  static const bool done = [] {
    const int torch_threads = torch_reference::use_threads(bench_threads);
    // libgomp reads OMP_WAIT_POLICY at load time, so it can only be set by the caller. Spinning
    // OpenMP workers steal the core OpenBLAS's second thread needs (LibTorch runs several times
    // slower).
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    const std::string wait_policy = policy != nullptr ? policy : "unset";
    if (wait_policy != "passive" && wait_policy != "PASSIVE") {
      std::fprintf(stderr,
                   "warning: OMP_WAIT_POLICY=%s; run with OMP_WAIT_POLICY=passive or the "
                   "LibTorch timings include OpenMP/OpenBLAS oversubscription\n",
                   wait_policy.c_str());
    }
    benchmark::AddCustomContext("omp_wait_policy", wait_policy);
    benchmark::AddCustomContext("torch_intra_op_threads", std::to_string(torch_threads));
    // OpenBLAS serves both sides (Eigen with EIGEN_USE_BLAS, LibTorch); query it without
    // linking it directly.
    int (*get_threads)() = nullptr;
    const char* (*get_config)() = nullptr;
    if (void* sym = dlsym(RTLD_DEFAULT, "openblas_get_num_threads")) {
      std::memcpy(&get_threads, &sym, sizeof sym);
    }
    if (void* sym = dlsym(RTLD_DEFAULT, "openblas_get_config")) {
      std::memcpy(&get_config, &sym, sizeof sym);
    }
    benchmark::AddCustomContext("openblas_threads",
                                get_threads != nullptr ? std::to_string(get_threads()) : "n/a");
    benchmark::AddCustomContext("openblas_config", get_config != nullptr ? get_config() : "n/a");
#if defined(EIGEN_USE_BLAS)
    benchmark::AddCustomContext("eigen_use_blas", "1");
#else
    benchmark::AddCustomContext("eigen_use_blas", "0");
#endif
#if defined(SPECTRAL_USE_LAPACKE)
    benchmark::AddCustomContext("spectral_eigh", "LAPACKE syevd");
#else
    benchmark::AddCustomContext("spectral_eigh", "Eigen SelfAdjointEigenSolver");
#endif
    return true;
  }();
  static_cast<void>(done);
}

/// Y (and ∂⟨G, Y⟩/∂Z) from the library, allocating; used outside the timed loops.
struct library_result {
  row_matrix<float> y;
  row_matrix<float> grad;
};

template <class Method>
[[nodiscard]] library_result run_library(const bench_case& c, const problem& p) {
  const spectral_transform<float, Method> t{make_method<Method>(c.method),
                                            {.axis = c.ax, .eps = p.eps}};
  library_result r;
  auto fwd = t.forward(p.z);
  r.y = std::move(fwd.output);
  if (c.pass == pass_id::forward_backward) {
    r.grad = t.backward(fwd.context, p.grad_out);
  }
  return r;
}

inline void finish(benchmark::State& state, const bench_case& c, const problem& p) {
  state.SetItemsProcessed(state.iterations() * c.n);
  state.counters["eps"] = p.eps;
}

/// BM_spectral: forward into a preallocated output, backward into a preallocated gradient.
template <class Method>
void spectral_body(benchmark::State& state, const bench_case& c) {
  try {
    const problem p = make_problem(c);
    const spectral_transform<float, Method> t{make_method<Method>(c.method),
                                              {.axis = c.ax, .eps = p.eps}};
    row_matrix<float> y(c.n, c.d);
    row_matrix<float> grad(c.n, c.d);
    const bool backward = c.pass == pass_id::forward_backward;
    {  // warm-up, untimed (the peer's warm-up is its correctness check)
      const auto ctx = t.forward(p.z, y);
      if (backward) {
        t.backward(ctx, p.grad_out, grad);
      }
    }
    for (auto _ : state) {
      const auto ctx = t.forward(p.z, y);
      if (backward) {
        t.backward(ctx, p.grad_out, grad);
      }
      benchmark::DoNotOptimize(y.data());
      benchmark::DoNotOptimize(grad.data());
      benchmark::ClobberMemory();
    }
    finish(state, c, p);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

/// BM_torch: forward under NoGradGuard; forward+backward with autograd, `y.backward(gy)`.
/// Before timing, checks the peer against the library (relative errors as counters).
template <class Method>
void torch_body(benchmark::State& state, const bench_case& c) {
  try {
    const problem p = make_problem(c);
    const auto z = torch_reference::to_tensor(p.z);
    const auto grad_out = torch_reference::to_tensor(p.grad_out);
    const library_result expected = run_library<Method>(c, p);
    const Method method = make_method<Method>(c.method);
    if (c.pass == pass_id::forward) {
      const torch::NoGradGuard no_grad;
      state.counters["rel_err_y"] = torch_reference::relative_error(
          torch_reference::forward(z, c.ax, method, p.eps), expected.y);
      for (auto _ : state) {
        auto y = torch_reference::forward(z, c.ax, method, p.eps);
        benchmark::DoNotOptimize(y.data_ptr());
        benchmark::ClobberMemory();
      }
    } else {
      auto x = z.clone().requires_grad_(true);
      {
        auto y = torch_reference::forward(x, c.ax, method, p.eps);
        y.backward(grad_out);
        state.counters["rel_err_y"] = torch_reference::relative_error(y, expected.y);
        state.counters["rel_err_grad"] = torch_reference::relative_error(x.grad(), expected.grad);
      }
      for (auto _ : state) {
        x.mutable_grad() = torch::Tensor();  // assign, do not accumulate
        auto y = torch_reference::forward(x, c.ax, method, p.eps);
        y.backward(grad_out);
        benchmark::DoNotOptimize(x.grad().data_ptr());
        benchmark::ClobberMemory();
      }
    }
    finish(state, c, p);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

/// Registers BM_spectral/<tail> and BM_torch/<tail> for every axis, pass, N and D of one
/// registered method, with the benchmarks' parameters (bench_method).
template <class Method>
bool register_method() {
  configure_threads_once();
  for (const axis ax : {axis::samples, axis::features}) {
    for (const pass_id pass : {pass_id::forward, pass_id::forward_backward}) {
      for (const index_t n : batch_sizes) {
        for (const index_t d : feature_sizes) {
          const bench_case c{bench_method<Method>(), ax, pass, n, d};
          for (const bool library : {true, false}) {
            const std::string name = std::string(library ? "BM_spectral/" : "BM_torch/") + c.tail();
            auto* b =
                library
                    ? benchmark::RegisterBenchmark(
                          name.c_str(), [c](benchmark::State& s) { spectral_body<Method>(s, c); })
                    : benchmark::RegisterBenchmark(
                          name.c_str(), [c](benchmark::State& s) { torch_body<Method>(s, c); });
            b->UseRealTime()->Unit(benchmark::kMillisecond);
          }
        }
      }
    }
  }
  return true;
}

}  // namespace spectral::bench
