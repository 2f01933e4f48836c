// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The linear probe of the real-data experiment: a ridge least-squares classifier on one-hot
/// targets (closed form, deterministic, no tuning loop). The features are centred and divided
/// by one global scale (√(tr Σ / d)), not per coordinate, so the probe sees the embedding's
/// spectrum as it is: directions a collapsed embedding has shrunk stay small next to the penalty.

#include <spectral/core/types.hpp>

#include <Eigen/Cholesky>

#include <cmath>
#include <cstdint>
#include <vector>

namespace spectral::cli {

/**
 * @brief Fits on (train_features, train_labels), returns the accuracy on the test set.
 * @param ridge penalty added to the diagonal of FᵀF (F has n rows of average unit variance)
 */
[[nodiscard]] inline double linear_probe_accuracy(const row_matrix<double>& train_features,
                                                  const std::vector<std::uint8_t>& train_labels,
                                                  const row_matrix<double>& test_features,
                                                  const std::vector<std::uint8_t>& test_labels,
                                                  double ridge,
                                                  int classes = 10) {
  const Eigen::RowVectorXd mean = train_features.colwise().mean();
  row_matrix<double> train = train_features.rowwise() - mean;
  const double variance = train.squaredNorm() / static_cast<double>(train.size());
  const double scale = variance > 0 ? 1.0 / std::sqrt(variance) : 1.0;
  train *= scale;
  const index_t n = train.rows();
  const index_t d = train.cols();
  matrix<double> design(n, d + 1);
  design.leftCols(d) = train;
  design.col(d).setOnes();
  matrix<double> targets = matrix<double>::Zero(n, classes);
  for (index_t i = 0; i < n; ++i) {
    targets(i, train_labels[static_cast<std::size_t>(i)]) = 1.0;
  }
  matrix<double> gram = design.transpose() * design;
  gram.diagonal().head(d).array() += ridge;  // the bias is not penalised
  const matrix<double> weights = gram.ldlt().solve(design.transpose() * targets);

  const row_matrix<double> test = (test_features.rowwise() - mean) * scale;
  const matrix<double> scores = (test * weights.topRows(d)).rowwise() + weights.row(d);
  long correct = 0;
  for (index_t i = 0; i < scores.rows(); ++i) {
    index_t best = 0;
    scores.row(i).maxCoeff(&best);
    correct += best == test_labels[static_cast<std::size_t>(i)] ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(scores.rows());
}

}  // namespace spectral::cli
