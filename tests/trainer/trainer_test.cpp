// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The training loop at tiny sizes on the real Fashion-MNIST files: a few steps lower the loss,
// a resumed run's next step has exactly the loss of an uninterrupted run, divergence stops with
// a clear error, and a finished run writes its metrics.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "train/trainer.hpp"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

spectral::trainer::train_config tiny(const fs::path& out) {
  spectral::trainer::train_config c;
  c.data = SPECTRAL_TEST_FASHION_MNIST;
  c.out = out;
  c.train_subset = 256;
  c.eval_train_subset = 512;
  c.eval_test_subset = 256;
  c.batch = 32;
  c.width = 8;
  c.projector = 64;
  c.epochs = 4;
  c.warmup_epochs = 1;
  c.knn_every = 0;
  c.linear_epochs = 5;
  c.evaluate_random_init = false;
  c.progress = false;
  c.threads = 1;  // bit-reproducible reductions
  c.seed = 7;
  return c;
}

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("spectral_trainer_" + name);
  fs::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("trainer: a resumed run's next step has exactly the uninterrupted run's loss",
          "[trainer][train]") {
  const auto dir = fresh_dir("resume");
  std::ostringstream log;
  auto c = tiny(dir / "interrupted");
  const std::int64_t steps_per_epoch = c.train_subset / c.batch;
  c.max_steps = steps_per_epoch;  // stops at the end of epoch 1, checkpoint written
  const auto first = spectral::trainer::train(c, log);
  REQUIRE(first["steps"].get<std::int64_t>() == steps_per_epoch);
  REQUIRE(fs::exists(c.out / "checkpoint.pt"));

  c.resume = true;
  c.max_steps = steps_per_epoch + 1;
  const auto resumed = spectral::trainer::train(c, log);

  auto straight = tiny(dir / "straight");
  straight.max_steps = steps_per_epoch + 1;
  const auto uninterrupted = spectral::trainer::train(straight, log);

  REQUIRE(resumed["steps"].get<std::int64_t>() == steps_per_epoch + 1);
  REQUIRE(uninterrupted["steps"].get<std::int64_t>() == steps_per_epoch + 1);
  CAPTURE(resumed["last_step_loss"].get<double>(), uninterrupted["last_step_loss"].get<double>());
  CHECK(resumed["last_step_loss"].get<double>() == uninterrupted["last_step_loss"].get<double>());
}

TEST_CASE("trainer: a few epochs lower the loss and write metrics, summary and the evaluation",
          "[trainer][train]") {
  const auto dir = fresh_dir("learns");
  std::ostringstream log;
  auto c = tiny(dir);
  c.knn_every = 1;
  const auto summary = spectral::trainer::train(c, log);
  REQUIRE(summary["completed"].get<bool>());
  std::ifstream metrics(dir / "metrics.jsonl");
  std::vector<nlohmann::json> epochs;
  for (std::string line; std::getline(metrics, line);) {
    epochs.push_back(nlohmann::json::parse(line));
  }
  REQUIRE(epochs.size() == 4);
  for (const auto& e : epochs) {
    for (const char* key : {"epoch", "loss", "lr", "images_per_s", "knn_top1", "effective_rank"}) {
      CAPTURE(key);
      REQUIRE(e.contains(key));
      CHECK(std::isfinite(e[key].get<double>()));
    }
  }
  CAPTURE(epochs.front()["loss"].get<double>(), epochs.back()["loss"].get<double>());
  CHECK(epochs.back()["loss"].get<double>() < epochs.front()["loss"].get<double>());
  const auto& final = summary["final"];
  CHECK(final["linear_top1"].get<double>() > 10.0);  // above chance on 10 classes
  CHECK(final["knn_top1"].get<double>() > 10.0);
  CHECK(fs::exists(dir / "summary.json"));
}

TEST_CASE("trainer: bad settings, a missing dataset and divergence are reported",
          "[trainer][train]") {
  using Catch::Matchers::ContainsSubstring;
  std::ostringstream log;
  auto c = tiny(fresh_dir("errors"));
  SECTION("missing dataset folder names the folder") {
    c.data = "/nonexistent/fashion";
    REQUIRE_THROWS_WITH(spectral::trainer::train(c, log),
                        ContainsSubstring("/nonexistent/fashion"));
  }
  SECTION("a CUDA request on this build") {
    c.device = "cuda";
    REQUIRE_THROWS_WITH(spectral::trainer::train(c, log), ContainsSubstring("--device cuda"));
  }
  SECTION("bad numbers") {
    c.epochs = 0;
    REQUIRE_THROWS_WITH(spectral::trainer::train(c, log), ContainsSubstring("--epochs"));
  }
  SECTION("resume without a checkpoint") {
    c.resume = true;
    REQUIRE_THROWS_WITH(spectral::trainer::train(c, log), ContainsSubstring("no checkpoint"));
  }
  SECTION("a numerical failure stops training with numerical_error naming the step") {
    // ZCA over 64 features from 32 samples: Σ is singular at the first step.
    c.transform.method = spectral::parse_method("zca");
    c.transform.opts.axis = spectral::axis::features;
    REQUIRE_THROWS_WITH(spectral::trainer::train(c, log),
                        ContainsSubstring("training diverged at step 0"));
    REQUIRE_THROWS_AS(spectral::trainer::train(c, log), spectral::numerical_error);
  }
}

TEST_CASE("trainer: INTL-M with six multi-crop views trains and checkpoints its momentum encoder",
          "[trainer][train]") {
  const auto dir = fresh_dir("intl_m");
  std::ostringstream log;
  auto c = tiny(dir);
  c.method = spectral::trainer::ssl_method::intl_m;
  c.multi_crop = true;
  c.epochs = 2;
  c.max_steps = c.train_subset / c.batch;  // one epoch
  const auto summary = spectral::trainer::train(c, log);
  CHECK(summary["config"]["views"].get<std::int64_t>() == 6);
  CHECK(std::isfinite(summary["last_step_loss"].get<double>()));
  // The checkpoint holds the momentum encoder: resuming reads it back.
  c.resume = true;
  c.max_steps += 1;
  const auto resumed = spectral::trainer::train(c, log);
  CHECK(std::isfinite(resumed["last_step_loss"].get<double>()));
}

TEST_CASE("trainer: two INTL steps of ResNet-50 (ImageNet stem) at 64x64 on the CPU",
          "[trainer][train]") {
  using namespace spectral::trainer;
  torch::manual_seed(3);
  const std::int64_t batch = 16;
  Encoder encoder(resnet_options::reference(50, /*cifar=*/false), 256, 256);
  IntlLoss loss(transform_spec{}, spectral::trade_off_beta(batch));
  torch::optim::SGD optimizer(sgd_parameter_groups(*encoder, 1e-5, /*decay_1d=*/false),
                              torch::optim::SGDOptions(0.1).momentum(0.9));
  augment_config view;  // the ImageNet recipe at 64 px (docs/trainer.md#imagenet-pretraining)
  view.size = 64;
  view.blur_p = 0.5;
  view.mean = {0.485, 0.456, 0.406};
  view.std = {0.229, 0.224, 0.225};
  auto generator = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto images = torch::randint(0, 256, {batch, 3, 80, 96}, torch::kUInt8);
  const auto before = encoder->parameters().front().detach().clone();
  for (int step = 0; step < 2; ++step) {
    set_learning_rate(optimizer, 0.1);
    const auto terms = loss->forward({encoder->forward(augment(images, view, generator)),
                                      encoder->forward(augment(images, view, generator))});
    CAPTURE(step);
    REQUIRE(std::isfinite(terms.total.item<double>()));
    optimizer.zero_grad();
    terms.total.backward();
    optimizer.step();
  }
  CHECK(encoder->features(torch::zeros({2, 3, 64, 64})).size(1) == 2048);
  CHECK((encoder->parameters().front() - before).abs().max().item<double>() > 0.0);
}
