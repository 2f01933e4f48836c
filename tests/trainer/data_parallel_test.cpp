// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The data-parallel pieces of intl_train. SyncBatchNorm (models/sync_batch_norm.hpp): with one
// rank it is LibTorch's BatchNorm bit for bit (outputs, gradients, running statistics, state-dict
// names); with two ranks (threads over a FileStore, Gloo) each holding half of a batch, the
// outputs, running statistics and — after gather's normalisation and gradient averaging
// (docs/math.md#distributed-gather) — the gradients equal one BatchNorm on the whole batch. The
// per-rank augmentation draws the one-process batch's random numbers, and ImageFolder views skip
// augment's crop. The end-to-end runs are tests/trainer/trainer_distributed_test.py.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "distributed/data_parallel.hpp"

#include "distributed/gather.hpp"
#include "distributed/process_group.hpp"
#include "models/sync_batch_norm.hpp"
#include "train/trainer.hpp"

#include <catch2/catch_test_macros.hpp>

#include <array>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using spectral::trainer::dist_config;
using spectral::trainer::distributed;
using spectral::trainer::SyncBatchNorm1d;
using spectral::trainer::SyncBatchNorm2d;

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item<double>();
}

}  // namespace

TEST_CASE("SyncBatchNorm with one rank is LibTorch's BatchNorm", "[distributed][sync_bn]") {
  torch::manual_seed(5);
  SyncBatchNorm2d sync(3);
  torch::nn::BatchNorm2d plain(3);
  const auto names = sync->named_parameters();
  CHECK(names.contains("weight"));
  CHECK(names.contains("bias"));
  CHECK(sync->named_buffers().contains("running_mean"));
  CHECK(sync->named_buffers().contains("running_var"));
  CHECK(sync->named_buffers().contains("num_batches_tracked"));
  distributed one;
  CHECK(spectral::trainer::use_process_group(*sync, &one) == 1);
  {
    torch::NoGradGuard no_grad;  // non-trivial affine parameters, the same in both
    sync->weight.copy_(torch::rand({3}) + 0.5);
    sync->bias.copy_(torch::randn({3}));
    plain->weight.copy_(sync->weight);
    plain->bias.copy_(sync->bias);
  }
  for (int step = 0; step < 2; ++step) {
    const auto x = (torch::randn({4, 3, 5, 5}) * 3.0 + 1.0).requires_grad_(true);
    const auto x_plain = x.detach().clone().requires_grad_(true);
    const auto w = torch::randn({4, 3, 5, 5});
    const auto y = sync->forward(x);
    const auto y_plain = plain->forward(x_plain);
    REQUIRE(y_plain.abs().sum().item<double>() > 0.0);
    CHECK(torch::equal(y, y_plain));
    (y * w).sum().backward();
    (y_plain * w).sum().backward();
    CHECK(torch::equal(x.grad(), x_plain.grad()));
    CHECK(torch::equal(sync->weight.grad(), plain->weight.grad()));
    CHECK(torch::equal(sync->bias.grad(), plain->bias.grad()));
  }
  CHECK(torch::equal(sync->running_mean, plain->running_mean));
  CHECK(torch::equal(sync->running_var, plain->running_var));
  CHECK(sync->num_batches_tracked.item<std::int64_t>() == 2);
  sync->eval();
  plain->eval();
  const auto x = torch::randn({2, 3, 4, 4});
  CHECK(torch::equal(sync->forward(x), plain->forward(x)));
  CHECK_THROWS_AS(sync->forward(torch::randn({2, 3})), spectral::invalid_input);
  CHECK_THROWS_AS(SyncBatchNorm1d(0), spectral::invalid_input);
}

TEST_CASE("SyncBatchNorm: clone keeps the process group and copies the state",
          "[distributed][sync_bn]") {
  distributed one;
  SyncBatchNorm1d bn(4);
  bn->set_process_group(&one);
  {
    torch::NoGradGuard no_grad;
    bn->running_mean.fill_(2.0);
  }
  const auto copy = std::dynamic_pointer_cast<spectral::trainer::SyncBatchNorm1dImpl>(bn->clone());
  REQUIRE(copy != nullptr);
  CHECK(copy->process_group() == &one);
  CHECK(torch::equal(copy->running_mean, bn->running_mean));
  CHECK(copy->running_mean.data_ptr() != bn->running_mean.data_ptr());
}

#if SPECTRAL_TRAINER_HAS_GLOO
TEST_CASE("SyncBatchNorm over two ranks (threads, Gloo) equals BatchNorm on the whole batch",
          "[distributed][sync_bn]") {
  torch::manual_seed(11);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto x_all = torch::randn({8, 3, 3, 3}, opts) * 2.0 + 0.5;
  const auto upstream = torch::randn({8, 3, 3, 3}, opts);
  const auto gamma = torch::rand({3}, opts) + 0.5;
  const auto beta = torch::randn({3}, opts);

  // The reference: one BatchNorm2d on all 8 rows.
  torch::nn::BatchNorm2d plain(3);
  plain->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    plain->weight.copy_(gamma);
    plain->bias.copy_(beta);
  }
  const auto x_ref = x_all.clone().requires_grad_(true);
  const auto y_ref = plain->forward(x_ref);
  (y_ref * upstream).sum().backward();
  REQUIRE(x_ref.grad().abs().sum().item<double>() > 0.0);

  const auto path = std::filesystem::temp_directory_path() /
                    ("spectral_sync_bn_test_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  std::array<std::string, 2> errors;
  std::array<torch::Tensor, 2> y;
  std::array<torch::Tensor, 2> x_grad;
  std::array<torch::Tensor, 2> weight_grad;
  std::array<torch::Tensor, 2> bias_grad;
  std::array<torch::Tensor, 2> running_var;
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      const auto i = static_cast<std::size_t>(r);
      try {
        distributed dist{dist_config{
            .rank = r, .world_size = 2, .file_store = path.string(), .timeout_seconds = 30}};
        SyncBatchNorm2d bn(3);
        bn->to(torch::kFloat64);
        {
          torch::NoGradGuard no_grad;
          bn->weight.copy_(gamma);
          bn->bias.copy_(beta);
        }
        spectral::trainer::use_process_group(*bn, &dist);
        const auto x = x_all.slice(0, 4 * r, 4 * r + 4).clone().requires_grad_(true);
        const auto out = bn->forward(x);
        // Every rank computes the same global loss on the gathered rows
        // (docs/math.md#distributed-gather).
        const auto all = spectral::trainer::all_gather_with_backward(out.reshape({4, -1}), dist);
        (all * upstream.reshape({8, -1})).sum().backward();
        spectral::trainer::average_gradients(*bn, dist);
        y[i] = out.detach();
        x_grad[i] = x.grad() / 2.0;  // gather's convention: W × this rank's share
        weight_grad[i] = bn->weight.grad();
        bias_grad[i] = bn->bias.grad();
        running_var[i] = bn->running_var.clone();
        dist.barrier();
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::filesystem::remove(path);
  INFO("rank 0: " << errors[0] << "; rank 1: " << errors[1]);
  REQUIRE(errors[0].empty());
  REQUIRE(errors[1].empty());
  constexpr double tolerance = 1e-12;
  CHECK(max_rel(torch::cat({y[0], y[1]}), y_ref.detach()) < tolerance);
  CHECK(max_rel(torch::cat({x_grad[0], x_grad[1]}), x_ref.grad()) < tolerance);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(max_rel(weight_grad[i], plain->weight.grad()) < tolerance);
    CHECK(max_rel(bias_grad[i], plain->bias.grad()) < tolerance);
    CHECK(max_rel(running_var[i], plain->running_var) < tolerance);
  }
  // Not a vacuous match: each half's own statistics differ from the global ones.
  CHECK(max_rel(x_all.slice(0, 0, 4).var({0, 2, 3}), x_all.var({0, 2, 3})) > 1e-3);
}
#endif

TEST_CASE("augment without the crop step: the decoded crop, flipped where drawn",
          "[data][augment]") {
  using spectral::trainer::augment;
  using spectral::trainer::augment_config;
  using spectral::trainer::to_normalized;
  torch::manual_seed(3);
  const auto images = torch::randint(0, 256, {6, 3, 16, 16}, torch::kUInt8);
  REQUIRE(images.to(torch::kFloat32).std().item<double>() > 10.0);
  augment_config config = spectral::trainer::imagenet_view(0, 16);
  REQUIRE_FALSE(config.crop);
  config.jitter_p = 0.0;
  config.gray_p = 0.0;
  config.blur_p = 0.0;
  config.flip_p = 0.0;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  CHECK(torch::equal(augment(images, config, generator),
                     to_normalized(images, config.mean, config.std)));
  config.flip_p = 1.0;
  CHECK(torch::equal(augment(images, config, generator),
                     to_normalized(images.flip({3}), config.mean, config.std)));
  // Same random numbers with and without the crop: the next draw matches.
  config = spectral::trainer::imagenet_view(1, 16);
  augment_config cropped = config;
  cropped.crop = true;
  auto a = at::make_generator<at::CPUGeneratorImpl>(9);
  auto b = at::make_generator<at::CPUGeneratorImpl>(9);
  (void)augment(images, config, a);
  (void)augment(images, cropped, b);
  CHECK(torch::equal(torch::rand({4}, a), torch::rand({4}, b)));
  // The crop is skipped, so the images must already have the output size.
  CHECK_THROWS_AS(augment(images.slice(2, 0, 12), config, a), spectral::invalid_input);
}

TEST_CASE("augment_rows: two ranks' rows are the one-process batch's rows", "[data][augment]") {
  torch::manual_seed(4);
  const auto images = torch::randint(0, 256, {8, 1, 12, 12}, torch::kUInt8);
  const auto config = spectral::trainer::fashion_mnist_view(1, 12);
  const auto seed = spectral::trainer::detail::augment_step_seed(7, 3);
  CHECK(seed != spectral::trainer::detail::augment_step_seed(7, 4));
  CHECK(seed != spectral::trainer::detail::augment_step_seed(8, 3));
  auto whole_generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto whole = spectral::trainer::augment(images, config, whole_generator);
  REQUIRE(whole.std().item<double>() > 0.1);
  std::vector<torch::Tensor> parts;
  for (int rank = 0; rank < 2; ++rank) {
    auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    parts.push_back(spectral::trainer::detail::augment_rows(images.slice(0, 4 * rank, 4 * rank + 4),
                                                            config, generator, rank, 2));
  }
  CHECK(torch::equal(torch::cat(parts), whole));
}
