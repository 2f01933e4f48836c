// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// BM_torch/<tail>: the reference math (INTL methods/whitening.py) with LibTorch CUDA ops and
// autograd, timed with CUDA events on the current stream. Built only against a LibTorch with
// CUDA (PyTorch's, on the GPU machine). Each row first checks itself against the library.

#include "cuda/cases.hpp"

#include <benchmark/benchmark.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/types.h>

#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>

#include <cuda_runtime.h>

namespace spectral::bench::gpu {
namespace {

/// whiten_matrix for a batch of G covariances (G×K×K), as the reference writes it; one formula
/// per registered method (a method added to the registry fails to compile here until it has one).
torch::Tensor whiten_matrices(const torch::Tensor& sigma, const method_spec& spec) {
  const std::int64_t k = sigma.size(1);
  const auto formula = [&]<class Method>([[maybe_unused]] const Method& method) -> torch::Tensor {
    if constexpr (std::is_same_v<Method, zca_whitening> || std::is_same_v<Method, power_function>) {
      double p = 0.5;
      if constexpr (std::is_same_v<Method, power_function>) {
        p = method.power;
      }
      auto [lambda, u] = torch::linalg_eigh(sigma, "L");
      return u.matmul(torch::diag_embed(lambda.pow(-p))).matmul(u.transpose(1, 2));
    } else if constexpr (std::is_same_v<Method, pca_whitening>) {
      auto [lambda, u] = torch::linalg_eigh(sigma, "L");
      lambda = lambda.flip(-1);
      u = u.flip(-1);
      const auto largest = u.abs().argmax(1, /*keepdim=*/true);
      u = u * u.gather(1, largest).sign();
      return torch::diag_embed(lambda.rsqrt()).matmul(u.transpose(1, 2));
    } else if constexpr (std::is_same_v<Method, cholesky_whitening>) {
      const auto lower = torch::linalg_cholesky(sigma);
      const auto eye = torch::eye(k, sigma.options()).expand_as(sigma);
      return torch::linalg_solve_triangular(lower, eye, /*upper=*/false, /*left=*/true,
                                            /*unitriangular=*/false);
    } else {
      static_assert(std::is_same_v<Method, iter_norm>, "no LibTorch peer for this method");
      const auto trace = sigma.diagonal(0, 1, 2).sum(-1).reshape({-1, 1, 1});
      const auto sigma_norm = sigma * trace.reciprocal();
      auto projection = torch::eye(k, sigma.options()).expand_as(sigma).contiguous();
      for (int step = 0; step < method.iterations; ++step) {
        projection = torch::baddbmm(projection, torch::matrix_power(projection, 3), sigma_norm,
                                    /*beta=*/1.5, /*alpha=*/-0.5);
      }
      return projection * trace.reciprocal().sqrt();
    }
  };
  return visit_method(spec, formula);
}

/// Y for an N×D embedding with G groups: x (G×K×M), xn = x − mean, Σ = xn xnᵀ/(M−1) (+eps I).
torch::Tensor reference_forward(const torch::Tensor& z, const cuda_case& c, double eps) {
  const std::int64_t g = c.groups;
  const std::int64_t w = c.d / g;
  // features: x_g = Z[:, block g]ᵀ (K = w, M = N); samples: x_g = Z[:, block g] (K = N, M = w).
  auto blocks = z.reshape({c.n, g, w}).permute({1, 0, 2});  // G×N×w
  auto x = c.ax == axis::features ? blocks.transpose(1, 2) : blocks;
  const std::int64_t k = x.size(1);
  const std::int64_t m = x.size(2);
  const auto xn = x - x.mean(-1, /*keepdim=*/true);
  auto sigma = xn.matmul(xn.transpose(1, 2)) / static_cast<double>(m - 1);
  if (eps > 0.0) {
    sigma = sigma + eps * torch::eye(k, sigma.options());
  }
  auto y = whiten_matrices(sigma, c.method).matmul(xn);
  if (c.ax == axis::features) {
    y = y.transpose(1, 2);  // G×N×w
  }
  return y.permute({1, 0, 2}).reshape({c.n, c.d});
}

torch::Tensor to_device(const row_matrix<float>& m) {
  return torch::from_blob(const_cast<float*>(m.data()), {m.rows(), m.cols()},  // NOLINT
                          torch::kFloat32)
      .to(torch::kCUDA);
}

double relative_error(const torch::Tensor& a, const row_matrix<float>& b) {
  const auto tb = to_device(b).to(torch::kFloat64);
  const auto ta = a.detach().to(torch::kFloat64);
  return (ta - tb).norm().item<double>() / tb.norm().item<double>();
}

void torch_body(benchmark::State& state, const cuda_case& c) {
  try {
    if (!torch::cuda::is_available()) {
      state.SkipWithError("LibTorch sees no CUDA device");
      return;
    }
    // The reference runs in strict float32 unless TF32 is the point of the row.
    at::globalContext().setAllowTF32CuBLAS(c.tf32);
    const host_problem p = make_host_problem(c);
    const auto z = to_device(p.z).requires_grad_(true);
    const auto grad_out = to_device(p.grad_out);
    const bool backward = c.pass == pass_id::forward_backward;
    const auto step = [&] {
      auto y = reference_forward(z, c, p.eps);
      if (backward) {
        return torch::autograd::grad({y}, {z}, {grad_out})[0];
      }
      return y;
    };
    // Warm-up, and the check against the library (same input, same math).
    const torch::Tensor peer = step();
    const device_result mine = spectral_cuda_result(c, p);
    state.counters["rel_diff_vs_spectral"] = relative_error(peer, backward ? mine.grad : mine.y);
    const int device = 0;
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
    cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
    cudaEvent_t start = nullptr;
    cudaEvent_t stop = nullptr;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    for (auto _ : state) {
      cudaEventRecord(start, stream);
      auto out = step();
      cudaEventRecord(stop, stream);
      cudaEventSynchronize(stop);
      float ms = 0.0F;
      cudaEventElapsedTime(&ms, start, stop);
      state.SetIterationTime(static_cast<double>(ms) / 1e3);
      benchmark::DoNotOptimize(out);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    const auto stats =
        c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    state.counters["peak_MiB"] =
        static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
    state.SetItemsProcessed(state.iterations() * c.n);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

const bool registered = [] {
  for (const cuda_case& c : all_cases()) {
    benchmark::RegisterBenchmark(("BM_torch/" + c.tail()).c_str(),
                                 [c](benchmark::State& state) { torch_body(state, c); })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
}  // namespace spectral::bench::gpu
