// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Collapse diagnostics: the spectrum of an embedding's covariance with its summaries
/// (spectrum_report), and the output spectrum a method maps it to.

#include <spectral/core/error.hpp>
#include <spectral/core/options.hpp>
#include <spectral/core/spectral_transform.hpp>
#include <spectral/core/types.hpp>
#include <spectral/cpu/backend.hpp>
#include <spectral/detail/checks.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace spectral {

/**
 * @brief The spectrum of an embedding's covariance and the summaries used to detect collapse.
 *
 * Computed in double whatever the input type. Eigenvalues below zero (rounding on a singular
 * Σ) are clamped to zero for the normalised spectrum and the effective rank.
 */
struct spectrum_report {
  vector<double> eigenvalues;   ///< descending, λ_1 ≥ … ≥ λ_K (as computed)
  vector<double> normalized;    ///< max(λ_i, 0) / Σ_j max(λ_j, 0)
  double trace = 0;             ///< tr Σ
  double effective_rank = 0;    ///< exp(−Σ x_i log x_i) of the normalised spectrum, in [1, K]
  double condition_number = 0;  ///< λ_max / λ_min; +inf when Σ is numerically singular
};

/// Effective rank exp(H(x)) of a spectrum (any order, negative entries treated as 0).
[[nodiscard]] inline double effective_rank(const vector<double>& eigenvalues) {
  const vector<double> clamped = eigenvalues.cwiseMax(0.0);
  const double total = clamped.sum();
  SPECTRAL_EXPECTS(total > 0.0, "eigenvalues: the spectrum is all zero; effective rank undefined");
  double entropy = 0.0;
  for (const double lambda : clamped) {
    const double x = lambda / total;
    if (x > 0.0) {
      entropy -= x * std::log(x);
    }
  }
  return std::exp(entropy);
}

/// λ_max / λ_min; +inf when Σ is numerically singular (λ_min ≤ K·ε·λ_max), since rounding makes
/// the zero eigenvalues of a rank-deficient Σ tiny but arbitrary.
[[nodiscard]] inline double condition_number(const vector<double>& eigenvalues) {
  const double smallest = eigenvalues.minCoeff();
  const double largest = eigenvalues.maxCoeff();
  const double floor = static_cast<double>(eigenvalues.size()) *
                       std::numeric_limits<double>::epsilon() * std::max(largest, 0.0);
  return smallest > floor ? largest / smallest : std::numeric_limits<double>::infinity();
}

namespace detail {

/// The report of a spectrum given ascending eigenvalues and tr Σ.
/// @throws invalid_input for a zero spectrum
[[nodiscard]] inline spectrum_report summarize_spectrum(const vector<double>& ascending,
                                                        double trace) {
  spectrum_report r;
  r.eigenvalues = ascending.reverse();
  r.trace = trace;
  const vector<double> clamped = r.eigenvalues.cwiseMax(0.0);
  SPECTRAL_EXPECTS(clamped.sum() > 0.0,
                   "z: the covariance is zero (every observation is identical after centring)");
  r.normalized = clamped / clamped.sum();
  r.effective_rank = effective_rank(r.eigenvalues);
  r.condition_number = condition_number(r.eigenvalues);
  return r;
}

/**
 * @brief The spectrum of group `group`'s covariance of z (the D×N columns of an N×D embedding),
 *        on any backend: widened to double, centred and Σ formed with the transform's own steps,
 *        its eigenvalues and trace computed there; only those K + 1 numbers come back.
 * @note The caller has checked the options, the shape and the group. Waits for the backend.
 * @throws invalid_input for non-finite z or a zero spectrum; numerical_error when the
 *         eigensolver fails
 */
template <class Backend, class T>
[[nodiscard]] spectrum_report covariance_spectrum(
    Backend& be,
    batch<const T> z,
    const options& opts,
    index_t group,
    typename backend_traits<Backend>::stream stream = {}) {
  const primitives<Backend, double> p{be};
  const index_t d = z.rows;
  const index_t n = z.cols;
  const group_shape shape = checked_group_shape(n, d, opts);
  const index_t k = shape.size;
  auto status = be.template zeros<status_word>(1);
  auto widened = p.allocate(n * d);
  const batch<double> columns = dense_batch(widened.data(), d, n, 1);
  p.for_each(extent::of(columns), widen<T, double>{z, columns});
  p.check_finite(columns, status.data(), status_nonfinite_input);
  center_embedding(p, columns, columns, opts, static_cast<double*>(nullptr));
  // Σ of every group, then the chosen group's eigenvalues (K) and trace (1).
  auto sigma = p.allocate(opts.groups * k * k + k + 1);
  group_covariances(p, columns, opts, shape, false, dense_batch(sigma.data(), k, k, opts.groups));
  const batch<double> chosen = dense_batch(sigma.data() + group * k * k, k, k, 1);
  double* values = sigma.data() + opts.groups * k * k;
  p.trace(chosen, values + k);
  p.eigh(chosen, dense_batch(values, k, 1, 1), status.data());
  if constexpr (host_backend<Backend>) {
    (void)stream;
    throw_status(*status.data(), "spectrum");
  } else {
    Backend::check_status(status.data(), stream, "spectrum");
  }
  const std::vector<double> host = be.template download<double>(values, k + 1);
  return summarize_spectrum(Eigen::Map<const vector<double>>(host.data(), k), host[k]);
}

}  // namespace detail

/**
 * @brief Eigenvalues and collapse summaries of the covariance of an N×D embedding.
 * @param z     N×D embedding (rows = samples)
 * @param opts  axis, groups (which group: `group`) and eps as for the transforms
 * @param group the group whose covariance is analysed
 * @throws invalid_input as for covariance(); for an all-constant embedding (zero spectrum)
 */
template <real_scalar T>
[[nodiscard]] spectrum_report spectrum(embedding_cref<T> z,
                                       const options& opts = {},
                                       index_t group = 0) {
  opts.validate();
  (void)checked_group_shape(z.rows(), z.cols(), opts);
  SPECTRAL_EXPECTS(group >= 0 && group < opts.groups, "group: must be in [0, ", opts.groups,
                   "), got ", group);
  detail::expect_finite(z, "z");
  cpu::backend be;
  return detail::covariance_spectrum(be, detail::columns_of(z), opts, group);
}

/**
 * @brief The output spectrum map ψ of a method: the eigenvalue of Σ_Y that each eigenvalue λ of
 *        Σ becomes (`docs/math.md#spectral-transformation`: ψ(λ) = λ g(λ)²;
 *        IterNorm: f_T(λ/τ)).
 * @param method      the method whose map is applied (its output_eigenvalue(λ, τ))
 * @param eigenvalues the input spectrum; its sum is τ (IterNorm's map depends on it)
 */
template <class Method>
[[nodiscard]] vector<double> output_spectrum(const Method& method,
                                             const vector<double>& eigenvalues) {
  const double trace = eigenvalues.sum();
  vector<double> out(eigenvalues.size());
  for (index_t i = 0; i < out.size(); ++i) {
    out(i) = method.output_eigenvalue(eigenvalues(i), trace);
  }
  return out;
}

}  // namespace spectral
