// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// Quickstart: the spectrum of an anisotropic embedding before and after two spectral
// transformations (ZCA whitening and IterNorm), and a gradient through IterNorm.

#include <spectral/spectral.hpp>

#include <Eigen/QR>

#include <cmath>
#include <cstdio>
#include <random>

namespace {

using spectral::index_t;
using spectral::row_matrix;

void print_spectrum(const char* label, const spectral::spectrum_report& r) {
  std::printf("%-28s effective rank %6.2f of %ld, condition number %10.4g, top eigenvalues", label,
              r.effective_rank, static_cast<long>(r.eigenvalues.size()), r.condition_number);
  for (index_t i = 0; i < 4; ++i) {
    std::printf(" %.3g", r.eigenvalues(i));
  }
  std::printf("\n");
}

}  // namespace

int main() {
  // 1. An N×D embedding (rows = samples) whose covariance spectrum decays geometrically, in a
  //    random basis, so the transforms have real mixing to undo.
  constexpr index_t n = 512;
  constexpr index_t d = 32;
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  const auto gaussian = [&](index_t rows, index_t cols) {
    return row_matrix<double>(
        row_matrix<double>::NullaryExpr(rows, cols, [&] { return normal(rng); }));
  };
  Eigen::VectorXd scale(d);
  for (index_t j = 0; j < d; ++j) {
    scale(j) = std::pow(0.8, static_cast<double>(j));
  }
  const Eigen::MatrixXd basis =
      Eigen::HouseholderQR<Eigen::MatrixXd>(gaussian(d, d)).householderQ();
  const row_matrix<double> z = gaussian(n, d) * scale.asDiagonal() * basis.transpose();
  print_spectrum("input embedding:", spectral::spectrum<double>(z));

  // 2. ZCA whitening, W = Σ^{-1/2} on the D×D feature covariance: every eigenvalue becomes 1.
  const spectral::zca_transform<double> zca;
  const auto whitened = zca.forward(z);
  print_spectrum("after zca:", spectral::spectrum<double>(whitened.output));

  // 3. IterNorm with T = 4 Newton iterations: no eigendecomposition, and the output spectrum is
  //    the predicted f_T(λ/τ) (the library's output_spectrum map), flatter but not flat.
  const spectral::iter_norm method{4};
  const spectral::iter_norm_transform<double> iter_norm{method};
  auto normalized = iter_norm.forward(z);
  const auto after = spectral::spectrum<double>(normalized.output);
  print_spectrum("after iter_norm (T=4):", after);
  const auto predicted =
      spectral::output_spectrum(method, spectral::spectrum<double>(z).eigenvalues);
  std::printf("%-28s largest %.4g (measured %.4g), smallest %.4g (measured %.4g)\n",
              "iter_norm predicted:", predicted.maxCoeff(), after.eigenvalues.maxCoeff(),
              predicted.minCoeff(), after.eigenvalues.minCoeff());

  // 4. Backward: the trace loss of the IterNorm output, differentiated back to the embedding.
  row_matrix<double> grad_y(n, d);
  spectral::embedding_ref<double> grad_y_ref(grad_y);
  const double loss =
      spectral::trace_loss<double>(normalized.output, spectral::axis::features, &grad_y_ref);
  const row_matrix<double> grad_z = iter_norm.backward(normalized.context, grad_y);
  // IterNorm is scale invariant, so the gradient is orthogonal to the centred input.
  const double radial = grad_z.cwiseProduct(normalized.context.centered()).sum() /
                        (grad_z.norm() * normalized.context.centered().norm());
  std::printf("%-28s trace loss %.4g, |dL/dZ| %.4g, cos(dL/dZ, Z_c) %.1e\n", "gradient:", loss,
              grad_z.norm(), radial);
  return 0;
}
