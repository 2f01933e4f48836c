// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Whitens a small embedding through the installed (or embedded) library and checks Σ_Y = I.
#include <spectral/spectral.hpp>

#include <cstdio>

// Built against spectral::blas (CMake) or spectral-blas (pkg-config): the accelerated paths must
// be switched on, so the eigensolver below runs through LAPACKE and the link proves the libraries.
#if defined(SPECTRAL_CONSUMER_EXPECT_BLAS) && \
    !(defined(EIGEN_USE_BLAS) && defined(SPECTRAL_USE_LAPACKE))
#error "spectral::blas did not bring EIGEN_USE_BLAS and SPECTRAL_USE_LAPACKE"
#endif

int main() {
  const spectral::row_matrix<double> z = spectral::row_matrix<double>::Random(64, 4);
  const spectral::zca_transform<double> zca;
  const auto result = zca.forward(z);
  const auto sigma_y = spectral::covariance<double>(result.output);
  const double error = (sigma_y - spectral::matrix<double>::Identity(4, 4)).norm();
  std::printf("spectral %s: |cov(Y) - I| = %.3g\n", spectral::version_string, error);
  return error < 1e-10 ? 0 : 1;
}
