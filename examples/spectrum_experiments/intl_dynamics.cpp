// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// `spectral experiment intl-dynamics`: how INTL's trace loss moves the eigenvalues of the
// embedding covariance (docs/math.md#theory, P4/P5). A free embedding Z (N×D, features axis,
// K = D) is optimised by gradient descent on TL(IterNorm_T(Z)) through the library's backward; at
// every snapshot the change of each eigenvalue is compared with the first-order prediction of
// docs/math.md#implicit-gradient-update, extended by the term that IterNorm's trace normalisation
// adds:
//   Δλ_i = −(2η/(M−1)) [a_ii ψ'(λ_i)/g(λ_i) + 2 λ_i c],   a_ii = u_iᵀ G_Y X_cᵀ u_i,
//   g(λ) = p_T(λ/τ)/√τ,  c = Σ_j a_jj ∂g(λ_j)/∂τ.
// The prediction is computed here from the scalar recursion p_T, independently of the library's
// matrix backward, so agreement checks both.

#include "csv_writer.hpp"
#include "experiments.hpp"
#include "gnuplot.hpp"
#include "progress.hpp"
#include "random.hpp"
#include "ssl_training.hpp"
#include "training_report.hpp"

#include <spectral/spectral.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace spectral::cli {

namespace {

/// p_T(x) and p_T'(x) of IterNorm's scalar recursion p_k = p_{k−1}(3 − x p_{k−1}²)/2.
struct polynomial_value {
  double value;
  double derivative;
};
polynomial_value iter_norm_polynomial(int iterations, double x) {
  double p = 1.0;
  double dp = 0.0;
  for (int k = 0; k < iterations; ++k) {
    dp = 0.5 * (dp * (3.0 - 3.0 * x * p * p) - p * p * p);
    p = 0.5 * p * (3.0 - x * p * p);
  }
  return {p, dp};
}

struct eigen_pairs {
  vector<double> values;   ///< descending
  matrix<double> vectors;  ///< columns match values
};
eigen_pairs eigen_decomposition(const row_matrix<double>& z) {
  const Eigen::SelfAdjointEigenSolver<matrix<double>> eig(covariance<double>(z));
  return {eig.eigenvalues().reverse(), eig.eigenvectors().rowwise().reverse()};
}

/// One gradient of TL(IterNorm(Z)) and the quantities the prediction needs.
struct trace_gradient {
  double loss;
  double output_trace;  ///< tr Σ_Y = Σ f_T(x_i)
  row_matrix<double> grad_z;
  row_matrix<double> grad_y;
};
trace_gradient evaluate(const iter_norm_transform<double>& transform, const row_matrix<double>& z) {
  auto result = transform.forward(z);
  trace_gradient g;
  g.grad_y.resize(z.rows(), z.cols());
  embedding_ref<double> grad_ref(g.grad_y);
  g.loss = trace_loss<double>(result.output, axis::features, &grad_ref);
  g.output_trace = covariance<double>(result.output).trace();
  g.grad_z = transform.backward(result.context, g.grad_y);
  return g;
}

/// The first-order Δλ_i for the step Z ← Z − η G (see the file comment).
vector<double> predicted_change(int iterations,
                                const eigen_pairs& eig,
                                const row_matrix<double>& z,
                                const row_matrix<double>& grad_y,
                                double step) {
  const row_matrix<double> centered = z.rowwise() - z.colwise().mean();
  const double observations = static_cast<double>(z.rows());
  const double tau = eig.values.sum();
  const index_t k = eig.values.size();
  // Whitening layout X = Z_cᵀ, G_Y = grad_yᵀ: a_ii = u_iᵀ grad_yᵀ Z_c u_i.
  const matrix<double> projected_grad = grad_y * eig.vectors;
  const matrix<double> projected_z = centered * eig.vectors;
  vector<double> a(k);
  vector<double> psi_over_g(k);
  double c = 0;
  for (index_t i = 0; i < k; ++i) {
    a(i) = projected_grad.col(i).dot(projected_z.col(i));
    const double lambda = eig.values(i);
    const double x = lambda / tau;
    const polynomial_value p = iter_norm_polynomial(iterations, x);
    const double g = p.value / std::sqrt(tau);
    const double dg = p.derivative / (tau * std::sqrt(tau));  // ∂g/∂λ at fixed τ
    psi_over_g(i) = g + 2.0 * lambda * dg;                    // ψ'/g with ψ = λ g²
    c += a(i) * -(x * p.derivative + 0.5 * p.value) / (tau * std::sqrt(tau));  // a_ii ∂g/∂τ
  }
  vector<double> out(k);
  for (index_t i = 0; i < k; ++i) {
    out(i) =
        -(2.0 * step / (observations - 1.0)) * (a(i) * psi_over_g(i) + 2.0 * eig.values(i) * c);
  }
  return out;
}

double max_relative_error(const vector<double>& actual, const vector<double>& expected) {
  // Relative to the largest predicted change, so eigenvalues that barely move do not dominate.
  const double scale = expected.cwiseAbs().maxCoeff();
  return scale > 0 ? (actual - expected).cwiseAbs().maxCoeff() / scale : 0.0;
}

}  // namespace

void run_intl_dynamics(const intl_dynamics_args& args) {
  SPECTRAL_EXPECTS(args.samples > args.dim, "--samples: need more samples than --dim, got ",
                   args.samples, " <= ", args.dim);
  const std::filesystem::path folder = prepare_output_folder(args.common.out);

  random_source rng(args.common.seed, 0);
  const matrix<double> basis =
      Eigen::HouseholderQR<matrix<double>>(matrix<double>(rng.normal_matrix(args.dim, args.dim)))
          .householderQ();
  vector<double> scale(args.dim);
  for (index_t k = 0; k < args.dim; ++k) {
    scale(k) = std::pow(args.decay, 0.5 * static_cast<double>(k));
  }
  const row_matrix<double> initial =
      rng.normal_matrix(args.samples, args.dim) * scale.asDiagonal() * basis.transpose();

  csv_table dynamics({"iterations", "step", "trace_loss", "output_trace", "output_trace_bound",
                      "effective_rank", "condition_number", "step_size"});
  csv_table eigenvalues({"iterations", "step", "index", "eigenvalue", "normalized"});
  csv_table prediction({"iterations", "step", "index", "eigenvalue", "delta_step_measured",
                        "delta_step_predicted", "delta_probe_central", "delta_probe_predicted"});
  struct row {
    int iterations;
    double condition_start, condition_end, rank_start, rank_end, loss_start, loss_end;
    long condition_increases;
    double probe_error, step_error;
    long scored_snapshots;
  };
  std::vector<row> rows;
  const double k = static_cast<double>(args.dim);
  progress_line progress("intl-dynamics", static_cast<long>(args.iterations.size()) * args.steps);
  long done = 0;

  for (const int t : args.iterations) {
    const iter_norm_transform<double> transform{iter_norm{t}};
    const iter_norm method{t};
    // K f_T(1/K), P3 of docs/math.md#theory.
    const double bound = k * method.output_eigenvalue(1.0, k);
    row_matrix<double> z = initial;
    row r{t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    double previous_condition = 0;
    std::vector<std::pair<int, vector<double>>> snapshots;  // (step, eigenvalues)
    for (int step = 0; step <= args.steps; ++step) {
      const eigen_pairs eig = eigen_decomposition(z);
      const trace_gradient g = evaluate(transform, z);
      // IterNorm is scale invariant, so the gradient scales like 1/‖Z‖: a step proportional to
      // tr Σ keeps the relative change of Z independent of the embedding's scale.
      const double step_size = args.learning_rate * eig.values.sum();
      const double condition = bounded_condition_number(eig.values);
      const double rank = effective_rank(eig.values);
      if (step == 0) {
        r.condition_start = condition;
        r.rank_start = rank;
        r.loss_start = g.loss;
      } else if (condition > previous_condition * (1 + 1e-12)) {
        ++r.condition_increases;
      }
      previous_condition = condition;
      r.condition_end = condition;
      r.rank_end = rank;
      r.loss_end = g.loss;
      const bool log = step % args.log_every == 0 || step == args.steps;
      if (log) {
        dynamics.add({static_cast<long>(t), static_cast<long>(step), g.loss, g.output_trace, bound,
                      rank, condition, step_size});
        snapshots.emplace_back(step, eig.values);
        // Central difference with a tiny step cancels the O(η²) term
        // (docs/math.md#check-37).
        const double probe = args.probe_step * eig.values.sum();
        const vector<double> central = 0.5 * (eigen_decomposition(z - probe * g.grad_z).values -
                                              eigen_decomposition(z + probe * g.grad_z).values);
        const vector<double> probe_predicted = predicted_change(t, eig, z, g.grad_y, probe);
        const vector<double> step_measured =
            eigen_decomposition(z - step_size * g.grad_z).values - eig.values;
        const vector<double> step_predicted = predicted_change(t, eig, z, g.grad_y, step_size);
        // Once the spectrum has converged the predicted changes fall to rounding level (1e-17)
        // and their relative error means nothing; only snapshots that still move are scored.
        // The threshold keeps rounding (≈ 1e-16 λ_max) below 1e-6 of the scored changes.
        if (probe_predicted.cwiseAbs().maxCoeff() > 1e-9 * eig.values(0)) {
          ++r.scored_snapshots;
          r.probe_error = std::max(r.probe_error, max_relative_error(central, probe_predicted));
          r.step_error = std::max(r.step_error, max_relative_error(step_measured, step_predicted));
        }
        for (index_t i = 0; i < eig.values.size(); ++i) {
          prediction.add({static_cast<long>(t), static_cast<long>(step), static_cast<long>(i + 1),
                          eig.values(i), step_measured(i), step_predicted(i), central(i),
                          probe_predicted(i)});
        }
        progress.update(done + step, "T=" + std::to_string(t) + " step " + std::to_string(step));
      }
      if (step < args.steps) {
        z -= step_size * g.grad_z;
      }
    }
    // Eigenvalue by eigenvalue, so that each one's trajectory is a contiguous block (a line).
    for (index_t i = 0; i < args.dim; ++i) {
      for (const auto& [step, values] : snapshots) {
        eigenvalues.add({static_cast<long>(t), static_cast<long>(step), static_cast<long>(i + 1),
                         values(i), values(i) / values.sum()});
      }
    }
    done += args.steps;
    rows.push_back(r);
  }
  progress.finish();
  dynamics.write(folder / "dynamics.csv");
  eigenvalues.write(folder / "eigenvalues.csv");
  prediction.write(folder / "prediction.csv");

  csv_table summary({"iterations", "condition_start", "condition_end", "effective_rank_start",
                     "effective_rank_end", "trace_loss_start", "trace_loss_end",
                     "condition_increases", "scored_snapshots", "max_error_central_vs_first_order",
                     "max_error_step_vs_first_order"});
  std::printf(
      "intl-dynamics: K=D=%ld, N=%ld, initial eigenvalues decay^k with decay %g, %d steps, "
      "step size %g·tr Σ (seed %llu)\n",
      static_cast<long>(args.dim), static_cast<long>(args.samples), args.decay, args.steps,
      args.learning_rate, static_cast<unsigned long long>(args.common.seed));
  std::printf("%3s %20s %16s %22s %8s %7s %14s %14s\n", "T", "cond start -> end",
              "erank start->end", "trace loss start->end", "cond ups", "scored", "err Δλ (probe)",
              "err Δλ (step)");
  for (const row& r : rows) {
    summary.add({static_cast<long>(r.iterations), r.condition_start, r.condition_end, r.rank_start,
                 r.rank_end, r.loss_start, r.loss_end, r.condition_increases, r.scored_snapshots,
                 r.probe_error, r.step_error});
    char conditions[48];
    std::snprintf(conditions, sizeof conditions, "%.3g -> %.3g", r.condition_start,
                  r.condition_end);
    char ranks[48];
    std::snprintf(ranks, sizeof ranks, "%.2f -> %.2f", r.rank_start, r.rank_end);
    char losses[48];
    std::snprintf(losses, sizeof losses, "%.4g -> %.4g", r.loss_start, r.loss_end);
    std::printf("%3d %20s %16s %22s %8ld %7ld %14.2e %14.2e\n", r.iterations, conditions, ranks,
                losses, r.condition_increases, r.scored_snapshots, r.probe_error, r.step_error);
  }
  std::printf(
      "err: max_i |Δλ_i − first-order Δλ_i| / max_i |first-order Δλ_i| over the scored "
      "snapshots (those whose eigenvalues still move); probe: central difference with "
      "η = %g·tr Σ; step: the actual step. cond ups: steps where the condition number "
      "increased\n",
      args.probe_step);
  summary.write(folder / "summary.csv");

  const int shown = *std::max_element(args.iterations.begin(), args.iterations.end()) >= 4
                        ? 4
                        : args.iterations.back();
  std::string iterations_list;
  for (const int t : args.iterations) {
    iterations_list += (iterations_list.empty() ? "" : " ") + std::to_string(t);
  }
  const std::string eigen_data = gnuplot_file("eigenvalues.csv");
  const std::string dynamics_data = gnuplot_file("dynamics.csv");
  const std::string prediction_data = gnuplot_file("prediction.csv");
  std::string body = plot_colors;
  body +=
      "set multiplot layout 1,3 title 'Gradient descent on the trace loss through IterNorm "
      "(free embedding, K = " +
      std::to_string(args.dim) + ")'\nset grid\n";
  body +=
      "set logscale xy\nset format y '10^{%L}'\nset format x '10^{%L}'\n"
      "set xlabel 'step + 1'\nset ylabel 'λ_i / Σλ'\n"
      "set title 'normalised eigenvalues, T = " +
      std::to_string(shown) +
      "'\n"
      "set key off\n";
  body += "plot for [i=1:" + std::to_string(args.dim) + "] " + eigen_data +
          " using (column('step') + 1):(column('iterations') == " + std::to_string(shown) +
          " && column('index') == i ? column('normalized') : NaN) with lines lw 1.5 "
          "lc rgb word(colors, (i-1)%12+1), 1.0/" +
          std::to_string(args.dim) + " with lines dt 2 lw 2 lc rgb 'black'\n";
  body +=
      "set title 'condition number of Σ_Z'\nset ylabel 'λ_{max}/λ_{min}'\nset key top right\n"
      "its = '" +
      iterations_list + "'\n";
  body += "plot for [j=1:words(its)] " + dynamics_data +
          " using (column('step') + 1):(column('iterations') == int(word(its,j)) ? "
          "column('condition_number') : NaN) with lines lw 2 lc rgb word(colors,j) "
          "title 'T = '.word(its,j)\n";
  body +=
      "unset logscale xy\nset format y '%g'\nset title 'Δλ_i per step: measured vs first order'\n"
      "set xlabel 'first-order prediction'\nset ylabel 'measured (one step)'\n"
      "set format y '%g'\nset format x '%g'\nset xtics rotate by -30\nset key top left\n";
  body +=
      "plot for [j=1:words(its)] " + prediction_data +
      " using (column('iterations') == int(word(its,j)) ? column('delta_step_predicted') : NaN):"
      "(column('delta_step_measured')) with points pt 7 ps 0.5 lc rgb word(colors,j) "
      "title 'T = '.word(its,j), x with lines dt 2 lc rgb 'black' title 'y = x'\n";
  body += "unset multiplot\n";
  render_plot(folder / "intl_dynamics.png", body, 1200, 420);
  std::printf("wrote %s\n", folder.string().c_str());
}

}  // namespace spectral::cli
