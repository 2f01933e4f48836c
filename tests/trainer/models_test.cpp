// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// ResNet backbones, projector and encoder (docs/trainer.md#architecture): output shapes,
// torchvision parameter counts, the reference's zero-init rule, the folded stem pad, gradient
// flow and deep copies.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "models/ema.hpp"
#include "models/projector.hpp"
#include "models/resnet.hpp"

#include <spectral/core/error.hpp>

#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using spectral::trainer::Encoder;
using spectral::trainer::Projector;
using spectral::trainer::ResNet;
using spectral::trainer::resnet_options;

std::int64_t parameter_count(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters()) {
    n += p.numel();
  }
  return n;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// γ of each residual block's last BN: keys "layerI.J.bnK.weight" with K = 2 (basic) or 3.
std::vector<torch::Tensor> last_bn_weights(const ResNet& net, const std::string& bn) {
  std::vector<torch::Tensor> out;
  for (const auto& item : net->named_parameters()) {
    if (item.key().rfind("layer", 0) == 0 && ends_with(item.key(), "." + bn + ".weight")) {
      out.push_back(item.value());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("resnet-18 and resnet-50 give pooled features of the right width", "[models]") {
  torch::manual_seed(0);
  SECTION("resnet-18, CIFAR stem, one-channel 28×28") {
    resnet_options o = resnet_options::reference(18, true);
    o.in_channels = 1;
    ResNet net(o);
    CHECK(net->feature_dim() == 512);
    const auto y = net->forward(torch::randn({2, 1, 28, 28}));
    CHECK(y.sizes() == torch::IntArrayRef({2, 512}));
  }
  SECTION("resnet-18, ImageNet stem, 64×64") {
    ResNet net(resnet_options::reference(18, false));
    const auto y = net->forward(torch::randn({2, 3, 64, 64}));
    CHECK(y.sizes() == torch::IntArrayRef({2, 512}));
  }
  SECTION("resnet-50, ImageNet stem, 64×64") {
    ResNet net(resnet_options::reference(50, false));
    CHECK(net->feature_dim() == 2048);
    const auto y = net->forward(torch::randn({2, 3, 64, 64}));
    CHECK(y.sizes() == torch::IntArrayRef({2, 2048}));
  }
  SECTION("channels_last input gives the same features") {
    ResNet net(resnet_options::reference(18, true));
    net->eval();
    const auto x = torch::randn({2, 3, 32, 32});
    const auto a = net->forward(x);
    const auto b = net->forward(x.contiguous(torch::MemoryFormat::ChannelsLast));
    CHECK(torch::allclose(a, b, 1e-4, 1e-5));
  }
}

TEST_CASE("the stem reproduces the reference's extra zero pad", "[models]") {
  // 32×32 CIFAR: pad 1 → 34×34, 3×3 s1 p1 → 34, stages → 34, 17, 9, 5 (4×4 without the pad).
  ResNet cifar(resnet_options::reference(18, true));
  CHECK(cifar->feature_map(torch::randn({1, 3, 32, 32})).sizes() ==
        torch::IntArrayRef({1, 512, 5, 5}));
  // 224×224 ImageNet: pad 1 then 7×7 s2 p2 ≡ p3 → 112, max-pool → 56, stages → 56, 28, 14, 7.
  ResNet imagenet(resnet_options::reference(18, false));
  torch::NoGradGuard no_grad;
  CHECK(imagenet->feature_map(torch::randn({1, 3, 224, 224})).sizes() ==
        torch::IntArrayRef({1, 512, 7, 7}));

  // The folded pad against the reference's two steps, with the model's own conv1 weights.
  cifar->eval();
  const auto x = torch::randn({2, 3, 8, 8});
  const auto w = cifar->named_parameters()["conv1.weight"];
  const auto reference =
      torch::conv2d(torch::constant_pad_nd(x, {1, 1, 1, 1}), w, torch::Tensor(),
                    /*stride=*/torch::IntArrayRef{1}, /*padding=*/torch::IntArrayRef{1});
  const auto folded = torch::conv2d(x, w, torch::Tensor(), /*stride=*/torch::IntArrayRef{1},
                                    /*padding=*/torch::IntArrayRef{2});
  CHECK(torch::equal(reference, folded));
}

TEST_CASE("parameter counts equal torchvision's (without fc)", "[models]") {
  // Hand count from the layer shapes (no torchvision on this machine; the same sums were run
  // in /usr/bin/python3). Conv k×k in→out: in·out·k², no bias; BN C: 2·C (γ, β).
  // Stem: 7×7 conv 3→64 (9,408) + BN 64 (128) = 9,536.
  // ResNet-18, two basic blocks (3×3 in→p stride s, BN, 3×3 p→p, BN) per stage, plus a 1×1
  // in→p downsample + BN on the first block of stages 2-4:
  //   p=64:  2·(36,864 + 128 + 36,864 + 128)                                   =   147,968
  //   p=128: (73,728 + 256 + 147,456 + 256 + 8,192 + 256) + (2·147,456 + 512)   =   525,568
  //   p=256: (294,912 + 589,824 + 32,768 + 3·512) + (2·589,824 + 1,024)         = 2,099,712
  //   p=512: (1,179,648 + 2,359,296 + 131,072 + 3·1,024) + (2·2,359,296 + 2,048) = 8,393,728
  //   total 11,176,512 = torchvision's 11,689,512 − fc (512·1000 + 1000).
  // ResNet-50, bottlenecks (1×1 in→p, 3×3 p→p stride s, 1×1 p→4p, a BN after each) in
  // stages of (3, 4, 6, 3), 1×1 in→4p downsample + BN on each stage's first block:
  //   p=64: 215,808; p=128: 1,219,584; p=256: 7,098,368; p=512: 14,964,736
  //   total 9,536 + 23,498,496 = 23,508,032 = torchvision's 25,557,032 − fc (2048·1000 + 1000).
  CHECK(parameter_count(*ResNet(resnet_options::reference(18, false))) == 11'176'512);
  CHECK(parameter_count(*ResNet(resnet_options::reference(50, false))) == 23'508'032);
  // CIFAR stem: 3×3 conv 3→64 (1,728) instead of 9,408.
  CHECK(parameter_count(*ResNet(resnet_options::reference(18, true))) == 11'168'832);
  resnet_options gray = resnet_options::reference(18, true);
  gray.in_channels = 1;
  CHECK(parameter_count(*ResNet(gray)) == 11'167'680);
}

TEST_CASE("initialisation: zero-init residual follows the reference's depth rule", "[models]") {
  CHECK_FALSE(resnet_options::reference(18, true).zero_init_residual);
  CHECK(resnet_options::reference(50, false).zero_init_residual);
  CHECK(resnet_options::reference(34, false).zero_init_residual);

  ResNet r50(resnet_options::reference(50, false));
  const auto bn3 = last_bn_weights(r50, "bn3");
  REQUIRE(bn3.size() == 16);
  for (const auto& g : bn3) {
    CHECK(g.abs().max().item<float>() == 0.0F);
  }
  ResNet r18(resnet_options::reference(18, false));
  const auto bn2 = last_bn_weights(r18, "bn2");
  REQUIRE(bn2.size() == 8);
  for (const auto& g : bn2) {
    CHECK(torch::equal(g, torch::ones_like(g)));
  }
  resnet_options forced = resnet_options::reference(18, false);
  forced.zero_init_residual = true;
  for (const auto& g : last_bn_weights(ResNet(forced), "bn2")) {
    CHECK(g.abs().max().item<float>() == 0.0F);
  }

  // Other BN: γ = 1, β = 0; convs: Kaiming-normal fan_out, std = √(2 / (out·k²)).
  for (const auto& item : r18->named_parameters()) {
    if (ends_with(item.key(), "bn1.weight")) {
      CHECK(torch::equal(item.value(), torch::ones_like(item.value())));
    } else if (ends_with(item.key(), ".bias")) {
      CHECK(torch::equal(item.value(), torch::zeros_like(item.value())));
    }
  }
  const auto w = r18->named_parameters()["layer4.0.conv2.weight"];  // 512×512×3×3
  const double expected_std = std::sqrt(2.0 / (512.0 * 9.0));
  CHECK(std::abs(w.std().item<double>() / expected_std - 1.0) < 0.01);
}

TEST_CASE("bad resnet options throw invalid_input", "[models]") {
  CHECK_THROWS_AS(ResNet(resnet_options::reference(20, false)), spectral::invalid_input);
  resnet_options o;
  o.in_channels = 0;
  CHECK_THROWS_AS(ResNet(o), spectral::invalid_input);
  CHECK_THROWS_AS(Projector(512, 0, 128), spectral::invalid_input);
}

TEST_CASE("projector: shapes, biases, and the encoder around it", "[models]") {
  torch::manual_seed(1);
  Projector p(512, 64, 32);
  CHECK(p->forward(torch::randn({4, 512})).sizes() == torch::IntArrayRef({4, 32}));
  const auto params = p->named_parameters();
  CHECK(params.contains("0.weight"));
  CHECK_FALSE(params.contains("0.bias"));
  CHECK(params.contains("3.weight"));
  CHECK_FALSE(params.contains("3.bias"));
  CHECK(params.contains("6.bias"));
  CHECK(params["0.weight"].sizes() == torch::IntArrayRef({64, 512}));
  CHECK(params["3.weight"].sizes() == torch::IntArrayRef({64, 64}));
  CHECK(params["6.weight"].sizes() == torch::IntArrayRef({32, 64}));
  // PyTorch's default Linear init: weight and bias within ±1/√fan_in.
  CHECK(params["0.weight"].abs().max().item<double>() <= 1.0 / std::sqrt(512.0));
  CHECK(params["6.bias"].abs().max().item<double>() <= 1.0 / std::sqrt(64.0));

  resnet_options o = resnet_options::reference(18, true);
  o.in_channels = 1;
  Encoder e(o, 64, 32);
  const auto x = torch::randn({2, 1, 28, 28});
  CHECK(e->forward(x).sizes() == torch::IntArrayRef({2, 32}));
  CHECK(e->features(x).sizes() == torch::IntArrayRef({2, 512}));
  CHECK(e->named_parameters().contains("backbone.layer1.0.conv1.weight"));
  CHECK(e->named_parameters().contains("projector.6.bias"));
}

TEST_CASE("gradients reach every parameter of the encoder", "[models]") {
  torch::manual_seed(2);
  resnet_options o = resnet_options::reference(18, true);
  o.in_channels = 1;
  Encoder e(o, 64, 32);
  // Four images and a random weighting: with two rows BN1d outputs ±1 and the sum of a
  // train-mode BN output is constant, either of which would zero the upstream gradients.
  const auto y = e->forward(torch::randn({4, 1, 28, 28}));
  (y * torch::randn_like(y)).sum().backward();
  for (const auto& item : e->named_parameters()) {
    INFO(item.key());
    REQUIRE(item.value().grad().defined());
    CHECK(item.value().grad().abs().sum().item<double>() > 0.0);
  }
}

TEST_CASE("clone_frozen and copy_state give independent, equal copies", "[models]") {
  torch::manual_seed(3);
  resnet_options o = resnet_options::reference(18, true);
  o.in_channels = 1;
  o.width = 8;
  Encoder student(o, 16, 8);
  student->forward(torch::randn({4, 1, 12, 12}));  // move the BN running statistics
  Encoder teacher = spectral::trainer::clone_frozen(student);
  CHECK(teacher->is_training() == student->is_training());

  const auto t_params = teacher->named_parameters();
  const auto s_params = student->named_parameters();
  REQUIRE(t_params.size() == s_params.size());
  for (const auto& item : s_params) {
    const auto& copy = t_params[item.key()];
    CHECK_FALSE(copy.requires_grad());
    CHECK(torch::equal(copy, item.value()));
    CHECK(copy.data_ptr() != item.value().data_ptr());
  }
  const auto t_buffers = teacher->named_buffers();
  for (const auto& item : student->named_buffers()) {
    CHECK(torch::equal(t_buffers[item.key()], item.value()));
    CHECK(t_buffers[item.key()].data_ptr() != item.value().data_ptr());
  }
  // The copy works on its own (its holders point at its own children).
  CHECK(teacher->forward(torch::randn({4, 1, 12, 12})).sizes() == torch::IntArrayRef({4, 8}));

  Encoder other(o, 16, 8);
  spectral::trainer::copy_state(*other, *student);
  for (const auto& item : other->named_parameters()) {
    CHECK(torch::equal(item.value(), s_params[item.key()]));
  }
  for (const auto& item : other->named_buffers()) {
    CHECK(torch::equal(item.value(), student->named_buffers()[item.key()]));
  }

  Encoder narrower(o, 8, 8);
  CHECK_THROWS_AS(spectral::trainer::copy_state(*narrower, *student), spectral::invalid_input);

  // Bottleneck blocks clone too; in eval mode the copy computes the same function.
  resnet_options r50 = resnet_options::reference(50, false);
  r50.width = 4;
  ResNet net(r50);
  net->eval();
  ResNet frozen = spectral::trainer::clone_frozen(net);
  CHECK_FALSE(frozen->is_training());
  const auto x = torch::randn({2, 3, 32, 32});
  CHECK(torch::equal(frozen->forward(x), net->forward(x)));
}
