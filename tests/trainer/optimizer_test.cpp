// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// multi_tensor_sgd does what torch::optim::SGD does, bit for bit on the CPU, with the same
// state and checkpoint format.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "train/optimizer.hpp"

#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "train/schedule.hpp"

#include <common/temp_folder.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cstdint>
#include <vector>

namespace {

namespace st = spectral::trainer;

st::Encoder tiny_encoder(std::uint64_t seed) {
  torch::manual_seed(seed);
  st::resnet_options options = st::resnet_options::reference(18, /*cifar=*/true);
  options.in_channels = 1;
  options.width = 4;
  return st::Encoder(options, 16, 8);
}

/// Seeded, non-zero gradients for every parameter but those `skip` names (no gradient).
void set_gradients(st::Encoder& model, std::uint64_t seed, const std::string& skip = "") {
  torch::manual_seed(seed);
  for (auto& p : model->named_parameters()) {
    if (!skip.empty() && p.key().find(skip) != std::string::npos) {
      p.value().mutable_grad() = torch::Tensor();
      continue;
    }
    p.value().mutable_grad() = torch::randn_like(p.value());
  }
}

void require_equal_parameters(st::Encoder& a, st::Encoder& b) {
  const auto pa = a->named_parameters();
  const auto pb = b->named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (const auto& item : pa) {
    INFO(item.key());
    REQUIRE(torch::equal(item.value(), pb[item.key()]));
  }
}

}  // namespace

TEST_CASE("multi_tensor_sgd equals torch::optim::SGD bit for bit", "[trainer][optimizer]") {
  struct setting {
    double momentum, dampening, weight_decay;
    bool nesterov, decay_1d;
  };
  for (const setting s :
       {setting{0.9, 0.0, 1e-4, false, true}, setting{0.9, 0.0, 1e-5, false, false},
        setting{0.8, 0.1, 0.0, false, true}, setting{0.9, 0.0, 1e-3, true, true},
        setting{0.0, 0.0, 1e-4, false, true}}) {
    st::Encoder reference = tiny_encoder(5);
    st::Encoder multi = tiny_encoder(5);
    require_equal_parameters(reference, multi);
    const auto options = torch::optim::SGDOptions(0.05)
                             .momentum(s.momentum)
                             .dampening(s.dampening)
                             .nesterov(s.nesterov);
    torch::optim::SGD sgd(st::sgd_parameter_groups(*reference, s.weight_decay, s.decay_1d),
                          options);
    st::multi_tensor_sgd fused(st::sgd_parameter_groups(*multi, s.weight_decay, s.decay_1d),
                               options);
    for (std::uint64_t step = 0; step < 4; ++step) {
      // Step 1 leaves the projector's first layer without a gradient: its buffer starts late.
      const std::string skip = step == 1 ? "projector.0" : "";
      set_gradients(reference, 100 + step, skip);
      set_gradients(multi, 100 + step, skip);
      st::set_learning_rate(sgd, 0.05 / static_cast<double>(step + 1));
      st::set_learning_rate(fused, 0.05 / static_cast<double>(step + 1));
      sgd.step();
      fused.step();
      require_equal_parameters(reference, multi);
    }
    CHECK(sgd.state().size() == fused.state().size());
  }
}

TEST_CASE("multi_tensor_sgd's state is SGD's: a checkpoint of one resumes in the other",
          "[trainer][optimizer]") {
  spectral_test::temp_folder tmp;
  st::Encoder reference = tiny_encoder(7);
  st::Encoder multi = tiny_encoder(7);
  const auto options = torch::optim::SGDOptions(0.1).momentum(0.9);
  st::multi_tensor_sgd fused(st::sgd_parameter_groups(*multi, 1e-4, true), options);
  torch::optim::SGD sgd(st::sgd_parameter_groups(*reference, 1e-4, true), options);
  for (std::uint64_t step = 0; step < 2; ++step) {
    set_gradients(reference, 200 + step);
    set_gradients(multi, 200 + step);
    sgd.step();
    fused.step();
  }
  // multi_tensor_sgd's momentum buffers, saved and loaded into a plain SGD over the other model.
  torch::serialize::OutputArchive out;
  fused.save(out);
  out.save_to((tmp.path / "sgd.pt").string());
  torch::optim::SGD restored(st::sgd_parameter_groups(*reference, 1e-4, true), options);
  torch::serialize::InputArchive in;
  in.load_from((tmp.path / "sgd.pt").string());
  restored.load(in);
  set_gradients(reference, 300);
  set_gradients(multi, 300);
  restored.step();
  fused.step();
  require_equal_parameters(reference, multi);
}
