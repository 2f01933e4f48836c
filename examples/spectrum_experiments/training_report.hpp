// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Collects the runs of a collapse study (synthetic or Fashion-MNIST) and turns them into the
/// CSV tables, the plots and the printed table, so both experiments report alike.

#include "csv_writer.hpp"
#include "gnuplot.hpp"
#include "ssl_objective.hpp"
#include "ssl_training.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace spectral::cli {

[[nodiscard]] inline std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

class training_report {
 public:
  /// @param name file prefix and plot title prefix ("collapse", "real")
  training_report(std::string name, index_t dim) : name_(std::move(name)), dim_(dim) {}

  void add(const std::string& encoder,
           const st_instance& instance,
           int run,
           std::uint64_t seed,
           training_outcome outcome,
           std::optional<double> probe_accuracy = std::nullopt) {
    if (std::find(labels_.begin(), labels_.end(), instance.label()) == labels_.end()) {
      labels_.push_back(instance.label());
      families_.push_back(instance.family);
      parameters_.push_back(instance.parameter);
    }
    if (std::find(encoders_.begin(), encoders_.end(), encoder) == encoders_.end()) {
      encoders_.push_back(encoder);
    }
    records_.push_back({encoder, instance.label(), run, seed, std::move(outcome), probe_accuracy});
  }

  /// Per-(instance, encoder) aggregate over the runs.
  struct summary_row {
    std::size_t instance_index = 0;
    std::string label;
    std::string family;
    double parameter = 0;
    std::string encoder;
    long runs = 0;
    long failed_runs = 0;
    double initial_rank = 0;  ///< mean over runs, step 0
    double final_rank_mean = 0;
    double final_rank_min = 0;
    double final_rank_max = 0;
    double condition_median = 0;
    double alignment_mean = 0;
    std::optional<double> probe_mean, probe_min, probe_max;
    std::string verdict;
    std::string first_failure;
  };

  [[nodiscard]] std::vector<summary_row> summarize(double collapsed_below, double full_from) const;

  /// runs.csv, trajectories.csv, spectra.csv (every snapshot of run 0), summary.csv.
  void write(const std::filesystem::path& folder, double collapsed_below, double full_from) const;

  /// <name>_rank.png, <name>_summary.png, <name>_spectra.png (from the CSVs written by write).
  void plot(const std::filesystem::path& folder, const std::string& title) const;

  void print_table(double collapsed_below, double full_from) const;

 private:
  struct record {
    std::string encoder;
    std::string label;
    int run;
    std::uint64_t seed;
    training_outcome outcome;
    std::optional<double> probe;
  };

  [[nodiscard]] bool has_probe() const {
    return !records_.empty() && records_.front().probe.has_value();
  }
  /// The instances drawn as lines: power p = 0.5 (same as ZCA) and grid points in between are
  /// left out so that the plot stays readable; the CSVs have every instance.
  [[nodiscard]] std::string plotted_labels() const;

  std::string name_;
  index_t dim_;
  std::vector<std::string> labels_;
  std::vector<std::string> families_;
  std::vector<double> parameters_;
  std::vector<std::string> encoders_;
  std::vector<record> records_;
};

// --- implementation -----------------------------------------------------------------------------

inline auto training_report::summarize(double collapsed_below, double full_from) const
    -> std::vector<summary_row> {
  std::vector<summary_row> rows;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    for (const std::string& encoder : encoders_) {
      summary_row row;
      row.instance_index = i;
      row.label = labels_[i];
      row.family = families_[i];
      row.parameter = parameters_[i];
      row.encoder = encoder;
      std::vector<double> finals;
      std::vector<double> conditions;
      std::vector<double> probes;
      for (const record& r : records_) {
        if (r.label != labels_[i] || r.encoder != encoder) {
          continue;
        }
        const spectrum_snapshot& last = r.outcome.snapshots.back();
        ++row.runs;
        if (r.outcome.failed()) {
          ++row.failed_runs;
          if (row.first_failure.empty()) {
            row.first_failure = r.outcome.failure;
          }
        }
        row.initial_rank += r.outcome.snapshots.front().effective_rank;
        row.alignment_mean += last.loss.alignment;
        finals.push_back(last.effective_rank);
        conditions.push_back(last.condition_number);
        if (r.probe) {
          probes.push_back(*r.probe);
        }
      }
      if (row.runs == 0) {
        continue;
      }
      const auto count = static_cast<double>(row.runs);
      row.initial_rank /= count;
      row.alignment_mean /= count;
      double sum = 0;
      for (const double f : finals) {
        sum += f;
      }
      row.final_rank_mean = sum / count;
      row.final_rank_min = *std::min_element(finals.begin(), finals.end());
      row.final_rank_max = *std::max_element(finals.begin(), finals.end());
      std::sort(conditions.begin(), conditions.end());
      const std::size_t mid = conditions.size() / 2;
      row.condition_median = conditions.size() % 2 == 1
                                 ? conditions[mid]
                                 : std::sqrt(conditions[mid - 1] * conditions[mid]);
      if (!probes.empty()) {
        double probe_sum = 0;
        for (const double p : probes) {
          probe_sum += p;
        }
        row.probe_mean = probe_sum / static_cast<double>(probes.size());
        row.probe_min = *std::min_element(probes.begin(), probes.end());
        row.probe_max = *std::max_element(probes.begin(), probes.end());
      }
      const double fraction = row.final_rank_mean / static_cast<double>(dim_);
      row.verdict = fraction < collapsed_below ? "collapsed"
                    : fraction >= full_from    ? "full"
                                               : "partial";
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

inline void training_report::write(const std::filesystem::path& folder,
                                   double collapsed_below,
                                   double full_from) const {
  const bool probe = has_probe();
  std::vector<std::string> run_columns = {"encoder",
                                          "instance",
                                          "run",
                                          "seed",
                                          "final_step",
                                          "initial_effective_rank",
                                          "final_effective_rank",
                                          "final_condition_number",
                                          "final_alignment",
                                          "status"};
  if (probe) {
    run_columns.emplace_back("probe_accuracy");
  }
  csv_table runs(run_columns);
  csv_table trajectories({"encoder", "instance", "run", "seed", "step", "loss", "alignment",
                          "trace_loss", "effective_rank", "condition_number"});
  csv_table spectra(
      {"encoder", "instance", "run", "step", "final", "index", "normalized_eigenvalue"});
  for (const record& r : records_) {
    const auto& first = r.outcome.snapshots.front();
    const auto& last = r.outcome.snapshots.back();
    std::vector<csv_cell> row = {r.encoder,
                                 r.label,
                                 static_cast<long>(r.run),
                                 static_cast<long>(r.seed),
                                 static_cast<long>(last.step),
                                 first.effective_rank,
                                 last.effective_rank,
                                 last.condition_number,
                                 last.loss.alignment,
                                 std::string(r.outcome.failed() ? "failed" : "ok")};
    if (probe) {
      row.emplace_back(r.probe.value_or(0.0));
    }
    runs.add(std::move(row));
    for (const spectrum_snapshot& s : r.outcome.snapshots) {
      trajectories.add({r.encoder, r.label, static_cast<long>(r.run), static_cast<long>(r.seed),
                        static_cast<long>(s.step), s.loss.total, s.loss.alignment, s.loss.trace,
                        s.effective_rank, s.condition_number});
      if (r.run != 0) {
        continue;
      }
      const long final = &s == &last ? 1 : 0;
      for (index_t k = 0; k < s.normalized.size(); ++k) {
        spectra.add({r.encoder, r.label, static_cast<long>(r.run), static_cast<long>(s.step), final,
                     static_cast<long>(k + 1), s.normalized(k)});
      }
    }
  }
  std::vector<std::string> summary_columns = {"instance_index",
                                              "instance",
                                              "family",
                                              "parameter",
                                              "encoder",
                                              "runs",
                                              "failed_runs",
                                              "initial_effective_rank",
                                              "final_effective_rank_mean",
                                              "final_effective_rank_min",
                                              "final_effective_rank_max",
                                              "final_rank_fraction",
                                              "final_condition_number_median",
                                              "final_alignment_mean"};
  if (probe) {
    summary_columns.insert(summary_columns.end(),
                           {"probe_accuracy_mean", "probe_accuracy_min", "probe_accuracy_max"});
  }
  summary_columns.emplace_back("verdict");
  csv_table summary(summary_columns);
  for (const summary_row& s : summarize(collapsed_below, full_from)) {
    std::vector<csv_cell> row = {static_cast<long>(s.instance_index),
                                 s.label,
                                 s.family,
                                 s.parameter,
                                 s.encoder,
                                 s.runs,
                                 s.failed_runs,
                                 s.initial_rank,
                                 s.final_rank_mean,
                                 s.final_rank_min,
                                 s.final_rank_max,
                                 s.final_rank_mean / static_cast<double>(dim_),
                                 s.condition_median,
                                 s.alignment_mean};
    if (probe) {
      row.insert(row.end(), {*s.probe_mean, *s.probe_min, *s.probe_max});
    }
    row.emplace_back(s.verdict);
    summary.add(std::move(row));
  }
  runs.write(folder / "runs.csv");
  trajectories.write(folder / "trajectories.csv");
  spectra.write(folder / "spectra.csv");
  summary.write(folder / "summary.csv");
}

inline std::string training_report::plotted_labels() const {
  std::string out;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    const double p = parameters_[i];
    const bool shown =
        families_[i] != "power" || p == 0.25 || p == 0.45 || p == 0.55 || p == 0.75 || p == 1.0;
    if (shown) {
      out += (out.empty() ? "" : " ") + labels_[i];
    }
  }
  return out;
}

/// Twelve distinguishable line colours (gnuplot's default cycle repeats after eight).
inline constexpr const char* plot_colors =
    "colors = '#1f77b4 #d62728 #ff7f0e #bcbd22 #2ca02c #17becf #9467bd #8c564b #e377c2 #7f7f7f "
    "#000000 #aec7e8'\n";

inline void training_report::plot(const std::filesystem::path& folder,
                                  const std::string& title) const {
  const std::string names = plotted_labels();
  const std::string encoders_list = [&] {
    std::string s;
    for (const auto& e : encoders_) {
      s += (s.empty() ? "" : " ") + e;
    }
    return s;
  }();
  const auto layout = "set multiplot layout 1," + std::to_string(encoders_.size()) + " title " +
                      gnuplot_text(title) + "\n";
  const std::string trajectories = gnuplot_file("trajectories.csv");
  const std::string spectra = gnuplot_file("spectra.csv");
  const std::string summary = gnuplot_file("summary.csv");
  const std::string per_encoder_lines =
      "names = " + gnuplot_text(names) + "\nencoders = " + gnuplot_text(encoders_list) + "\n" +
      plot_colors + layout + "set key below maxrows 3 font ',8' spacing 0.9\nset grid\n";

  // Effective rank over training, run 0 of each setting.
  std::string rank = per_encoder_lines;
  rank += "set xlabel 'SGD step'\nset ylabel 'effective rank of the embedding (D = " +
          std::to_string(dim_) + ")'\nset yrange [0:" + std::to_string(dim_ + 1) + "]\n";
  rank +=
      "do for [e in encoders] {\n  set title e.' encoder (run 0)'\n"
      "  plot for [i=1:words(names)] " +
      trajectories +
      " using (column('step')):((strcol('encoder') eq e && strcol('instance') eq word(names,i) "
      "&& column('run') == 0) ? column('effective_rank') : NaN) with lines lw 2 lc rgb "
      "word(colors,i) "
      "title word(names,i)\n}\nunset multiplot\n";
  render_plot(folder / (name_ + "_rank.png"), rank, 1000, 520);

  // Final normalised spectrum, run 0, log scale.
  std::string final_spectra = per_encoder_lines;
  final_spectra +=
      "set logscale y\nset format y '10^{%L}'\nset xlabel 'eigenvalue index'\n"
      "set ylabel 'λ_i / Σλ at the last step (run 0)'\nset yrange [1e-12:1]\n";
  final_spectra +=
      "do for [e in encoders] {\n  set title e.' encoder'\n"
      "  plot for [i=1:words(names)] " +
      spectra +
      " using (column('index')):((strcol('encoder') eq e && strcol('instance') eq "
      "word(names,i) && column('final') == 1) ? "
      "(column('normalized_eigenvalue') > 1e-12 ? column('normalized_eigenvalue') : 1e-12) : NaN) "
      "with linespoints pt 7 ps 0.4 lw 1.5 lc rgb word(colors,i) title word(names,i)\n}\n"
      "unset multiplot\n";
  render_plot(folder / (name_ + "_spectra.png"), final_spectra, 1000, 520);

  // Final effective rank / D per instance (mean, min–max over runs), and the probe accuracy.
  const bool probe = has_probe();
  std::string bars = "encoders = " + gnuplot_text(encoders_list) + "\n";
  bars += std::string("set multiplot layout ") + (probe ? "2,1" : "1,1") + " title " +
          gnuplot_text(title) + "\n";
  // Explicit tic labels: one per instance, whatever the encoders and the rows present.
  std::string tics = "set xtics (";
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    tics += (i == 0 ? "" : ", ") + gnuplot_text(labels_[i]) + " " + std::to_string(i);
  }
  bars += tics + ") rotate by -40 font ',8'\n";
  bars +=
      "set grid ytics\nset key top left\nset offsets 0.5,0.5,0,0\n"
      "set ylabel 'final effective rank / D'\nset yrange [0:1.05]\n";
  bars += "plot for [j=1:words(encoders)] " + summary +
          " using (column('instance_index') + 0.15*(j-1)):(strcol('encoder') eq word(encoders,j) ? "
          "column('final_rank_fraction') : NaN):(column('final_effective_rank_min')/" +
          std::to_string(dim_) + "):(column('final_effective_rank_max')/" + std::to_string(dim_) +
          ") "
          "with yerrorbars pt 7 ps 1 lw 1.5 title word(encoders,j)\n";
  if (probe) {
    bars += "set ylabel 'linear probe accuracy'\nset autoscale y\n";
    bars +=
        "plot for [j=1:words(encoders)] " + summary +
        " using (column('instance_index') + 0.15*(j-1)):(strcol('encoder') eq word(encoders,j) ? "
        "column('probe_accuracy_mean') : NaN):(column('probe_accuracy_min')):"
        "(column('probe_accuracy_max')) with yerrorbars pt 7 ps 1 lw 1.5 title word(encoders,j)\n";
  }
  bars += "unset multiplot\n";
  render_plot(folder / (name_ + "_summary.png"), bars, 900, probe ? 700 : 450);
}

inline void training_report::print_table(double collapsed_below, double full_from) const {
  const bool probe = has_probe();
  std::printf("%-8s %-13s %10s %24s %12s %9s %6s%s %s\n", "encoder", "instance", "rank@0",
              "final rank mean [min,max]", "cond(median)", "alignment", "failed",
              probe ? "  probe acc" : "", "verdict");
  for (const summary_row& s : summarize(collapsed_below, full_from)) {
    char rank[64];
    std::snprintf(rank, sizeof rank, "%.2f [%.2f,%.2f]", s.final_rank_mean, s.final_rank_min,
                  s.final_rank_max);
    char accuracy[32] = "";
    if (probe) {
      std::snprintf(accuracy, sizeof accuracy, "  %9.4f", *s.probe_mean);
    }
    std::printf("%-8s %-13s %10.2f %24s %12.3g %9.4f %3ld/%-2ld%s %s\n", s.encoder.c_str(),
                s.label.c_str(), s.initial_rank, rank, s.condition_median, s.alignment_mean,
                s.failed_runs, s.runs, accuracy, s.verdict.c_str());
  }
  std::printf(
      "verdict: collapsed = final rank < %g·D, full = final rank >= %g·D (D = %ld), "
      "partial otherwise\n",
      collapsed_below, full_from, static_cast<long>(dim_));
  for (const summary_row& s : summarize(collapsed_below, full_from)) {
    if (s.failed_runs > 0) {
      std::string message = s.first_failure.substr(0, 160);
      std::replace(message.begin(), message.end(), '\n', ' ');
      std::printf("note: %s/%s stopped early in %ld run(s): %s\n", s.encoder.c_str(),
                  s.label.c_str(), s.failed_runs, message.c_str());
    }
  }
}

}  // namespace spectral::cli
