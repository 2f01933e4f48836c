// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Evaluation of a frozen encoder as the reference does it (docs/trainer.md#cifar): k-NN on
/// backbone features (k = 5 Euclidean majority vote; k = 20 and 200 cosine, weighted), a linear
/// probe (Adam, lr 1e-2, wd 5e-6, batches of 1000, exponential decay to 1e-6), top-1 and top-5,
/// and the spectrum of the features.

#include <spectral/spectral.hpp>

#include <torch/nn/functional.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>

namespace spectral::trainer {

struct accuracy {
  double top1 = 0.0;  ///< percent
  double top5 = 0.0;  ///< percent
};

/// Backbone features of every image (eval mode, no gradient), in batches.
[[nodiscard]] inline torch::Tensor extract_features(
    const std::function<torch::Tensor(const torch::Tensor&)>& features_of,
    const torch::Tensor& images,
    std::int64_t batch = 512) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (std::int64_t first = 0; first < images.size(0); first += batch) {
    const std::int64_t last = std::min(first + batch, images.size(0));
    parts.push_back(features_of(images.slice(0, first, last)).to(torch::kFloat32).cpu());
  }
  return torch::cat(parts);
}

/// Top-1/top-5 of per-class scores (N×C) against labels.
[[nodiscard]] inline accuracy score(const torch::Tensor& scores, const torch::Tensor& labels) {
  const std::int64_t k = std::min<std::int64_t>(5, scores.size(1));
  const auto top = std::get<1>(scores.topk(k, 1));
  const auto hits = top.eq(labels.unsqueeze(1));
  const double n = static_cast<double>(labels.size(0));
  return {100.0 * hits.select(1, 0).sum().item<double>() / n,
          100.0 * hits.any(1).sum().item<double>() / n};
}

/// k-NN with Euclidean distance and a majority vote; ties go to the smallest class id (the
/// reference's unique() + argmax). Top-5 ranks classes by vote count.
[[nodiscard]] inline accuracy knn_euclidean(const torch::Tensor& bank,
                                            const torch::Tensor& bank_labels,
                                            const torch::Tensor& queries,
                                            const torch::Tensor& labels,
                                            std::int64_t classes,
                                            std::int64_t k = 5) {
  std::vector<torch::Tensor> votes;
  for (std::int64_t first = 0; first < queries.size(0); first += 256) {
    const auto q = queries.slice(0, first, std::min(first + 256, queries.size(0)));
    const auto nearest = std::get<1>(torch::cdist(q, bank).topk(k, 1, /*largest=*/false));
    const auto neighbour_labels = bank_labels.index_select(0, nearest.flatten()).view({-1, k});
    auto count = torch::zeros({q.size(0), classes}, torch::kFloat64);
    count.scatter_add_(1, neighbour_labels, torch::ones_like(neighbour_labels, torch::kFloat64));
    // A tiny decreasing bias per class id makes ties resolve to the smallest id.
    count -= torch::arange(classes, torch::kFloat64) * 1e-6;
    votes.push_back(count);
  }
  return score(torch::cat(votes), labels);
}

/// Weighted cosine k-NN (votes exp(cos/0.07), as in InstDisc/DINO evaluations).
[[nodiscard]] inline accuracy knn_cosine(const torch::Tensor& bank,
                                         const torch::Tensor& bank_labels,
                                         const torch::Tensor& queries,
                                         const torch::Tensor& labels,
                                         std::int64_t classes,
                                         std::int64_t k) {
  namespace F = torch::nn::functional;
  const auto bank_n = F::normalize(bank, F::NormalizeFuncOptions().dim(1));
  std::vector<torch::Tensor> votes;
  for (std::int64_t first = 0; first < queries.size(0); first += 256) {
    const auto q = F::normalize(queries.slice(0, first, std::min(first + 256, queries.size(0))),
                                F::NormalizeFuncOptions().dim(1));
    const auto [similarity, nearest] = q.mm(bank_n.t()).topk(std::min(k, bank.size(0)), 1);
    const auto neighbour_labels =
        bank_labels.index_select(0, nearest.flatten()).view(nearest.sizes());
    auto count = torch::zeros({q.size(0), classes}, torch::kFloat32);
    count.scatter_add_(1, neighbour_labels, (similarity / 0.07).exp());
    votes.push_back(count);
  }
  return score(torch::cat(votes), labels);
}

/// Linear probe on frozen features: Linear(F, C), Adam lr 1e-2, wd 5e-6, mini-batches of 1000,
/// lr decayed exponentially to 1e-6 at the last epoch (docs/trainer.md#cifar). Features are
/// standardised with the training bank's statistics first (a fixed affine map; it only conditions
/// Adam).
[[nodiscard]] inline accuracy linear_probe(const torch::Tensor& bank,
                                           const torch::Tensor& bank_labels,
                                           const torch::Tensor& queries,
                                           const torch::Tensor& labels,
                                           std::int64_t classes,
                                           std::int64_t epochs,
                                           std::uint64_t seed) {
  torch::manual_seed(seed);
  const auto mean = bank.mean(0, true);
  const auto scale = bank.std(0, true, true).clamp_min(1e-6);
  const auto train_x = (bank - mean) / scale;
  const auto test_x = (queries - mean) / scale;
  torch::nn::Linear classifier(bank.size(1), classes);
  torch::optim::Adam optimizer(classifier->parameters(),
                               torch::optim::AdamOptions(1e-2).weight_decay(5e-6));
  const double gamma =
      std::pow(1e-6 / 1e-2, 1.0 / static_cast<double>(std::max<std::int64_t>(epochs, 1)));
  double lr = 1e-2;
  const std::int64_t n = train_x.size(0);
  for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
    const auto order = torch::randperm(n, torch::kInt64);
    for (std::int64_t first = 0; first < n; first += 1000) {
      const auto index = order.slice(0, first, std::min(first + 1000, n));
      optimizer.zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(
          classifier(train_x.index_select(0, index)), bank_labels.index_select(0, index));
      loss.backward();
      optimizer.step();
    }
    lr *= gamma;
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
  }
  torch::NoGradGuard no_grad;
  return score(classifier(test_x), labels);
}

/// Effective rank and condition number of the features' covariance (features axis).
[[nodiscard]] inline spectrum_report feature_spectrum(const torch::Tensor& features) {
  const auto f = features.to(torch::kFloat64).contiguous();
  return spectrum<double>(embedding_map(f.data_ptr<double>(), f.size(0), f.size(1)),
                          options{.axis = axis::features});
}

}  // namespace spectral::trainer
