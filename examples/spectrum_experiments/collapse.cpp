// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// `spectral experiment collapse`: which ST instances keep the embedding spectrum full under a
// two-view alignment loss. Synthetic data x = s + noise with a decaying signal spectrum; the
// identity transform is the known collapsing baseline (aligning views rewards the few
// directions where they agree most).

#include "csv_writer.hpp"
#include "encoder.hpp"
#include "experiments.hpp"
#include "gnuplot.hpp"
#include "method_dispatch.hpp"
#include "progress.hpp"
#include "random.hpp"
#include "ssl_objective.hpp"
#include "ssl_training.hpp"
#include "training_report.hpp"

#include <spectral/spectral.hpp>

#include <Eigen/QR>

#include <cmath>
#include <cstdio>

namespace spectral::cli {

namespace {

/// Two views of a batch: x = s + σε¹ and s + σε², s = A g with A Aᵀ = Q diag(decay^k) Qᵀ.
struct synthetic_views {
  row_matrix<double> mixing;  ///< A
  double noise;
  index_t batch;

  void operator()(random_source& rng, row_matrix<double>& x1, row_matrix<double>& x2) const {
    const row_matrix<double> signal = clean(rng, batch);
    x1 = signal + rng.normal_matrix(batch, mixing.rows(), noise);
    x2 = signal + rng.normal_matrix(batch, mixing.rows(), noise);
  }
  [[nodiscard]] row_matrix<double> clean(random_source& rng, index_t rows) const {
    return rng.normal_matrix(rows, mixing.cols()) * mixing.transpose();
  }
};

[[nodiscard]] row_matrix<double> decaying_mixing(index_t dim, double decay, random_source& rng) {
  const matrix<double> gaussian = rng.normal_matrix(dim, dim);
  const matrix<double> basis = Eigen::HouseholderQR<matrix<double>>(gaussian).householderQ();
  vector<double> scale(dim);
  for (index_t k = 0; k < dim; ++k) {
    scale(k) = std::pow(decay, 0.5 * static_cast<double>(k));
  }
  return basis * scale.asDiagonal();
}

}  // namespace

void run_collapse(const collapse_args& args) {
  SPECTRAL_EXPECTS(args.dim <= args.input_dim, "--dim: the embedding (", args.dim,
                   ") must not be wider than the data (--input-dim ", args.input_dim, ")");
  SPECTRAL_EXPECTS(args.batch > args.dim || args.axis == "samples",
                   "--batch: the features axis needs N > D for a "
                   "non-singular covariance, got N=",
                   args.batch, ", D=", args.dim);
  const std::filesystem::path folder = prepare_output_folder(args.common.out);
  const options opts{.axis = parse_axis(args.axis)};
  const index_t covariance_size = opts.axis == axis::features ? args.dim : args.batch;
  const std::vector<st_instance> instances =
      collapse_instances(args.powers, args.iterations, opts, args.intl_betas, covariance_size);
  const training_settings settings{args.steps, args.learning_rate, args.momentum, args.weight_decay,
                                   args.log_every};

  training_report report("collapse", args.dim);
  progress_line progress("collapse",
                         static_cast<long>(args.encoders.size() * instances.size()) * args.runs);
  long done = 0;
  for (const std::string& encoder_name : args.encoders) {
    const encoder_kind kind = parse_encoder_kind(encoder_name);
    for (int run = 0; run < args.runs; ++run) {
      // Every instance of one (encoder, run) sees the same data, evaluation set and initial
      // weights.
      const std::uint64_t seed = args.common.seed + static_cast<std::uint64_t>(run);
      random_source setup_rng(seed, 1);
      const synthetic_views views{decaying_mixing(args.input_dim, args.decay, setup_rng),
                                  args.noise, args.batch};
      const row_matrix<double> eval_inputs = views.clean(setup_rng, args.eval_samples);
      for (const st_instance& instance : instances) {
        progress.update(done,
                        encoder_name + " " + instance.label() + " run " + std::to_string(run));
        random_source init_rng(seed, kind == encoder_kind::linear ? 2 : 3);
        random_source data_rng(seed, 4);
        encoder enc(kind, args.input_dim, args.hidden, args.dim, init_rng);
        const training_outcome outcome =
            train_ssl(enc, instance.loss, views, eval_inputs, settings, data_rng);
        report.add(encoder_name, instance, run, seed, outcome);
        ++done;
      }
    }
  }
  progress.finish();

  report.write(folder, args.collapsed_below, args.full_from);
  report.plot(folder, "Synthetic data (" + std::to_string(args.input_dim) + "-d, decay " +
                          format_number(args.decay) + ", noise " + format_number(args.noise) + ")");
  std::printf(
      "collapse: D=%ld, N=%ld, %d steps, %d run(s) per setting, seeds %llu..%llu, %s axis, "
      "INTL-T%d beta %g (trade_off_beta(%ld))\n",
      args.dim, args.batch, args.steps, args.runs,
      static_cast<unsigned long long>(args.common.seed),
      static_cast<unsigned long long>(args.common.seed) +
          static_cast<unsigned long long>(args.runs) - 1,
      args.axis.c_str(), args.iterations, intl_beta(-1, covariance_size),
      static_cast<long>(covariance_size));
  report.print_table(args.collapsed_below, args.full_from);
  std::printf("wrote %s\n", folder.string().c_str());
}

}  // namespace spectral::cli
