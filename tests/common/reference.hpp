// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// Plain double-precision reference ("test oracle") for the spectral transforms of
// Weng et al., "Modulate Your Spectrum in Self-Supervised Learning" (ICLR 2024).
//
// This file shares no code with include/spectral on purpose: it is written straight from the
// math in docs/math.md (docs/math.md#notation, docs/math.md#instances, docs/math.md#backward,
// docs/math.md#trade-off-beta, docs/math.md#intl-loss) and favours clarity over speed. Every
// transform goes through a dense eigendecomposition or Cholesky factorisation; IterNorm in
// particular is evaluated through its scalar recursion on the eigenvalues (the "spectral oracle"
// of docs/math.md#iternorm and docs/math.md#backward-iternorm), never through the Newton
// iteration on matrices.
//
// Layout conventions (Z is N×D, one sample per row):
//   axis::features : X = Zᵀ (K = D, M = N), centre each feature over the N samples,
//                    Σ is D×D with divisor N−1, output Ẑ = Yᵀ.
//   axis::samples  : X = Z  (K = N, M = D), centre each sample over its D features,
//                    Σ is N×N with divisor D−1, output Ẑ = Y.
//   groups G       : the D columns of Z are split into G equal contiguous blocks, each block is
//                    transformed as an independent N×(D/G) embedding with the rules above.
//   eps            : Σ ← Σ + eps·I (after the divisor).

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace spectral_test::reference {

enum class axis { samples, features };
enum class method { zca, pca, cholesky, power, iter_norm };

struct config {
  method kind = method::zca;
  double power = 0.5;  ///< exponent p of the power-function ST (W = Σ^{-p}); method::power only
  int iterations = 4;  ///< T of IterNorm; method::iter_norm only
  /// Library side only: run IterNorm's eigen route (iter_norm_solver::eigen) instead of its
  /// Newton iterations. The reference has a single route and ignores this.
  bool eigen_route = false;
  axis ax = axis::features;
  int groups = 1;
  double eps = 0.0;
};

/// Relative gap below which two eigenvalues are treated as equal in divided differences.
inline constexpr double near_equal_tolerance = 1e-9;

// ------------------------------------------------------------------------------------------------
// Scalar IterNorm maps (docs/math.md#iternorm)
// ------------------------------------------------------------------------------------------------

/// p_T(x): p_0 = 1, p_k = p_{k-1} (3 − x p_{k-1}²) / 2.
inline double iter_norm_poly(double x, int iterations) {
  double p = 1.0;
  for (int k = 0; k < iterations; ++k) {
    p = p * (3.0 - x * p * p) / 2.0;
  }
  return p;
}

/// p_T'(x), by differentiating the recursion.
inline double iter_norm_poly_derivative(double x, int iterations) {
  double p = 1.0;
  double dp = 0.0;
  for (int k = 0; k < iterations; ++k) {
    // p_k = (3 p − x p³)/2  ⇒  p_k' = (3 p' − p³ − 3 x p² p')/2
    const double next_dp = (3.0 * dp - p * p * p - 3.0 * x * p * p * dp) / 2.0;
    p = p * (3.0 - x * p * p) / 2.0;
    dp = next_dp;
  }
  return dp;
}

/// f_T(x) = x p_T(x)²: output eigenvalue of IterNorm for a normalised input eigenvalue x = λ/τ.
inline double iter_norm_output_eigenvalue(double x, int iterations) {
  const double p = iter_norm_poly(x, iterations);
  return x * p * p;
}

// ------------------------------------------------------------------------------------------------
// Small linear-algebra helpers
// ------------------------------------------------------------------------------------------------

inline Eigen::MatrixXd symmetric_part(const Eigen::MatrixXd& a) {
  Eigen::MatrixXd s = 0.5 * (a + a.transpose());
  return s;
}

/// Subtracts the mean of every row (the centring used for the K×M layout).
inline Eigen::MatrixXd center_rows(const Eigen::MatrixXd& x) {
  const Eigen::VectorXd mean = x.rowwise().mean();
  Eigen::MatrixXd centred = x.colwise() - mean;
  return centred;
}

/// Eigendecomposition Σ = U diag(λ) Uᵀ, eigenvalues ascending.
struct eigen_decomposition {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
};

inline eigen_decomposition symmetric_eigen(const Eigen::MatrixXd& sigma) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(sigma);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("reference: symmetric eigensolver failed");
  }
  return {solver.eigenvalues(), solver.eigenvectors()};
}

/// Eigendecomposition with eigenvalues sorted descending and each eigenvector's
/// largest-magnitude entry made positive (the PCA convention).
inline eigen_decomposition pca_eigen(const Eigen::MatrixXd& sigma) {
  const eigen_decomposition ascending = symmetric_eigen(sigma);
  const Eigen::Index k = sigma.rows();
  eigen_decomposition out{Eigen::VectorXd(k), Eigen::MatrixXd(k, k)};
  for (Eigen::Index i = 0; i < k; ++i) {
    const Eigen::Index source = k - 1 - i;
    out.values(i) = ascending.values(source);
    Eigen::VectorXd v = ascending.vectors.col(source);
    Eigen::Index largest = 0;
    v.cwiseAbs().maxCoeff(&largest);
    if (v(largest) < 0.0) {
      v = -v;
    }
    out.vectors.col(i) = v;
  }
  return out;
}

/// U diag(values) Uᵀ.
inline Eigen::MatrixXd rebuild(const Eigen::MatrixXd& u, const Eigen::VectorXd& values) {
  Eigen::MatrixXd m = u * values.asDiagonal() * u.transpose();
  return m;
}

/// Matrix of divided differences Γ_ij = (g(a_i) − g(a_j))/(a_i − a_j), replaced by
/// g'((a_i + a_j)/2) when |a_i − a_j| ≤ near_equal_tolerance·max(|a_i|, |a_j|) (includes i = j).
template <class Function, class Derivative>
Eigen::MatrixXd divided_differences(const Eigen::VectorXd& a, Function g, Derivative g_prime) {
  const Eigen::Index k = a.size();
  Eigen::MatrixXd gamma(k, k);
  for (Eigen::Index i = 0; i < k; ++i) {
    for (Eigen::Index j = 0; j < k; ++j) {
      const double gap = a(i) - a(j);
      const double scale = std::max(std::abs(a(i)), std::abs(a(j)));
      if (std::abs(gap) <= near_equal_tolerance * scale) {
        gamma(i, j) = g_prime(0.5 * (a(i) + a(j)));
      } else {
        gamma(i, j) = (g(a(i)) - g(a(j))) / gap;
      }
    }
  }
  return gamma;
}

// ------------------------------------------------------------------------------------------------
// Transform in the K×M layout (one group)
// ------------------------------------------------------------------------------------------------

/// Σ = X_c X_cᵀ/(M−1) + eps·I for a K×M matrix x (rows are centred here).
inline Eigen::MatrixXd covariance_x(const Eigen::MatrixXd& x, double eps = 0.0) {
  if (x.cols() < 2) {
    throw std::invalid_argument("reference: covariance needs M >= 2 observations, got " +
                                std::to_string(x.cols()));
  }
  const Eigen::MatrixXd xc = center_rows(x);
  const double divisor = static_cast<double>(x.cols() - 1);
  Eigen::MatrixXd sigma = xc * xc.transpose() / divisor;
  sigma.diagonal().array() += eps;
  return sigma;
}

/// The power-function scalar map g(λ) = λ^{-p}; throws for λ ≤ 0 when p > 0.
inline double power_value(double lambda, double p) {
  if (p == 0.0) {
    return 1.0;
  }
  if (lambda <= 0.0) {
    throw std::domain_error("reference: non-positive eigenvalue " + std::to_string(lambda) +
                            " in a power-function / whitening transform");
  }
  return std::pow(lambda, -p);
}

inline double power_derivative(double lambda, double p) {
  if (p == 0.0) {
    return 0.0;
  }
  return -p * std::pow(lambda, -p - 1.0);
}

/// Exponent p of a spectral-function method (zca is power 1/2).
inline double exponent_of(const config& c) { return c.kind == method::zca ? 0.5 : c.power; }

/// W (K×K) from Σ (K×K) for the configured method.
inline Eigen::MatrixXd transform_matrix_from_covariance(const Eigen::MatrixXd& sigma,
                                                        const config& c) {
  switch (c.kind) {
    case method::zca:
    case method::power: {
      const double p = exponent_of(c);
      const eigen_decomposition e = symmetric_eigen(sigma);
      const Eigen::VectorXd g = e.values.unaryExpr([p](double l) { return power_value(l, p); });
      return rebuild(e.vectors, g);
    }
    case method::pca: {
      const eigen_decomposition e = pca_eigen(sigma);
      const Eigen::VectorXd g = e.values.unaryExpr([](double l) { return power_value(l, 0.5); });
      Eigen::MatrixXd w = g.asDiagonal() * e.vectors.transpose();
      return w;
    }
    case method::cholesky: {
      const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
      if (llt.info() != Eigen::Success) {
        throw std::domain_error("reference: covariance is not positive definite (Cholesky)");
      }
      const Eigen::MatrixXd l = llt.matrixL();
      const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(sigma.rows(), sigma.cols());
      Eigen::MatrixXd w = l.triangularView<Eigen::Lower>().solve(identity);
      return w;
    }
    case method::iter_norm: {
      const double tau = sigma.trace();
      const eigen_decomposition e = symmetric_eigen(sigma / tau);
      const int t = c.iterations;
      const Eigen::VectorXd p = e.values.unaryExpr([t](double x) { return iter_norm_poly(x, t); });
      Eigen::MatrixXd w = rebuild(e.vectors, p) / std::sqrt(tau);
      return w;
    }
  }
  throw std::invalid_argument("reference: unknown method");
}

/// Y = W X_c for a K×M matrix x (c.ax and c.groups are ignored).
inline Eigen::MatrixXd forward_x(const Eigen::MatrixXd& x, const config& c) {
  const Eigen::MatrixXd xc = center_rows(x);
  const Eigen::MatrixXd w = transform_matrix_from_covariance(covariance_x(x, c.eps), c);
  Eigen::MatrixXd y = w * xc;
  return y;
}

/// ∂L/∂Σ (symmetric) given ∂L/∂Y, for a K×M matrix x; also returns W through *w_out.
inline Eigen::MatrixXd covariance_gradient_x(const Eigen::MatrixXd& x,
                                             const Eigen::MatrixXd& grad_y,
                                             const config& c,
                                             Eigen::MatrixXd* w_out) {
  const Eigen::MatrixXd xc = center_rows(x);
  const Eigen::MatrixXd sigma = covariance_x(x, c.eps);
  const Eigen::MatrixXd grad_w = grad_y * xc.transpose();  // G_W = G_Y X_cᵀ
  const Eigen::Index k = x.rows();

  switch (c.kind) {
    case method::zca:
    case method::power: {
      // Daleckii–Krein (docs/math.md#backward-spectral-function): G_Σ = U (Γ ∘ Uᵀ sym(G_W) U) Uᵀ.
      const double p = exponent_of(c);
      const eigen_decomposition e = symmetric_eigen(sigma);
      const Eigen::MatrixXd gamma = divided_differences(
          e.values, [p](double l) { return power_value(l, p); },
          [p](double l) { return power_derivative(l, p); });
      const Eigen::MatrixXd a = e.vectors.transpose() * symmetric_part(grad_w) * e.vectors;
      Eigen::MatrixXd grad_sigma = e.vectors * gamma.cwiseProduct(a) * e.vectors.transpose();
      *w_out = rebuild(e.vectors, e.values.unaryExpr([p](double l) { return power_value(l, p); }));
      return symmetric_part(grad_sigma);
    }
    case method::pca: {
      // docs/math.md#backward-pca: W = Λ^{-1/2} Uᵀ.
      const eigen_decomposition e = pca_eigen(sigma);
      const Eigen::VectorXd inv_sqrt =
          e.values.unaryExpr([](double l) { return power_value(l, 0.5); });
      const Eigen::MatrixXd grad_u = grad_w.transpose() * inv_sqrt.asDiagonal();
      const Eigen::MatrixXd grad_w_u = grad_w * e.vectors;
      Eigen::VectorXd grad_lambda(k);
      for (Eigen::Index i = 0; i < k; ++i) {
        grad_lambda(i) = -0.5 * std::pow(e.values(i), -1.5) * grad_w_u(i, i);
      }
      // Kᵀ_ij = 1/(λ_j − λ_i) off the diagonal, 0 on it (and 0 for exact ties, where the
      // PCA gradient is undefined anyway).
      Eigen::MatrixXd k_transposed = Eigen::MatrixXd::Zero(k, k);
      for (Eigen::Index i = 0; i < k; ++i) {
        for (Eigen::Index j = 0; j < k; ++j) {
          const double gap = e.values(j) - e.values(i);
          const double scale = std::max(std::abs(e.values(i)), std::abs(e.values(j)));
          if (i != j && std::abs(gap) > near_equal_tolerance * scale) {
            k_transposed(i, j) = 1.0 / gap;
          }
        }
      }
      Eigen::MatrixXd inner = k_transposed.cwiseProduct(e.vectors.transpose() * grad_u);
      inner.diagonal() += grad_lambda;
      *w_out = inv_sqrt.asDiagonal() * e.vectors.transpose();
      return symmetric_part(e.vectors * inner * e.vectors.transpose());
    }
    case method::cholesky: {
      // docs/math.md#backward-cholesky.
      const Eigen::LLT<Eigen::MatrixXd> llt(sigma);
      if (llt.info() != Eigen::Success) {
        throw std::domain_error("reference: covariance is not positive definite (Cholesky)");
      }
      const Eigen::MatrixXd l = llt.matrixL();
      const Eigen::MatrixXd l_inv =
          l.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(k, k));
      const Eigen::MatrixXd y = l_inv * xc;
      const Eigen::MatrixXd grad_l = -l_inv.transpose() * grad_y * y.transpose();
      const Eigen::MatrixXd lt_grad_l = l.transpose() * grad_l;
      Eigen::MatrixXd phi = lt_grad_l.triangularView<Eigen::Lower>();
      phi.diagonal() *= 0.5;
      *w_out = l_inv;
      return l_inv.transpose() * symmetric_part(phi) * l_inv;
    }
    case method::iter_norm: {
      // Spectral oracle (docs/math.md#backward-iternorm, last paragraph): W = p_T(S)/sqrt(τ),
      // S = Σ/τ.
      const int t = c.iterations;
      const double tau = sigma.trace();
      const Eigen::MatrixXd s = sigma / tau;
      const eigen_decomposition e = symmetric_eigen(s);
      const Eigen::MatrixXd p_t =
          rebuild(e.vectors, e.values.unaryExpr([t](double xi) { return iter_norm_poly(xi, t); }));
      const Eigen::MatrixXd gamma = divided_differences(
          e.values, [t](double xi) { return iter_norm_poly(xi, t); },
          [t](double xi) { return iter_norm_poly_derivative(xi, t); });
      const Eigen::MatrixXd b = grad_w / std::sqrt(tau);  // gradient w.r.t. P_T
      const Eigen::MatrixXd a = e.vectors.transpose() * symmetric_part(b) * e.vectors;
      const Eigen::MatrixXd grad_s = e.vectors * gamma.cwiseProduct(a) * e.vectors.transpose();
      const double grad_tau = -(grad_s.cwiseProduct(s)).sum() / tau -
                              0.5 * std::pow(tau, -1.5) * (grad_w.cwiseProduct(p_t)).sum();
      Eigen::MatrixXd grad_sigma = grad_s / tau;
      grad_sigma.diagonal().array() += grad_tau;
      *w_out = p_t / std::sqrt(tau);
      return symmetric_part(grad_sigma);
    }
  }
  throw std::invalid_argument("reference: unknown method");
}

/// ∂L/∂X (K×M) given ∂L/∂Y (K×M), docs/math.md#backward-common-tail (c.ax and c.groups are
/// ignored).
inline Eigen::MatrixXd backward_x(const Eigen::MatrixXd& x,
                                  const Eigen::MatrixXd& grad_y,
                                  const config& c) {
  if (grad_y.rows() != x.rows() || grad_y.cols() != x.cols()) {
    throw std::invalid_argument("reference: grad_y shape does not match x");
  }
  const Eigen::MatrixXd xc = center_rows(x);
  const double divisor = static_cast<double>(x.cols() - 1);
  Eigen::MatrixXd w;
  const Eigen::MatrixXd grad_sigma = covariance_gradient_x(x, grad_y, c, &w);
  const Eigen::MatrixXd grad_xc = w.transpose() * grad_y + (2.0 / divisor) * grad_sigma * xc;
  return center_rows(grad_xc);  // centring Jacobian: subtract row means
}

// ------------------------------------------------------------------------------------------------
// N×D front end: axis and groups
// ------------------------------------------------------------------------------------------------

inline void check_groups(const Eigen::MatrixXd& z, int groups, int group) {
  if (groups < 1 || z.cols() % groups != 0) {
    throw std::invalid_argument("reference: D=" + std::to_string(z.cols()) +
                                " is not divisible by groups=" + std::to_string(groups));
  }
  if (group < 0 || group >= groups) {
    throw std::invalid_argument("reference: group " + std::to_string(group) +
                                " out of range for groups=" + std::to_string(groups));
  }
}

/// Columns of group g of Z (N×(D/G)).
inline Eigen::MatrixXd group_block(const Eigen::MatrixXd& z, int groups, int group) {
  check_groups(z, groups, group);
  const Eigen::Index width = z.cols() / groups;
  Eigen::MatrixXd block = z.middleCols(group * width, width);
  return block;
}

/// N×D' block → K×M layout of the axis.
inline Eigen::MatrixXd to_x_layout(const Eigen::MatrixXd& block, axis ax) {
  Eigen::MatrixXd x = ax == axis::features ? Eigen::MatrixXd(block.transpose()) : block;
  return x;
}

/// K×M layout → N×D' block (the inverse of to_x_layout).
inline Eigen::MatrixXd from_x_layout(const Eigen::MatrixXd& x, axis ax) {
  return to_x_layout(x, ax);  // a transpose is its own inverse
}

/// Σ (K×K) of one group, with shrinkage eps.
inline Eigen::MatrixXd covariance(
    const Eigen::MatrixXd& z, axis ax, int groups = 1, int group = 0, double eps = 0.0) {
  return covariance_x(to_x_layout(group_block(z, groups, group), ax), eps);
}

/// The K×K transform matrix W of one group.
inline Eigen::MatrixXd transform_matrix(const Eigen::MatrixXd& z, const config& c, int group = 0) {
  return transform_matrix_from_covariance(covariance(z, c.ax, c.groups, group, c.eps), c);
}

/// Ẑ = transform(Z), N×D → N×D.
inline Eigen::MatrixXd forward(const Eigen::MatrixXd& z, const config& c) {
  check_groups(z, c.groups, 0);
  const Eigen::Index width = z.cols() / c.groups;
  Eigen::MatrixXd out(z.rows(), z.cols());
  for (int g = 0; g < c.groups; ++g) {
    const Eigen::MatrixXd x = to_x_layout(group_block(z, c.groups, g), c.ax);
    out.middleCols(g * width, width) = from_x_layout(forward_x(x, c), c.ax);
  }
  return out;
}

/// d⟨grad_out, forward(z)⟩/dz, N×D.
inline Eigen::MatrixXd backward(const Eigen::MatrixXd& z,
                                const Eigen::MatrixXd& grad_out,
                                const config& c) {
  check_groups(z, c.groups, 0);
  if (grad_out.rows() != z.rows() || grad_out.cols() != z.cols()) {
    throw std::invalid_argument("reference: grad_out shape does not match z");
  }
  const Eigen::Index width = z.cols() / c.groups;
  Eigen::MatrixXd grad_z(z.rows(), z.cols());
  for (int g = 0; g < c.groups; ++g) {
    const Eigen::MatrixXd x = to_x_layout(group_block(z, c.groups, g), c.ax);
    const Eigen::MatrixXd grad_y = to_x_layout(group_block(grad_out, c.groups, g), c.ax);
    grad_z.middleCols(g * width, width) = from_x_layout(backward_x(x, grad_y, c), c.ax);
  }
  return grad_z;
}

// ------------------------------------------------------------------------------------------------
// Losses (docs/math.md#trace-loss, docs/math.md#normalized-mse, docs/math.md#trade-off-beta,
// docs/math.md#intl-loss)
// ------------------------------------------------------------------------------------------------

/// Trace loss Σ_k (d_k − 1)², d_k = variance (divisor M−1) of row k of the K×M layout of y.
inline double trace_loss(const Eigen::MatrixXd& y, axis ax) {
  const Eigen::MatrixXd yc = center_rows(to_x_layout(y, ax));
  const double divisor = static_cast<double>(yc.cols() - 1);
  const Eigen::VectorXd d = yc.rowwise().squaredNorm() / divisor;
  return (d.array() - 1.0).square().sum();
}

/// ∂TL/∂y (N×D): 4 (d_k − 1)(Y_kj − ȳ_k)/(M−1) in the K×M layout, mapped back.
inline Eigen::MatrixXd trace_loss_grad(const Eigen::MatrixXd& y, axis ax) {
  const Eigen::MatrixXd yc = center_rows(to_x_layout(y, ax));
  const double divisor = static_cast<double>(yc.cols() - 1);
  const Eigen::VectorXd d = yc.rowwise().squaredNorm() / divisor;
  const Eigen::VectorXd factor = 4.0 * (d.array() - 1.0) / divisor;
  const Eigen::MatrixXd grad = factor.asDiagonal() * yc;
  return from_x_layout(grad, ax);
}

inline constexpr double normalize_eps = 1e-12;

/// nMSE(A, B) = 2 − (2/N) Σ_n ⟨a_n/max(‖a_n‖,ε), b_n/max(‖b_n‖,ε)⟩ over the rows.
inline double normalized_mse(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    throw std::invalid_argument("reference: normalized_mse shapes differ");
  }
  double sum = 0.0;
  for (Eigen::Index n = 0; n < a.rows(); ++n) {
    const double na = std::max(a.row(n).norm(), normalize_eps);
    const double nb = std::max(b.row(n).norm(), normalize_eps);
    sum += a.row(n).dot(b.row(n)) / (na * nb);
  }
  return 2.0 - 2.0 * sum / static_cast<double>(a.rows());
}

/// (∂nMSE/∂A, ∂nMSE/∂B).
inline std::pair<Eigen::MatrixXd, Eigen::MatrixXd> normalized_mse_grad(const Eigen::MatrixXd& a,
                                                                       const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    throw std::invalid_argument("reference: normalized_mse_grad shapes differ");
  }
  const double scale = -2.0 / static_cast<double>(a.rows());
  Eigen::MatrixXd grad_a(a.rows(), a.cols());
  Eigen::MatrixXd grad_b(b.rows(), b.cols());
  for (Eigen::Index n = 0; n < a.rows(); ++n) {
    const double norm_a = a.row(n).norm();
    const double norm_b = b.row(n).norm();
    const double na = std::max(norm_a, normalize_eps);
    const double nb = std::max(norm_b, normalize_eps);
    const Eigen::RowVectorXd u = a.row(n) / na;
    const Eigen::RowVectorXd v = b.row(n) / nb;
    const double cosine = u.dot(v);
    // Derivative of a/max(‖a‖,ε): (I − u uᵀ)/‖a‖ when ‖a‖ > ε, I/ε when clamped.
    if (norm_a > normalize_eps) {
      grad_a.row(n) = scale * (v - cosine * u) / na;
    } else {
      grad_a.row(n) = scale * v / na;
    }
    if (norm_b > normalize_eps) {
      grad_b.row(n) = scale * (u - cosine * v) / nb;
    } else {
      grad_b.row(n) = scale * u / nb;
    }
  }
  return {grad_a, grad_b};
}

/// β = 0.01·(log2 K − 3), docs/math.md#trade-off-beta.
inline double trade_off_beta(long k) {
  if (k < 1) {
    throw std::invalid_argument("reference: trade_off_beta needs K >= 1");
  }
  return 0.01 * (std::log2(static_cast<double>(k)) - 3.0);
}

/// INTL objective for V ≥ 2 views (docs/math.md#intl-loss):
///   L = (1/(V−1)) Σ_{i≥1} [nMSE(Ẑ^i, Ẑ^0) + β TL(Ẑ^i)] + β TL(Ẑ^0),  Ẑ^v = forward(views[v], c).
/// If grads is non-null it receives dL/dviews[v] (through the transform) for every view.
inline double intl_objective(const std::vector<Eigen::MatrixXd>& views,
                             const config& c,
                             double beta,
                             std::vector<Eigen::MatrixXd>* grads = nullptr) {
  const std::size_t v_count = views.size();
  if (v_count < 2) {
    throw std::invalid_argument("reference: intl_objective needs at least 2 views");
  }
  const double pair_weight = 1.0 / static_cast<double>(v_count - 1);

  std::vector<Eigen::MatrixXd> outputs;
  outputs.reserve(v_count);
  for (const Eigen::MatrixXd& view : views) {
    outputs.push_back(forward(view, c));
  }

  double loss = beta * trace_loss(outputs[0], c.ax);
  std::vector<Eigen::MatrixXd> grad_outputs(v_count);
  grad_outputs[0] = beta * trace_loss_grad(outputs[0], c.ax);
  for (std::size_t i = 1; i < v_count; ++i) {
    loss += pair_weight *
            (normalized_mse(outputs[i], outputs[0]) + beta * trace_loss(outputs[i], c.ax));
    const auto [grad_i, grad_0] = normalized_mse_grad(outputs[i], outputs[0]);
    grad_outputs[i] = pair_weight * (grad_i + beta * trace_loss_grad(outputs[i], c.ax));
    grad_outputs[0] += pair_weight * grad_0;
  }

  if (grads != nullptr) {
    grads->clear();
    for (std::size_t v = 0; v < v_count; ++v) {
      grads->push_back(backward(views[v], grad_outputs[v], c));
    }
  }
  return loss;
}

}  // namespace spectral_test::reference
