// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Shape axes, the benchmarked methods' parameters, seeded data and the time policy shared by
/// both sides. The methods themselves are the library's registry (spectral/methods/registry.hpp).

#include <spectral/spectral.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace spectral::bench {

inline constexpr std::array<index_t, 4> feature_sizes{64, 256, 1024, 2048};  // D
inline constexpr std::array<index_t, 2> batch_sizes{256, 1024};              // N
inline constexpr double power_p = 0.25;         ///< p of every power-function row
inline constexpr int iter_norm_iterations = 4;  ///< T of every IterNorm row
/// Shrinkage for singular rows (K ≥ M), relative to the mean eigenvalue tr Σ / K. Large enough
/// that the library's float32 positive-definiteness floor (K·ε·λ_max) is cleared at K = 2048.
inline constexpr double relative_eps = 1e-2;

enum class pass_id { forward, forward_backward };

/// A registered method with the benchmarks' parameters (p = power_p, T = iter_norm_iterations).
template <class Method>
[[nodiscard]] method_spec bench_method() {
  method_spec spec = spec_of<Method>();
  spec.power = power_p;
  spec.iterations = iter_norm_iterations;
  return spec;
}

[[nodiscard]] constexpr std::string_view to_string(pass_id p) noexcept {
  return p == pass_id::forward ? "forward" : "forward_backward";
}

/// One row of the table: the same case runs on both sides.
struct bench_case {
  method_spec method;  ///< the benchmarks' parameters (bench_method); rows are named by its name
  axis ax;
  pass_id pass;
  index_t n;  ///< samples (rows of Z)
  index_t d;  ///< features (columns of Z)

  [[nodiscard]] index_t covariance_size() const noexcept { return ax == axis::features ? d : n; }
  [[nodiscard]] index_t observations() const noexcept { return ax == axis::features ? n : d; }
  /// K ≥ M: Σ is singular, so every method but IterNorm runs with eps.
  [[nodiscard]] bool needs_eps() const noexcept {
    return method.name != iter_norm::name() && covariance_size() >= observations();
  }
  /// "<method>/<axis>/<pass>/N:<n>/D:<d>", the tail shared by BM_spectral and BM_torch.
  [[nodiscard]] std::string tail() const {
    return method.name + "/" + std::string(spectral::to_string(ax)) + "/" +
           std::string(to_string(pass)) + "/N:" + std::to_string(n) + "/D:" + std::to_string(d);
  }
};

/// Seeded N×D input, rows = samples: Z = G · diag(s) with G standard normal and the column
/// scale s_j = 10^(−j/D) decaying from 1 to 0.1 (an anisotropic, well-conditioned spectrum
/// whenever M > K), plus a fixed random output gradient of the same shape.
struct problem {
  row_matrix<float> z;
  row_matrix<float> grad_out;
  double eps = 0.0;
};

[[nodiscard]] inline row_matrix<float> gaussian(index_t rows, index_t cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  row_matrix<float> out(rows, cols);
  for (index_t i = 0; i < out.size(); ++i) {
    out.data()[i] = normal(gen);
  }
  return out;
}

/// tr Σ / K in double for the case's axis (no eps): the mean eigenvalue.
[[nodiscard]] inline double mean_eigenvalue(const row_matrix<float>& z, axis ax) {
  const Eigen::MatrixXd zd = z.cast<double>();
  Eigen::MatrixXd centred = zd;
  index_t k = 0;
  index_t m = 0;
  if (ax == axis::features) {
    centred.rowwise() -= zd.colwise().mean();
    k = z.cols();
    m = z.rows();
  } else {
    centred.colwise() -= zd.rowwise().mean();
    k = z.rows();
    m = z.cols();
  }
  return centred.squaredNorm() / static_cast<double>(m - 1) / static_cast<double>(k);
}

[[nodiscard]] inline problem make_problem(const bench_case& c) {
  problem p;
  const auto seed = static_cast<std::uint32_t>(c.n * 7919 + c.d);
  p.z = gaussian(c.n, c.d, seed);
  for (index_t j = 0; j < c.d; ++j) {
    const double scale = std::pow(10.0, -static_cast<double>(j) / static_cast<double>(c.d));
    p.z.col(j) *= static_cast<float>(scale);
  }
  p.grad_out = gaussian(c.n, c.d, seed + 1);
  p.eps = c.needs_eps() ? relative_eps * mean_eigenvalue(p.z, c.ax) : 0.0;
  return p;
}

}  // namespace spectral::bench
