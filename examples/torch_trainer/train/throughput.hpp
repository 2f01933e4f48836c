// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Throughput tooling (issue 6): the training step alone on synthetic views, the loader alone,
/// and the two together, each reporting images/s, so the gap between compute, loader and the
/// whole is one command each.

#include "bridge/intl_loss.hpp"
#include "models/projector.hpp"
#include "models/resnet.hpp"
#include "train/config.hpp"
#include "train/schedule.hpp"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <vector>

namespace spectral::trainer {

/**
 * @brief The training step alone on random views made on the device (no loader, no
 *        augmentation): the compute side of the throughput gap. The first 2 steps warm up.
 * @return images/s over the timed steps (2 views per image, as in training)
 */
inline nlohmann::json synthetic_throughput(const train_config& c, std::ostream& log) {
  SPECTRAL_EXPECTS(c.synthetic_steps >= 1, "--synthetic-steps: must be >= 1, got ",
                   c.synthetic_steps);
  SPECTRAL_EXPECTS(c.synthetic_size >= 8, "--synthetic-size: must be >= 8, got ", c.synthetic_size);
  SPECTRAL_EXPECTS(c.synthetic_channels == 1 || c.synthetic_channels == 3,
                   "--synthetic-channels: 1 or 3, got ", c.synthetic_channels);
  resnet_options backbone = resnet_options::reference(c.depth, c.cifar_stem);
  backbone.in_channels = c.synthetic_channels;
  backbone.width = c.width;
  Encoder encoder(backbone, c.projector, c.projector);
  const std::int64_t covariance_size = c.transform.opts.axis == axis::samples ? c.batch : c.projector;
  IntlLoss loss(c.transform, c.beta >= 0.0 ? c.beta : trade_off_beta(covariance_size));
  torch::optim::SGD optimizer(sgd_parameter_groups(*encoder, c.weight_decay, c.decay_1d),
                              torch::optim::SGDOptions(c.lr).momentum(0.9));
  set_learning_rate(optimizer, c.lr * static_cast<double>(c.batch) / 256.0);
  const auto shape = std::vector<std::int64_t>{c.batch, c.synthetic_channels, c.synthetic_size,
                                               c.synthetic_size};
  constexpr std::int64_t warmup = 2;
  std::chrono::steady_clock::time_point start;
  double last_loss = 0.0;
  for (std::int64_t step = 0; step < warmup + c.synthetic_steps; ++step) {
    if (step == warmup) {
      start = std::chrono::steady_clock::now();
    }
    const auto terms = loss->forward({encoder->forward(torch::randn(shape)),
                                      encoder->forward(torch::randn(shape))});
    last_loss = terms.total.item<double>();
    optimizer.zero_grad();
    terms.total.backward();
    optimizer.step();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double images_per_s = static_cast<double>(c.synthetic_steps * c.batch) / seconds;
  log << "synthetic: " << c.synthetic_steps << " steps of " << c.batch << " images ("
      << c.synthetic_channels << "x" << c.synthetic_size << "x" << c.synthetic_size
      << ", 2 views), " << seconds / static_cast<double>(c.synthetic_steps) * 1e3 << " ms/step, "
      << images_per_s << " images/s on " << c.device << " with " << torch::get_num_threads()
      << " threads\n";
  return {{"synthetic",
           {{"images_per_s", images_per_s},
            {"ms_per_step", seconds / static_cast<double>(c.synthetic_steps) * 1e3},
            {"steps", c.synthetic_steps},
            {"batch", c.batch},
            {"image_size", c.synthetic_size},
            {"last_loss", last_loss},
            {"threads", torch::get_num_threads()}}}};
}

}  // namespace spectral::trainer
