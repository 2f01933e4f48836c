// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// The claim of docs/math.md#distributed-gather, end to end: W processes, each with its share of a
// fixed global batch, gathering before IterNorm (samples axis) and INTL, then averaging parameter
// gradients, produce the single-process gradient of the global-batch loss. Each run writes its
// loss and parameter gradients as text (%.17g) for tests/trainer/distributed_test.py to compare.
//
//   two_process_check --rank R --world-size W --port P --out FILE [--addr A] [--reduce mean|sum]
//
// --world-size 1 is the reference on the whole batch; --reduce sum (no ÷W) exists to show that
// the averaging is needed (its gradients are W× the reference).

#include "distributed/gather.hpp"
#include "distributed/process_group.hpp"
#include "torch_bridge.hpp"

#include <spectral/spectral.hpp>

#include <torch/nn/modules/linear.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::int64_t global_batch = 16;
constexpr std::int64_t input_dim = 16;
constexpr std::int64_t embedding_dim = 32;  // M = 32 > K = 16: non-singular N×N covariance

struct arguments {
  spectral::trainer::dist_config dist;
  std::string out;
  bool average = true;
};

arguments parse(int argc, char** argv) {
  arguments a;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto flag = args[i];
    SPECTRAL_EXPECTS(i + 1 < args.size(), flag, ": missing value");
    const std::string value{args[++i]};
    if (flag == "--rank") {
      a.dist.rank = std::stoi(value);
    } else if (flag == "--world-size") {
      a.dist.world_size = std::stoi(value);
    } else if (flag == "--port") {
      a.dist.master_port = std::stoi(value);
    } else if (flag == "--addr") {
      a.dist.master_addr = value;
    } else if (flag == "--out") {
      a.out = value;
    } else if (flag == "--reduce") {
      SPECTRAL_EXPECTS(value == "mean" || value == "sum", "--reduce: mean or sum, got '", value,
                       "'");
      a.average = value == "mean";
    } else {
      SPECTRAL_EXPECTS(false, "unknown flag '", flag, "'");
    }
  }
  SPECTRAL_EXPECTS(!a.out.empty(), "--out: required");
  SPECTRAL_EXPECTS(a.dist.world_size >= 1 && global_batch % a.dist.world_size == 0,
                   "--world-size: must divide the global batch ", global_batch, ", got ",
                   a.dist.world_size);
  a.dist.timeout_seconds = 60;
  return a;
}

int run(const arguments& a) {
  torch::set_num_threads(1);  // same reduction order in every process
  spectral::trainer::distributed dist{a.dist};

  // Same seed everywhere: every process builds the same model and the same global batch.
  torch::manual_seed(20260417);
  torch::nn::Linear model(input_dim, embedding_dim);
  model->to(torch::kFloat64);
  const auto base = torch::randn({global_batch, input_dim}, torch::kFloat64);
  const std::vector<torch::Tensor> views{base + 0.3 * torch::randn_like(base),
                                         base + 0.3 * torch::randn_like(base)};
  auto parameters = model->parameters();
  dist.broadcast_(parameters, 0);  // what a real run does; a no-op here up to bits

  const std::int64_t rows = global_batch / dist.world_size();
  const std::int64_t begin = rows * dist.rank();
  std::vector<torch::Tensor> gathered;
  for (const auto& v : views) {
    gathered.push_back(
        spectral::trainer::all_gather_with_backward(model(v.slice(0, begin, begin + rows)), dist));
  }
  spectral::trainer::transform_spec spec;  // IterNorm T = 4 on the samples axis
  const double beta = 0.01 * (std::log2(static_cast<double>(global_batch)) - 3.0);
  spectral::trainer::IntlLoss loss(spec, beta);
  const auto terms = loss(gathered);
  terms.total.backward();

  std::vector<torch::Tensor> grads;
  for (const auto& p : model->parameters()) {
    grads.push_back(p.grad());
  }
  dist.all_reduce_mean_(grads);
  if (!a.average) {
    for (auto& g : grads) {
      g.mul_(dist.world_size());
    }
  }

  std::ofstream out(a.out);
  SPECTRAL_EXPECTS(out.good(), "--out: cannot write '", a.out, "'");
  out << std::setprecision(17) << "loss 1\n" << terms.total.item<double>() << '\n';
  const auto named = model->named_parameters();
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const auto g = grads[i].contiguous();
    out << named[i].key() << ' ' << g.numel() << '\n';
    const auto* v = g.data_ptr<double>();
    for (std::int64_t j = 0; j < g.numel(); ++j) {
      out << v[j] << '\n';
    }
  }
  out.close();
  SPECTRAL_EXPECTS(out.good(), "--out: writing '", a.out, "' failed");
  dist.barrier();  // nobody leaves while a peer still needs the group
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    std::cerr << "two_process_check: error: " << what.substr(0, what.find('\n')) << '\n';
    return 1;
  }
}
