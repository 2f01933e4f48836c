// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Learning-rate and momentum schedules, the EMA update and the SGD parameter groups
// (docs/math.md#intl-m, docs/trainer.md#imagenet-pretraining, docs/trainer.md#cifar; checks
// docs/math.md#check-32 and docs/math.md#check-33).

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "models/ema.hpp"
#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "train/schedule.hpp"

#include <spectral/core/error.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <utility>
#include <vector>

namespace {

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using spectral::trainer::ema_momentum;
using spectral::trainer::ema_update;
using spectral::trainer::learning_rate;
using spectral::trainer::resnet_options;

spectral::trainer::Encoder small_encoder(torch::Dtype dtype) {
  resnet_options o = resnet_options::reference(18, true);
  o.in_channels = 1;
  o.width = 4;
  spectral::trainer::Encoder e(o, 8, 4);
  e->to(dtype);
  return e;
}

}  // namespace

TEST_CASE("learning rate: warm-up then cosine to 0.001 base (check 33)", "[models]") {
  const double base = 0.3;
  const std::int64_t w = 10;
  const std::int64_t s = 100;
  CHECK_THAT(learning_rate(base, 0, w, s), WithinRel(base / 10.0, 1e-15));
  CHECK(learning_rate(base, w - 1, w, s) == base);
  CHECK_THAT(learning_rate(base, s - 1, w, s), WithinRel(0.001 * base, 1e-12));
  for (std::int64_t i = 1; i < w; ++i) {
    CHECK(learning_rate(base, i, w, s) > learning_rate(base, i - 1, w, s));
  }
  for (std::int64_t i = w; i < s; ++i) {
    CHECK(learning_rate(base, i, w, s) <= learning_rate(base, i - 1, w, s));
  }
  // Halfway through the cosine part q = ½: lr = base (1 + 0.001) / 2.
  CHECK_THAT(learning_rate(1.0, 54, 10, 100), WithinRel(0.5005, 1e-12));
  // No warm-up; warm-up longer than the run stays in warm-up.
  const double q1 = 0.5 * (1.0 + std::cos(std::numbers::pi / 100.0));
  CHECK_THAT(learning_rate(base, 0, 0, s), WithinRel(base * (0.999 * q1 + 0.001), 1e-12));
  CHECK_THAT(learning_rate(base, 4, 20, 5), WithinRel(base * 5.0 / 20.0, 1e-15));

  CHECK_THROWS_AS(learning_rate(base, s, w, s), spectral::invalid_input);
  CHECK_THROWS_AS(learning_rate(base, -1, w, s), spectral::invalid_input);
  CHECK_THROWS_AS(learning_rate(base, 0, -1, s), spectral::invalid_input);
  CHECK_THROWS_AS(learning_rate(-0.1, 0, w, s), spectral::invalid_input);
}

TEST_CASE("EMA momentum: cosine from m0 to 1 (check 32)", "[models]") {
  const std::int64_t t = 1000;
  CHECK_THAT(ema_momentum(0.996, 0, t), WithinAbs(0.996, 1e-15));
  CHECK_THAT(ema_momentum(0.996, t / 2, t), WithinAbs(0.998, 1e-15));
  CHECK(ema_momentum(0.996, t, t) == 1.0);
  for (std::int64_t i = 1; i <= t; ++i) {
    CHECK(ema_momentum(0.996, i, t) >= ema_momentum(0.996, i - 1, t));
  }
  CHECK_THROWS_AS(ema_momentum(1.5, 0, t), spectral::invalid_input);
  CHECK_THROWS_AS(ema_momentum(0.996, t + 1, t), spectral::invalid_input);
  CHECK_THROWS_AS(ema_momentum(0.996, 0, 0), spectral::invalid_input);
}

TEST_CASE("EMA update: ξ' = mξ + (1−m)θ on parameters only (check 32)", "[models]") {
  torch::manual_seed(4);
  const double m = 0.996;
  for (const auto dtype : {torch::kFloat64, torch::kFloat32}) {
    INFO((dtype == torch::kFloat64 ? "float64" : "float32"));
    auto student = small_encoder(dtype);
    auto teacher = small_encoder(dtype);                  // independent init, so ξ ≠ θ
    student->forward(torch::randn({4, 1, 8, 8}, dtype));  // student's BN statistics move
    std::vector<torch::Tensor> xi_before;
    for (const auto& p : teacher->parameters()) {
      xi_before.push_back(p.detach().clone());
    }
    std::vector<torch::Tensor> buffers_before;
    for (const auto& b : teacher->buffers()) {
      buffers_before.push_back(b.clone());
    }

    ema_update(*teacher, *student, m);

    const auto xi = teacher->parameters();
    const auto theta = student->parameters();
    // Reference in float64 from the same inputs; float32 allows its own rounding.
    const double tolerance = dtype == torch::kFloat64 ? 1e-15 : 1e-6;
    for (std::size_t i = 0; i < xi.size(); ++i) {
      const auto expected =
          m * xi_before[i].to(torch::kFloat64) + (1.0 - m) * theta[i].detach().to(torch::kFloat64);
      const double err = (xi[i].to(torch::kFloat64) - expected).abs().max().item<double>();
      CHECK(err <= tolerance * (1.0 + expected.abs().max().item<double>()));
    }
    const auto buffers = teacher->buffers();
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      CHECK(torch::equal(buffers[i], buffers_before[i]));
    }
  }
}

TEST_CASE("EMA update with ξ = θ is a no-op; m = 0 copies θ", "[models]") {
  torch::manual_seed(5);
  auto student = small_encoder(torch::kFloat32);
  auto teacher = spectral::trainer::clone_frozen(student);
  ema_update(*teacher, *student, 0.996);
  const auto theta = student->named_parameters();
  for (const auto& item : teacher->named_parameters()) {
    CHECK(torch::equal(item.value(), theta[item.key()]));
  }
  auto other = small_encoder(torch::kFloat32);
  ema_update(*other, *student, 0.0);
  for (const auto& item : other->named_parameters()) {
    CHECK(torch::equal(item.value(), theta[item.key()]));
  }
  CHECK_THROWS_AS(ema_update(*other, *student, 1.5), spectral::invalid_input);
  resnet_options o = resnet_options::reference(18, true);
  o.width = 4;
  spectral::trainer::ResNet backbone(o);
  CHECK_THROWS_AS(ema_update(*backbone, *student, 0.5), spectral::invalid_input);
}

TEST_CASE("SGD parameter groups: ndim > 1 decayed, 1-D per recipe", "[models]") {
  spectral::trainer::ResNet net(resnet_options::reference(18, true));
  // ResNet-18: 20 conv weights (stem, 16 in blocks, 3 downsample); 20 BN × (γ, β) = 40.
  for (const bool decay_1d : {false, true}) {
    INFO("decay_1d " << decay_1d);
    auto groups = spectral::trainer::sgd_parameter_groups(*net, 1e-4, decay_1d);
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].params().size() == 20);
    CHECK(groups[1].params().size() == 40);
    for (const auto& p : groups[0].params()) {
      CHECK(p.dim() > 1);
    }
    for (const auto& p : groups[1].params()) {
      CHECK(p.dim() == 1);
    }
    const auto& decayed = static_cast<const torch::optim::SGDOptions&>(groups[0].options());
    const auto& vectors = static_cast<const torch::optim::SGDOptions&>(groups[1].options());
    CHECK(decayed.weight_decay() == 1e-4);
    CHECK(vectors.weight_decay() == (decay_1d ? 1e-4 : 0.0));
    CHECK(decayed.momentum() == 0.9);
    CHECK(vectors.momentum() == 0.9);

    torch::optim::SGD sgd(std::move(groups), torch::optim::SGDOptions(0.1).momentum(0.9));
    spectral::trainer::set_learning_rate(sgd, 0.25);
    REQUIRE(sgd.param_groups().size() == 2);
    for (auto& g : sgd.param_groups()) {
      CHECK(static_cast<torch::optim::SGDOptions&>(g.options()).lr() == 0.25);
    }
    CHECK_THROWS_AS(spectral::trainer::set_learning_rate(sgd, -1.0), spectral::invalid_input);
  }

  // One SGD step with lr 0.5 and momentum buffers fresh: p ← p − lr (g + wd p).
  torch::manual_seed(6);
  torch::nn::Linear lin(3, 2);
  const auto w0 = lin->weight.detach().clone();
  const auto b0 = lin->bias.detach().clone();
  torch::optim::SGD sgd(spectral::trainer::sgd_parameter_groups(*lin, 0.1, false),
                        torch::optim::SGDOptions(0.0));
  spectral::trainer::set_learning_rate(sgd, 0.5);
  lin->forward(torch::ones({1, 3})).sum().backward();
  sgd.step();
  CHECK(torch::allclose(lin->weight, w0 - 0.5 * (torch::ones_like(w0) + 0.1 * w0)));
  CHECK(torch::allclose(lin->bias, b0 - 0.5 * torch::ones_like(b0)));

  // Frozen parameters are left out.
  auto frozen = spectral::trainer::clone_frozen(spectral::trainer::Projector(4, 4, 2));
  const auto none = spectral::trainer::sgd_parameter_groups(*frozen, 0.1, true);
  CHECK(none[0].params().empty());
  CHECK(none[1].params().empty());
  CHECK_THROWS_AS(spectral::trainer::sgd_parameter_groups(*net, -1.0, true),
                  spectral::invalid_input);
}
