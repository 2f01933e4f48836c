// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Bad input on the CUDA backend. Shapes, pointers and options are checked on the host before any
// device work, so those tests run everywhere, GPU or not; data problems need a GPU.

#include "device_data.cuh"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

namespace {

using Catch::Matchers::ContainsSubstring;
using spectral::cuda::embedding_view;
using spectral_test::gpu::row_matrix;

// Never dereferenced: the host checks reject the call before any device access.
float* fake_device_pointer() { return reinterpret_cast<float*>(std::uintptr_t{4096}); }

template <class Method>
using transform_f = spectral::spectral_transform<float, Method, spectral::cuda::backend>;

}  // namespace

TEST_CASE("cuda: shapes and options are rejected on the host, before any device work",
          "[cuda][errors]") {
  float* p = fake_device_pointer();
  const embedding_view<const float> z(p, 8, 6);
  transform_f<spectral::zca_whitening> zca;

  SECTION("out of another shape") {
    REQUIRE_THROWS_WITH(zca.forward(z, embedding_view<float>(p, 8, 5)),
                        ContainsSubstring("out: expected 8x6, got 8x5"));
  }
  SECTION("null input") {
    REQUIRE_THROWS_WITH(
        zca.forward(embedding_view<const float>(nullptr, 8, 6), embedding_view<float>(p, 8, 6)),
        ContainsSubstring("z: null pointer"));
  }
  SECTION("row stride smaller than the row") {
    REQUIRE_THROWS_WITH(
        zca.forward(embedding_view<const float>(p, 8, 6, 4), embedding_view<float>(p, 8, 6)),
        ContainsSubstring("row_stride 4"));
  }
  SECTION("D not divisible by groups") {
    spectral::options opts;
    opts.groups = 4;
    transform_f<spectral::zca_whitening> grouped({}, opts);
    REQUIRE_THROWS_WITH(grouped.forward(z, embedding_view<float>(p, 8, 6)),
                        ContainsSubstring("D=6 is not divisible by groups=4"));
  }
  SECTION("fewer than 2 observations") {
    REQUIRE_THROWS_AS(
        zca.forward(embedding_view<const float>(p, 1, 6), embedding_view<float>(p, 1, 6)),
        spectral::invalid_input);
  }
  SECTION("invalid options and method parameters") {
    spectral::options opts;
    opts.groups = 0;
    REQUIRE_THROWS_AS(transform_f<spectral::zca_whitening>({}, opts), spectral::invalid_input);
    opts.groups = 1;
    opts.eps = -1.0;
    REQUIRE_THROWS_AS(transform_f<spectral::zca_whitening>({}, opts), spectral::invalid_input);
    REQUIRE_THROWS_AS(spectral::iter_norm(0), spectral::invalid_input);
    REQUIRE_THROWS_AS(spectral::power_function(-0.5), spectral::invalid_input);
    // Both IterNorm routes run on the GPU (one algorithm for every backend).
    REQUIRE_NOTHROW(transform_f<spectral::iter_norm>(
        spectral::iter_norm{4, spectral::iter_norm_solver::eigen}));
    REQUIRE_NOTHROW(transform_f<spectral::iter_norm>(
        spectral::iter_norm{4, spectral::iter_norm_solver::newton}));
  }
  SECTION("backward without forward") {
    const spectral::cuda::transform_context<float, spectral::zca_whitening> empty;
    REQUIRE_THROWS_WITH(zca.backward(empty, z, embedding_view<float>(p, 8, 6)),
                        ContainsSubstring("forward was not called"));
  }
}

TEST_CASE("cuda: a machine without a GPU gets cuda_error, not a crash", "[cuda][nogpu]") {
  if (spectral::cuda::device_count() > 0) {
    SKIP("this machine has a GPU; the no-GPU path is checked on the CPU machines");
  }
  float* p = fake_device_pointer();
  spectral::spectral_transform<float, spectral::iter_norm, spectral::cuda::backend> transform;
  REQUIRE_THROWS_WITH(
      transform.forward(embedding_view<const float>(p, 8, 6), embedding_view<float>(p, 8, 6)),
      ContainsSubstring("no CUDA device is available"));
  REQUIRE_THROWS_AS(spectral::cuda::require_device(), spectral::cuda_error);
}

TEST_CASE("cuda: non-finite data and singular covariances are reported", "[cuda][gpu][errors]") {
  SPECTRAL_REQUIRE_GPU();
  using namespace spectral_test;
  const row_matrix<float> good =
      make_embedding(32, 8, reference::axis::features, 1, 10.0, 1).cast<float>();
  auto d_out = gpu::allocate<float>(32, 8);

  SECTION("NaN in z names z, also with sync_check off once checked") {
    row_matrix<float> bad = good;
    bad(3, 2) = std::numeric_limits<float>::quiet_NaN();
    const auto d_bad = gpu::upload(bad);
    transform_f<spectral::iter_norm> checked;
    REQUIRE_THROWS_WITH(checked.forward(d_bad.view(), d_out.view()),
                        ContainsSubstring("z: contains NaN"));
    spectral::cuda::settings lazy;
    lazy.sync_check = false;
    transform_f<spectral::iter_norm> unchecked(spectral::iter_norm{4}, spectral::options{}, lazy);
    const auto ctx = unchecked.forward(d_bad.view(), d_out.view());
    REQUIRE_THROWS_AS(ctx.check(nullptr), spectral::invalid_input);
  }
  SECTION("Inf in grad_out names grad_out") {
    const auto d_z = gpu::upload(good);
    row_matrix<float> grad = row_matrix<float>::Ones(32, 8);
    grad(0, 0) = std::numeric_limits<float>::infinity();
    const auto d_grad = gpu::upload(grad);
    auto d_grad_in = gpu::allocate<float>(32, 8);
    transform_f<spectral::zca_whitening> zca;
    const auto ctx = zca.forward(d_z.view(), d_out.view());
    REQUIRE_THROWS_WITH(zca.backward(ctx, d_grad.view(), d_grad_in.view()),
                        ContainsSubstring("grad_out: contains NaN or Inf"));
    // With sync_check off backward records instead, and the context reports it when asked.
    spectral::cuda::settings lazy;
    lazy.sync_check = false;
    transform_f<spectral::zca_whitening> unchecked({}, {}, lazy);
    const auto lazy_ctx = unchecked.forward(d_z.view(), d_out.view());
    REQUIRE_NOTHROW(unchecked.backward(lazy_ctx, d_grad.view(), d_grad_in.view()));
    REQUIRE_THROWS_WITH(lazy_ctx.check(nullptr),
                        ContainsSubstring("grad_out: contains NaN or Inf"));
  }
  SECTION("singular covariance without eps (N < D) for every eigen and Cholesky method") {
    const row_matrix<float> wide = randn(4, 8, 2).cast<float>();
    const auto d_wide = gpu::upload(wide);
    auto d_wide_out = gpu::allocate<float>(4, 8);
    REQUIRE_THROWS_AS(
        transform_f<spectral::zca_whitening>().forward(d_wide.view(), d_wide_out.view()),
        spectral::numerical_error);
    REQUIRE_THROWS_AS(
        transform_f<spectral::pca_whitening>().forward(d_wide.view(), d_wide_out.view()),
        spectral::numerical_error);
    REQUIRE_THROWS_AS(
        transform_f<spectral::cholesky_whitening>().forward(d_wide.view(), d_wide_out.view()),
        spectral::numerical_error);
    REQUIRE_THROWS_AS(transform_f<spectral::power_function>(spectral::power_function{0.25})
                          .forward(d_wide.view(), d_wide_out.view()),
                      spectral::numerical_error);
    // IterNorm normalises by the trace: rank deficiency is valid.
    REQUIRE_NOTHROW(transform_f<spectral::iter_norm>().forward(d_wide.view(), d_wide_out.view()));
  }
  SECTION("a constant input is rejected, not amplified") {
    const row_matrix<float> constant = row_matrix<float>::Constant(32, 8, 3.0F);
    const auto d_constant = gpu::upload(constant);
    // The message carries this problem's own numbers, not those of later checks it triggers.
    REQUIRE_THROWS_WITH(transform_f<spectral::iter_norm>().forward(d_constant.view(), d_out.view()),
                        ContainsSubstring("zero up to rounding (trace 0"));
  }
  SECTION("a context from other options") {
    const auto d_z = gpu::upload(good);
    transform_f<spectral::zca_whitening> zca;
    const auto ctx = zca.forward(d_z.view(), d_out.view());
    spectral::options samples;
    samples.axis = spectral::axis::samples;
    transform_f<spectral::zca_whitening> other({}, samples);
    auto d_grad_in = gpu::allocate<float>(32, 8);
    REQUIRE_THROWS_WITH(other.backward(ctx, d_z.view(), d_grad_in.view()),
                        ContainsSubstring("other options"));
  }
}
