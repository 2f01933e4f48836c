// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Stream behaviour: two transforms on two streams at once give the results they give alone,
// in-place calls are safe, and IterNorm with sync_check off enqueues without waiting.

#include "device_data.cuh"

#include <catch2/catch_test_macros.hpp>

#include <cuda_runtime.h>

namespace {

using namespace spectral_test;
using spectral_test::gpu::row_matrix;

struct stream_guard {
  cudaStream_t stream = nullptr;
  stream_guard() { SPECTRAL_CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)); }
  stream_guard(const stream_guard&) = delete;
  stream_guard& operator=(const stream_guard&) = delete;
  ~stream_guard() { (void)cudaStreamDestroy(stream); }
};

}  // namespace

TEST_CASE("cuda: two streams at once give the same results as one at a time",
          "[cuda][gpu][streams]") {
  SPECTRAL_REQUIRE_GPU();
  const row_matrix<double> z1 = make_embedding(256, 64, reference::axis::features, 2, 10.0, 1);
  const row_matrix<double> z2 = make_embedding(256, 64, reference::axis::features, 2, 10.0, 2);
  const row_matrix<double> g1 = randn(256, 64, 3);
  const row_matrix<double> g2 = randn(256, 64, 4);
  reference::config c;
  c.kind = reference::method::iter_norm;
  c.groups = 2;
  const auto alone1 = gpu::run_gpu<double>(c, z1, g1);
  const auto alone2 = gpu::run_gpu<double>(c, z2, g2);

  stream_guard s1;
  stream_guard s2;
  spectral::cuda::settings lazy;
  lazy.sync_check = false;  // enqueue both before waiting for either
  spectral::spectral_transform<double, spectral::iter_norm, spectral::cuda::backend> t1(
      spectral::iter_norm{4}, gpu::options_of(c), lazy);
  spectral::spectral_transform<double, spectral::iter_norm, spectral::cuda::backend> t2(
      spectral::iter_norm{4}, gpu::options_of(c), lazy);
  auto d_z1 = gpu::upload(z1, s1.stream);
  auto d_z2 = gpu::upload(z2, s2.stream);
  auto d_g1 = gpu::upload(g1, s1.stream);
  auto d_g2 = gpu::upload(g2, s2.stream);
  auto d_y1 = gpu::allocate<double>(256, 64, s1.stream);
  auto d_y2 = gpu::allocate<double>(256, 64, s2.stream);
  const auto ctx1 = t1.forward(std::as_const(d_z1).view(), d_y1.view(), s1.stream);
  const auto ctx2 = t2.forward(std::as_const(d_z2).view(), d_y2.view(), s2.stream);
  // In place: the gradient overwrites grad_out's memory.
  t1.backward(ctx1, std::as_const(d_g1).view(), d_g1.view(), s1.stream);
  t2.backward(ctx2, std::as_const(d_g2).view(), d_g2.view(), s2.stream);
  ctx1.check(s1.stream);
  ctx2.check(s2.stream);
  CHECK(rel_error(gpu::download(d_y1, s1.stream), alone1.output) <= 1e-13);
  CHECK(rel_error(gpu::download(d_y2, s2.stream), alone2.output) <= 1e-13);
  CHECK(rel_error(gpu::download(d_g1, s1.stream), alone1.grad_in) <= 1e-13);
  CHECK(rel_error(gpu::download(d_g2, s2.stream), alone2.grad_in) <= 1e-13);
}
