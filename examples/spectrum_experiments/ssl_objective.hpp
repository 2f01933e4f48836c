// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The ST instances compared by the collapse experiments, each as one two-view loss with its
/// gradient, built only from the library's public API:
///   every instance except INTL: nMSE(ST(Z¹), ST(Z²)), backpropagated through the ST;
///   INTL: intl_objective (nMSE + β·trace loss on IterNorm outputs, β = trade_off_beta(K)).

#include <spectral/spectral.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace spectral::cli {

struct loss_terms {
  double total = 0;
  double alignment = 0;  ///< nMSE between the transformed views
  double trace = 0;      ///< trace loss (INTL only; 0 elsewhere)
};

/// (Z¹, Z², ∂L/∂Z¹ out, ∂L/∂Z² out) → L.
using two_view_loss = std::function<loss_terms(const row_matrix<double>&,
                                               const row_matrix<double>&,
                                               row_matrix<double>&,
                                               row_matrix<double>&)>;

struct st_instance {
  std::string family;  ///< identity, power, zca, cholesky, iternorm, intl
  double parameter;  ///< p for identity/power (identity: 0), T for iternorm/intl, 0.5 for whitening
  two_view_loss loss;
  std::string suffix = {};  ///< appended to the label, e.g. "-b0.05" for an explicit INTL β

  /// A short unique name such as "power-0.45" or "intl-T4" (a CSV key and a plot title).
  [[nodiscard]] std::string label() const {
    char buffer[48];
    if (family == "power") {
      std::snprintf(buffer, sizeof buffer, "power-%g", parameter);
    } else if (family == "iternorm" || family == "intl") {
      std::snprintf(buffer, sizeof buffer, "%s-T%d", family.c_str(), static_cast<int>(parameter));
    } else {
      std::snprintf(buffer, sizeof buffer, "%s", family.c_str());
    }
    return buffer + suffix;
  }
};

/// nMSE of the two transformed views, differentiated through the transform.
template <class Method>
[[nodiscard]] two_view_loss alignment_loss(Method method, options opts) {
  const spectral_transform<double, Method> transform{std::move(method), opts};
  return [transform](const row_matrix<double>& z1, const row_matrix<double>& z2,
                     row_matrix<double>& grad1, row_matrix<double>& grad2) {
    row_matrix<double> y1(z1.rows(), z1.cols());
    row_matrix<double> y2(z2.rows(), z2.cols());
    const auto context1 = transform.forward(z1, y1);
    const auto context2 = transform.forward(z2, y2);
    row_matrix<double> grad_y1(y1.rows(), y1.cols());
    row_matrix<double> grad_y2(y2.rows(), y2.cols());
    embedding_ref<double> ref1(grad_y1);
    embedding_ref<double> ref2(grad_y2);
    loss_terms terms;
    terms.alignment = normalized_mse<double>(y1, y2, &ref1, &ref2);
    terms.total = terms.alignment;
    grad1.resize(z1.rows(), z1.cols());
    grad2.resize(z2.rows(), z2.cols());
    transform.backward(context1, grad_y1, grad1);
    transform.backward(context2, grad_y2, grad2);
    return terms;
  };
}

[[nodiscard]] inline std::string format_beta(double beta) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", beta);
  return buffer;
}

/// β of the reference code for a K×K covariance (trade_off_beta), floored at 0 (it is negative
/// below K = 8), unless `requested` >= 0 overrides it.
[[nodiscard]] inline double intl_beta(double requested, index_t covariance_size) {
  return requested >= 0 ? requested : std::max(0.0, trade_off_beta(covariance_size));
}

/// INTL (docs/math.md#intl-loss, V = 2): nMSE + β (TL(Ẑ¹) + TL(Ẑ²)) on IterNorm outputs.
[[nodiscard]] inline two_view_loss intl_loss(int iterations, options opts, double beta) {
  const intl_objective<double> objective{iter_norm_transform<double>{iter_norm{iterations}, opts},
                                         beta};
  return [objective](const row_matrix<double>& z1, const row_matrix<double>& z2,
                     row_matrix<double>& grad1, row_matrix<double>& grad2) {
    std::vector<row_matrix<double>> grads;
    const auto terms = objective.evaluate({z1, z2}, &grads);
    grad1 = std::move(grads[0]);
    grad2 = std::move(grads[1]);
    return loss_terms{terms.total, terms.alignment, terms.trace};
  };
}

/**
 * @brief The instances of the collapse study: identity (p = 0), power p for every other p in
 *        `powers`, ZCA, Cholesky, IterNorm without trace loss and INTL (both with T iterations).
 * @param intl_betas one INTL instance per β; a negative entry means intl_beta's default for
 *        covariance_size (labelled intl-T<T>), the others are labelled intl-T<T>-b<β>
 */
[[nodiscard]] inline std::vector<st_instance> collapse_instances(
    const std::vector<double>& powers,
    int iterations,
    options opts,
    const std::vector<double>& intl_betas,
    index_t covariance_size) {
  std::vector<st_instance> out;
  for (const double p : powers) {
    out.push_back({p == 0.0 ? "identity" : "power", p, alignment_loss(power_function{p}, opts)});
  }
  out.push_back({"zca", 0.5, alignment_loss(zca_whitening{}, opts)});
  out.push_back({"cholesky", 0.5, alignment_loss(cholesky_whitening{}, opts)});
  out.push_back(
      {"iternorm", static_cast<double>(iterations), alignment_loss(iter_norm{iterations}, opts)});
  for (const double requested : intl_betas) {
    out.push_back({"intl", static_cast<double>(iterations),
                   intl_loss(iterations, opts, intl_beta(requested, covariance_size)),
                   requested < 0 ? std::string() : "-b" + format_beta(requested)});
  }
  return out;
}

}  // namespace spectral::cli
