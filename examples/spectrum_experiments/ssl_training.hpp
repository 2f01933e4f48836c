// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The self-supervised training loop shared by the collapse experiments (synthetic and
/// Fashion-MNIST): two views per sample, one encoder, one ST instance, SGD; the spectrum of the
/// embedding of a fixed evaluation set is recorded along the way.

#include "encoder.hpp"
#include "random.hpp"
#include "ssl_objective.hpp"

#include <spectral/spectral.hpp>

#include <algorithm>
#include <exception>
#include <limits>
#include <string>
#include <vector>

namespace spectral::cli {

struct training_settings {
  int steps = 1000;
  double learning_rate = 0.1;
  double momentum = 0.9;
  double weight_decay = 0.0;
  int log_every = 50;
};

/// The embedding's spectrum (features axis: D×D covariance over the evaluation set) at one step.
struct spectrum_snapshot {
  int step = 0;
  loss_terms loss;
  double effective_rank = 0;
  double condition_number = 0;  ///< capped at 1/(Dε) ≈ 1e14: beyond that Σ is numerically singular
  vector<double> normalized;  ///< λ_i / Σλ, descending
};

struct training_outcome {
  std::vector<spectrum_snapshot> snapshots;
  int failed_step = -1;  ///< the step whose loss threw (e.g. a singular Σ for whitening), or -1
  std::string failure;

  [[nodiscard]] bool failed() const noexcept { return failed_step >= 0; }
};

/// λ_max / λ_min with λ_min floored at Dε·λ_max, so a singular Σ reads 1/(Dε) instead of +inf.
[[nodiscard]] inline double bounded_condition_number(const vector<double>& eigenvalues) {
  const double largest = eigenvalues.maxCoeff();
  const double floor =
      static_cast<double>(eigenvalues.size()) * std::numeric_limits<double>::epsilon() * largest;
  return largest / std::max(eigenvalues.minCoeff(), floor);
}

[[nodiscard]] inline spectrum_snapshot measure(const encoder& enc,
                                               const row_matrix<double>& eval_inputs,
                                               int step,
                                               loss_terms loss) {
  const spectrum_report report = spectrum<double>(enc.forward(eval_inputs));
  return {step, loss, report.effective_rank, bounded_condition_number(report.eigenvalues),
          report.normalized};
}

/**
 * @brief Trains `enc` for settings.steps SGD steps on `loss`; snapshots at step 0, every
 *        log_every steps and at the end. A step that throws ends the run (recorded, not rethrown).
 * @param sample_views fills (x1, x2), two views of one batch, from the given random source
 */
template <class ViewSampler>
training_outcome train_ssl(encoder& enc,
                           const two_view_loss& loss,
                           ViewSampler&& sample_views,
                           const row_matrix<double>& eval_inputs,
                           const training_settings& settings,
                           random_source& data_rng) {
  training_outcome outcome;
  row_matrix<double> x1;
  row_matrix<double> x2;
  row_matrix<double> grad1;
  row_matrix<double> grad2;
  encoder::cache cache1;
  encoder::cache cache2;
  for (int step = 0; step <= settings.steps; ++step) {
    sample_views(data_rng, x1, x2);
    const bool log = step % settings.log_every == 0 || step == settings.steps;
    try {
      const row_matrix<double> z1 = enc.forward(x1, &cache1);
      const row_matrix<double> z2 = enc.forward(x2, &cache2);
      const loss_terms terms = loss(z1, z2, grad1, grad2);
      if (log) {
        outcome.snapshots.push_back(measure(enc, eval_inputs, step, terms));
      }
      if (step == settings.steps) {
        break;
      }
      encoder::gradients grads = enc.zero_gradients();
      enc.backward(cache1, grad1, grads);
      enc.backward(cache2, grad2, grads);
      enc.sgd_step(grads, settings.learning_rate, settings.momentum, settings.weight_decay);
    } catch (const std::exception& e) {
      outcome.failed_step = step;
      outcome.failure = e.what();
      if (outcome.snapshots.empty()) {
        // The loss failed at once (e.g. whitening a singular Σ): keep the encoder's spectrum so
        // that the run still has a row; the status column says it failed.
        outcome.snapshots.push_back(measure(enc, eval_inputs, step, loss_terms{}));
      }
      break;
    }
  }
  return outcome;
}

}  // namespace spectral::cli
