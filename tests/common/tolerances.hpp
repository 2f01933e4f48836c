// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Error measures, per-scalar-type tolerances (docs/math.md#checks, the general tolerance
/// guidance) and the central finite-difference gradient used by every gradient check (double
/// only).

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace spectral_test {

/// ‖A − B‖_F / ‖B‖_F in double. +inf when B is all zero, so an all-zero reference never passes.
template <class A, class B>
[[nodiscard]] double rel_error(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  const Eigen::MatrixXd ad = a.template cast<double>();
  const Eigen::MatrixXd bd = b.template cast<double>();
  const double scale = bd.norm();
  if (!(scale > 0.0)) {
    return std::numeric_limits<double>::infinity();
  }
  return (ad - bd).norm() / scale;
}

/// max |A − B| in double.
template <class A, class B>
[[nodiscard]] double max_abs_error(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  return (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
}

/// ⟨A, B⟩ = tr(Aᵀ B).
template <class A, class B>
[[nodiscard]] double inner(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  return a.template cast<double>().cwiseProduct(b.template cast<double>()).sum();
}

/// Tolerances by scalar type; `double` values are algebraic (rounding-level) bounds, `float`
/// values the guidance for results that pass through an f32 eigensolver with cond(Σ) ≤ 1e2.
template <class T>
struct tolerance;

template <>
struct tolerance<double> {
  static constexpr double forward = 1e-10;     ///< output / W vs the double reference
  static constexpr double backward = 1e-8;     ///< input gradient vs the double reference
  static constexpr double identity = 1e-10;    ///< algebraic identities (Σ_Y = I, symmetry, …)
  static constexpr double invariance = 1e-10;  ///< scale / shift / permutation invariance
  static constexpr double orthogonality = 1e-10;  ///< ⟨G_X, X_c⟩ / (‖G_X‖‖X_c‖)
};

template <>
struct tolerance<float> {
  static constexpr double forward = 1e-4;
  static constexpr double backward = 1e-4;
  static constexpr double identity = 1e-4;
  static constexpr double invariance = 1e-4;
  static constexpr double orthogonality = 1e-4;
};

/// Relative accuracy of the central differences below against an analytic gradient
/// (docs/math.md#checks-backward).
inline constexpr double finite_difference_tolerance = 1e-6;

/**
 * @brief Central finite-difference gradient of a scalar loss in double:
 *        ∂L/∂z_ij ≈ (L(z + h e_ij) − L(z − h e_ij)) / 2h, h = rel_step·max(1, |z_ij|).
 * @param loss callable (const Eigen::MatrixXd&) -> double
 */
template <class Loss>
[[nodiscard]] Eigen::MatrixXd finite_difference_gradient(Loss&& loss,
                                                         const Eigen::MatrixXd& z,
                                                         double rel_step = 1e-6) {
  Eigen::MatrixXd grad(z.rows(), z.cols());
  Eigen::MatrixXd probe = z;
  for (Eigen::Index c = 0; c < z.cols(); ++c) {
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
      const double h = rel_step * std::max(1.0, std::abs(z(r, c)));
      probe(r, c) = z(r, c) + h;
      const double up = loss(probe);
      probe(r, c) = z(r, c) - h;
      const double down = loss(probe);
      probe(r, c) = z(r, c);
      grad(r, c) = (up - down) / (2.0 * h);
    }
  }
  return grad;
}

/**
 * @brief Finite-difference gradient of ⟨G, forward(z)⟩ (what `backward(ctx, G)` must return).
 * @param forward callable (const Eigen::MatrixXd&) -> Eigen::MatrixXd of z's shape, in double
 */
template <class Forward>
[[nodiscard]] Eigen::MatrixXd finite_difference_vjp(Forward&& forward,
                                                    const Eigen::MatrixXd& z,
                                                    const Eigen::MatrixXd& grad_out,
                                                    double rel_step = 1e-6) {
  return finite_difference_gradient(
      [&](const Eigen::MatrixXd& probe) { return inner(grad_out, forward(probe)); }, z, rel_step);
}

/// Eigenvalues (ascending) of a symmetric matrix, in double.
template <class A>
[[nodiscard]] Eigen::VectorXd symmetric_eigenvalues(const Eigen::MatrixBase<A>& a) {
  const Eigen::MatrixXd ad = a.template cast<double>();
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(ad, Eigen::EigenvaluesOnly).eigenvalues();
}

/// λ_max / λ_min of a symmetric matrix (+inf when λ_min ≤ 0).
template <class A>
[[nodiscard]] double condition_number(const Eigen::MatrixBase<A>& a) {
  const Eigen::VectorXd ev = symmetric_eigenvalues(a);
  return ev(0) > 0.0 ? ev(ev.size() - 1) / ev(0) : std::numeric_limits<double>::infinity();
}

}  // namespace spectral_test
