// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Checkpoints keep what a resumed run needs (model, optimizer, generator, step, the AMP loss
// scale) and load onto the caller's device; the device a process trains on.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "train/checkpoint.hpp"

#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "train/device.hpp"

#include <spectral/core/error.hpp>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch_test_macros.hpp>
#include <torch/cuda.h>
#include <torch/nn.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include <stdlib.h>
#include <unistd.h>

namespace {

namespace st = spectral::trainer;

/// A fresh file name in the system's temporary folder, removed at the end of the test.
struct temporary_file {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("spectral_checkpoint_test_" + std::to_string(::getpid()) + ".pt");
  ~temporary_file() { std::filesystem::remove(path); }
};

torch::nn::Sequential small_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(6, 4), torch::nn::ReLU(), torch::nn::Linear(4, 3));
}

/// One SGD step with momentum, so the optimizer has state worth saving.
void step(torch::nn::Sequential& model, torch::optim::SGD& optimizer) {
  optimizer.zero_grad();
  model->forward(torch::linspace(-1.0, 2.0, 12).view({2, 6})).square().sum().backward();
  optimizer.step();
}

}  // namespace

TEST_CASE("a checkpoint restores model, optimizer, generator, step and loss scale",
          "[checkpoint]") {
  temporary_file file;
  auto model = small_model(1);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  step(model, optimizer);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  (void)torch::rand({5}, generator);
  st::loss_scaler scaler(true, 1024.0, 3);
  auto p = torch::zeros({2}).set_requires_grad(true);
  p.mutable_grad() = torch::full({2}, std::numeric_limits<float>::infinity());
  REQUIRE_FALSE(scaler.unscale({p}));  // one skipped step: scale 512, skipped 1
  st::checkpoint_state saved{4, 40, scaler.state()};
  st::save_checkpoint(file.path, *model, nullptr, optimizer, generator, saved);
  std::string staged_prefix(1, '.');  // a staged file's name: .<name>.<random>.partial
  staged_prefix.append(file.path.filename().string());
  for (const auto& entry : std::filesystem::directory_iterator(file.path.parent_path())) {
    CHECK(entry.path().filename().string().rfind(staged_prefix, 0) != 0);  // renamed into place
  }

  auto restored = small_model(2);  // different weights until loaded
  REQUIRE_FALSE(torch::equal(restored->parameters()[0], model->parameters()[0]));
  torch::optim::SGD restored_optimizer(restored->parameters(),
                                       torch::optim::SGDOptions(0.1).momentum(0.9));
  auto restored_generator = at::make_generator<at::CPUGeneratorImpl>(99);
  const st::checkpoint_state loaded = st::load_checkpoint(
      file.path, *restored, nullptr, restored_optimizer, restored_generator, torch::kCPU);
  CHECK(loaded.epoch == 4);
  CHECK(loaded.step == 40);
  for (std::size_t i = 0; i < model->parameters().size(); ++i) {
    CHECK(torch::equal(restored->parameters()[i], model->parameters()[i]));
  }
  // Momentum buffers came back: the next step moves both models alike.
  step(model, optimizer);
  step(restored, restored_optimizer);
  CHECK(torch::equal(restored->parameters()[0], model->parameters()[0]));
  CHECK(torch::equal(torch::rand({3}, restored_generator), torch::rand({3}, generator)));
  REQUIRE(loaded.loss_scale.defined());
  st::loss_scaler resumed(true, 65536.0, 3);
  resumed.set_state(loaded.loss_scale);
  CHECK(resumed.current() == 512.0);
  CHECK(resumed.skipped() == 1);
}

TEST_CASE("a checkpoint without a loss scale loads with none", "[checkpoint]") {
  temporary_file file;
  auto model = small_model(3);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  st::save_checkpoint(file.path, *model, nullptr, optimizer, generator, {1, 10, {}});
  const auto loaded = st::load_checkpoint(file.path, *model, nullptr, optimizer, generator);
  CHECK(loaded.step == 10);
  CHECK_FALSE(loaded.loss_scale.defined());
}

namespace {

/// A small ResNet-18 encoder (width 4, projector `projector`) with the CIFAR or ImageNet stem.
st::Encoder small_encoder(bool cifar_stem, std::int64_t width, std::int64_t projector) {
  torch::manual_seed(11);
  st::resnet_options options = st::resnet_options::reference(18, cifar_stem);
  options.width = width;
  options.in_channels = 1;
  return st::Encoder(options, projector, projector);
}

/// What load_checkpoint says when `saved`'s checkpoint is loaded into `target` (empty: it loaded).
std::string load_error(st::Encoder& saved,
                       st::Encoder& target,
                       const std::filesystem::path& path,
                       bool teacher = false) {
  torch::optim::SGD saved_optimizer(saved->parameters(), torch::optim::SGDOptions(0.1));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  st::save_checkpoint(path, *saved, nullptr, saved_optimizer, generator, {1, 5, {}});
  torch::optim::SGD optimizer(target->parameters(), torch::optim::SGDOptions(0.1));
  try {
    (void)st::load_checkpoint(path, *target, teacher ? target.get() : nullptr, optimizer, generator,
                              torch::kCPU, "--resume");
  } catch (const spectral::invalid_input& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("a checkpoint of another architecture is refused before anything loads", "[checkpoint]") {
  temporary_file file;
  auto cifar = small_encoder(true, 4, 16);
  {
    auto same = small_encoder(true, 4, 16);
    CHECK(load_error(cifar, same, file.path).empty());
  }
  auto imagenet = small_encoder(false, 4, 16);
  const auto stem_before = imagenet->parameters().front().clone();
  const std::string stem = load_error(cifar, imagenet, file.path);
  INFO(stem);
  CHECK(stem.find("--resume: ") == 0);
  CHECK(stem.find("model.backbone.conv1.weight is [4, 1, 3, 3]") != std::string::npos);
  CHECK(stem.find("[4, 1, 7, 7]") != std::string::npos);
  CHECK(torch::equal(imagenet->parameters().front(), stem_before));  // nothing was loaded

  auto wider = small_encoder(true, 8, 16);
  CHECK(load_error(cifar, wider, file.path).find("in this model") != std::string::npos);
  auto other_projector = small_encoder(true, 4, 32);
  const std::string projector = load_error(cifar, other_projector, file.path);
  INFO(projector);
  CHECK(projector.find("model.projector") != std::string::npos);
  // An intl checkpoint has no momentum encoder for an intl_m run.
  auto student = small_encoder(true, 4, 16);
  CHECK(load_error(cifar, student, file.path, true).find("no momentum encoder") !=
        std::string::npos);
}

TEST_CASE("a float64 checkpoint does not load into a float32 model", "[checkpoint]") {
  temporary_file file;
  auto doubled = small_encoder(true, 4, 16);
  doubled->to(torch::kFloat64);
  auto single = small_encoder(true, 4, 16);
  CHECK(load_error(doubled, single, file.path).find("Double") != std::string::npos);
}

TEST_CASE("a checkpoint replaces a link planted at its name instead of writing through it",
          "[checkpoint]") {
  temporary_file file;
  const auto victim = std::filesystem::path(file.path.string() + ".victim");
  std::ofstream(victim) << "keep me";
  std::filesystem::create_symlink(victim, file.path);
  auto model = small_model(5);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(1);
  st::save_checkpoint(file.path, *model, nullptr, optimizer, generator, {1, 1, {}});
  CHECK_FALSE(std::filesystem::is_symlink(file.path));
  std::ifstream in(victim);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "keep me");
  std::filesystem::remove(victim);
  CHECK(st::load_checkpoint(file.path, *model, nullptr, optimizer, generator).step == 1);
}

TEST_CASE("a loss scaler state that is not one refuses to load", "[checkpoint]") {
  st::loss_scaler scaler(true);
  CHECK_THROWS_AS(scaler.set_state(torch::ones({2}, torch::kFloat64)), spectral::invalid_input);
  CHECK_THROWS_AS(scaler.set_state(torch::tensor({-1.0, 0.0, 0.0}, torch::kFloat64)),
                  spectral::invalid_input);
  CHECK_THROWS_AS(
      scaler.set_state(torch::tensor({std::numeric_limits<double>::quiet_NaN(), 0.0, 0.0})),
      spectral::invalid_input);
  CHECK(scaler.current() == 65536.0);  // unchanged by the refused states
}

TEST_CASE("each process trains on its own device", "[device][cuda]") {
  ::unsetenv("LOCAL_RANK");  // a launcher's variable would override the rank rule under test
  CHECK(st::process_device("cpu", 1, 2).is_cpu());
  CHECK_THROWS_AS(st::process_device("gpu", 0, 1), spectral::invalid_input);
  if (!st::compat::built_with_cuda || !torch::cuda::is_available()) {
    CHECK_THROWS_AS(st::process_device("cuda", 0, 1), spectral::invalid_input);
    return;
  }
  const auto visible = static_cast<int>(torch::cuda::device_count());
  CHECK(st::process_device("cuda", visible, visible + 1).index() == 0);  // rank mod GPUs
  CHECK_THROWS_AS(st::process_device("cuda:" + std::to_string(visible), 0, 1),
                  spectral::invalid_input);
}
