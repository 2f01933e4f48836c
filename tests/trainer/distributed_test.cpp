// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The distributed layer in one process: the world_size 1 group and gather (identity forward and
// backward, no c10d objects), argument checks, and — where the Gloo backend is built — two ranks
// as two threads over a FileStore (collectives, gather's backward, the unequal-size error).
// The two-process gradient equality is tests/trainer/distributed_test.py.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "distributed/gather.hpp"
#include "distributed/process_group.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <torch/autograd.h>
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using spectral::trainer::all_gather_with_backward;
using spectral::trainer::dist_config;
using spectral::trainer::distributed;

}  // namespace

TEST_CASE("world_size 1: gather is the identity, forward and backward", "[distributed]") {
  distributed dist;
  CHECK(dist.rank() == 0);
  CHECK(dist.world_size() == 1);
  torch::manual_seed(7);
  const auto z = torch::randn({6, 5}, torch::kFloat64).requires_grad_(true);
  const auto weights = torch::randn({6, 5}, torch::kFloat64);
  const auto gathered = all_gather_with_backward(z, dist);
  CHECK(gathered.sizes() == z.sizes());
  CHECK(torch::equal(gathered, z));
  (gathered * weights).sum().backward();
  REQUIRE(z.grad().defined());
  CHECK(torch::equal(z.grad(), weights));
}

TEST_CASE("world_size 1: the collectives leave their tensors alone", "[distributed]") {
  distributed dist{dist_config{}};
  const auto a = torch::arange(6, torch::kFloat64);
  const auto b = torch::ones({2, 2}, torch::kFloat64);
  std::vector<torch::Tensor> ts{a.clone(), torch::Tensor(), b.clone()};
  dist.all_reduce_mean_(ts);
  CHECK(torch::equal(ts[0], a));
  CHECK_FALSE(ts[1].defined());
  CHECK(torch::equal(ts[2], b));
  dist.broadcast_(ts, 0);
  CHECK(torch::equal(ts[0], a));
  dist.barrier();
  CHECK_THROWS_AS(dist.broadcast_(ts, 1), spectral::invalid_input);
}

TEST_CASE("distributed: bad configuration and bad input", "[distributed]") {
  CHECK_THROWS_AS(distributed(dist_config{.rank = 1, .world_size = 1}), spectral::invalid_input);
  CHECK_THROWS_AS(distributed(dist_config{.rank = 0, .world_size = 0}), spectral::invalid_input);
  CHECK_THROWS_AS(distributed(dist_config{.rank = -1, .world_size = 2}), spectral::invalid_input);
  distributed dist;
  CHECK_THROWS_AS(all_gather_with_backward(torch::zeros({3}), dist), spectral::invalid_input);
}

#if SPECTRAL_TRAINER_HAS_GLOO
namespace {

// Runs body(rank, dist) on two threads joined through a FileStore; returns each rank's error.
template <class Body>
std::array<std::string, 2> two_ranks(const std::string& tag, Body body) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("spectral_distributed_test_" + tag + "_" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  std::array<std::string, 2> errors;
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      try {
        distributed dist{dist_config{
            .rank = r, .world_size = 2, .file_store = path.string(), .timeout_seconds = 30}};
        body(r, dist);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(r)] = e.what();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::filesystem::remove(path);
  return errors;
}

}  // namespace

TEST_CASE("two ranks (threads, Gloo): collectives and gather", "[distributed]") {
  std::array<torch::Tensor, 2> mean;
  std::array<torch::Tensor, 2> bcast;
  std::array<torch::Tensor, 2> gathered;
  std::array<torch::Tensor, 2> grad;
  const auto errors = two_ranks("ok", [&](int r, distributed& dist) {
    const auto i = static_cast<std::size_t>(r);
    const double x = r + 1.0;
    std::vector<torch::Tensor> g{torch::full({3}, x, torch::kFloat64),
                                 torch::full({2, 2}, 10.0 * x, torch::kFloat64)};
    dist.all_reduce_mean_(g);
    mean[i] = torch::cat({g[0], g[1].reshape({-1})});
    std::vector<torch::Tensor> p{torch::full({4}, x, torch::kFloat64)};
    dist.broadcast_(p, 1);
    bcast[i] = p[0];
    const auto z = torch::full({2, 3}, x, torch::kFloat64).requires_grad_(true);
    const auto all = all_gather_with_backward(z, dist);
    gathered[i] = all.detach();
    // Rank-dependent upstream gradients, so the sum over ranks is visible in the slice.
    (all * torch::arange(4, torch::kFloat64).reshape({4, 1}) * x).sum().backward();
    grad[i] = z.grad();
    dist.barrier();
  });
  INFO("rank 0: " << errors[0] << "; rank 1: " << errors[1]);
  REQUIRE(errors[0].empty());
  REQUIRE(errors[1].empty());
  const auto expected_mean =
      torch::cat({torch::full({3}, 1.5, torch::kFloat64), torch::full({4}, 15.0, torch::kFloat64)});
  const auto expected_gather = torch::cat(
      {torch::full({2, 3}, 1.0, torch::kFloat64), torch::full({2, 3}, 2.0, torch::kFloat64)});
  // Σ_r (r+1)·row index = 3·row index, rows 0–1 for rank 0 and 2–3 for rank 1.
  const auto row = torch::arange(4, torch::kFloat64).reshape({4, 1}).expand({4, 3}) * 3.0;
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(torch::equal(mean[i], expected_mean));
    CHECK(torch::equal(bcast[i], torch::full({4}, 2.0, torch::kFloat64)));
    CHECK(torch::equal(gathered[i], expected_gather));
    const auto begin = static_cast<std::int64_t>(2 * i);
    CHECK(torch::equal(grad[i], row.slice(0, begin, begin + 2)));
  }
}

TEST_CASE("two ranks (threads, Gloo): unequal blocks throw on every rank", "[distributed]") {
  const auto errors = two_ranks("unequal", [](int r, distributed& dist) {
    (void)all_gather_with_backward(torch::zeros({3 + r, 4}, torch::kFloat64), dist);
  });
  for (const auto& e : errors) {
    CHECK_THAT(e, Catch::Matchers::ContainsSubstring("rank 0: 3×4") &&
                      Catch::Matchers::ContainsSubstring("rank 1: 4×4"));
  }
}
#endif
