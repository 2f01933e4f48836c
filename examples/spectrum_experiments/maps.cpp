// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// `spectral experiment maps`: what an ST does to a spectrum. For a generated embedding with a
// decaying covariance spectrum, the output spectrum map ψ(λ) predicted by output_spectrum()
// (docs/math.md#spectral-transformation, docs/math.md#power-function, docs/math.md#iternorm) is
// set beside the spectrum measured on the transformed embedding.

#include "csv_writer.hpp"
#include "experiments.hpp"
#include "gnuplot.hpp"
#include "random.hpp"
#include "training_report.hpp"

#include <spectral/spectral.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace spectral::cli {

namespace {

struct map_result {
  std::string family;
  double parameter;
  std::string label;
  vector<double> predicted;  ///< ψ(λ_i), i in the input's descending order
  vector<double> measured;   ///< u_iᵀ Σ_Y u_i: the output variance along input eigenvector i
  spectrum_report output;    ///< spectrum of the transformed embedding
};

/// Transforms z, then reads the output covariance along the input's eigenvectors (an ST keeps
/// the eigenvectors, so this pairs every input eigenvalue with the value it was mapped to).
template <class Method>
map_result measure_map(const std::string& family,
                       double parameter,
                       const std::string& label,
                       const Method& method,
                       const row_matrix<double>& z,
                       const vector<double>& input_eigenvalues,
                       const matrix<double>& eigenvectors) {
  const spectral_transform<double, Method> transform{method};
  const auto result = transform.forward(z);
  const matrix<double> output_covariance = covariance<double>(result.output);
  vector<double> measured(eigenvectors.cols());
  for (index_t i = 0; i < eigenvectors.cols(); ++i) {
    measured(i) = eigenvectors.col(i).dot(output_covariance * eigenvectors.col(i));
  }
  return {family,   parameter,
          label,    output_spectrum(method, input_eigenvalues),
          measured, spectrum<double>(result.output)};
}

}  // namespace

void run_maps(const maps_args& args) {
  SPECTRAL_EXPECTS(args.samples > args.dim,
                   "--samples: need more samples than --dim for a "
                   "non-singular covariance, got ",
                   args.samples, " <= ", args.dim);
  const std::filesystem::path folder = prepare_output_folder(args.common.out);

  // Z = G diag(√(decay^k)) Qᵀ: population eigenvalues decay^k along the columns of a random Q.
  random_source rng(args.common.seed, 0);
  const matrix<double> basis =
      Eigen::HouseholderQR<matrix<double>>(matrix<double>(rng.normal_matrix(args.dim, args.dim)))
          .householderQ();
  vector<double> scale(args.dim);
  for (index_t k = 0; k < args.dim; ++k) {
    scale(k) = std::pow(args.decay, 0.5 * static_cast<double>(k));
  }
  const row_matrix<double> z =
      rng.normal_matrix(args.samples, args.dim) * scale.asDiagonal() * basis.transpose();

  // The sample covariance's own eigenpairs, descending: the maps are applied to these.
  const Eigen::SelfAdjointEigenSolver<matrix<double>> eig(covariance<double>(z));
  const vector<double> input = eig.eigenvalues().reverse();
  const matrix<double> eigenvectors = eig.eigenvectors().rowwise().reverse();
  const spectrum_report input_report = spectrum<double>(z);

  std::vector<map_result> results;
  for (const double p : {0.0, 0.25, 0.45, 0.5, 0.55, 0.75, 1.0}) {
    results.push_back(measure_map("power", p, "power-" + format_number(p), power_function{p}, z,
                                  input, eigenvectors));
  }
  for (int t = 1; t <= 8; ++t) {
    results.push_back(measure_map("iternorm", t, "iternorm-T" + std::to_string(t), iter_norm{t}, z,
                                  input, eigenvectors));
  }

  csv_table maps({"family", "parameter", "instance", "index", "input_eigenvalue",
                  "input_normalized", "output_predicted", "output_measured"});
  csv_table summary({"family", "parameter", "instance", "input_condition_number",
                     "output_condition_number_predicted", "output_condition_number_measured",
                     "input_effective_rank", "output_effective_rank", "max_relative_error"});
  const double trace = input.sum();
  std::printf("maps: K=%ld, %ld samples, input eigenvalues decay^k with decay %g (seed %llu)\n",
              static_cast<long>(args.dim), static_cast<long>(args.samples), args.decay,
              static_cast<unsigned long long>(args.common.seed));
  std::printf("%-12s %12s %14s %14s %10s %10s %12s\n", "instance", "cond in", "cond out (ψ)",
              "cond out (Y)", "erank in", "erank out", "max rel err");
  for (const map_result& r : results) {
    double worst = 0;
    for (index_t i = 0; i < input.size(); ++i) {
      maps.add({r.family, r.parameter, r.label, static_cast<long>(i + 1), input(i),
                input(i) / trace, r.predicted(i), r.measured(i)});
      worst = std::max(worst, std::abs(r.measured(i) - r.predicted(i)) / std::abs(r.predicted(i)));
    }
    const double predicted_condition = r.predicted.maxCoeff() / r.predicted.minCoeff();
    const double measured_condition = bounded_condition_number(r.output.eigenvalues);
    summary.add({r.family, r.parameter, r.label, input_report.condition_number, predicted_condition,
                 measured_condition, input_report.effective_rank, r.output.effective_rank, worst});
    std::printf("%-12s %12.4g %14.4g %14.4g %10.2f %10.2f %12.2e\n", r.label.c_str(),
                input_report.condition_number, predicted_condition, measured_condition,
                input_report.effective_rank, r.output.effective_rank, worst);
  }
  maps.write(folder / "maps.csv");
  summary.write(folder / "summary.csv");

  const std::string data = gnuplot_file("maps.csv");
  std::string body = plot_colors;
  body +=
      "set multiplot layout 1,2 title 'Output spectrum map ψ(λ): lines = output\\_spectrum(), "
      "dots = measured on the transformed embedding (K = " +
      std::to_string(args.dim) + ")'\n";
  body +=
      "set logscale xy\nset format x '10^{%L}'\nset format y '10^{%L}'\nset grid\n"
      "set key bottom right font ',8'\nset xlabel 'input eigenvalue λ'\n";
  body += "powers = '0 0.25 0.45 0.5 0.55 0.75 1'\n";
  body += "set title 'power functions: ψ(λ) = λ^{1-2p}'\nset ylabel 'output eigenvalue ψ(λ)'\n";
  body +=
      "plot for [i=1:words(powers)] " + data +
      " using (column('input_eigenvalue')):(strcol('family') eq 'power' && "
      "column('parameter') == real(word(powers,i)) ? column('output_predicted') : NaN) with lines "
      "lw 2 lc rgb word(colors,i) title 'p = '.word(powers,i), \\\n"
      "     for [i=1:words(powers)] " +
      data +
      " using (column('input_eigenvalue')):(strcol('family') eq 'power' && "
      "column('parameter') == real(word(powers,i)) ? column('output_measured') : NaN) with points "
      "pt 7 ps 0.4 lc rgb word(colors,i) notitle\n";
  body += "set title 'IterNorm: ψ(λ) = f_T(λ/tr Σ)'\nset key bottom right\n";
  body += "plot for [t=1:8] " + data +
          " using (column('input_eigenvalue')):(strcol('family') eq 'iternorm' && "
          "column('parameter') == t ? column('output_predicted') : NaN) with lines lw 2 "
          "lc rgb word(colors,t) title 'T = '.t, \\\n"
          "     for [t=1:8] " +
          data +
          " using (column('input_eigenvalue')):(strcol('family') eq 'iternorm' && "
          "column('parameter') == t ? column('output_measured') : NaN) with points pt 7 ps 0.4 "
          "lc rgb word(colors,t) notitle\n";
  body += "unset multiplot\n";
  render_plot(folder / "maps.png", body, 960, 420);
  std::printf("wrote %s\n", folder.string().c_str());
}

}  // namespace spectral::cli
