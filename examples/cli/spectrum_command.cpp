// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#include "spectrum_command.hpp"

#include "method_dispatch.hpp"
#include "npy.hpp"

#include <spectral/spectral.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

namespace spectral::cli {

CLI::App* add_spectrum_command(CLI::App& app, spectrum_args& args) {
  CLI::App* cmd =
      app.add_subcommand("spectrum",
                         "Print the covariance spectrum of X (N×D): eigenvalues, effective rank, "
                         "condition number, trace");
  cmd->add_option("--input", args.input, "X: 2-D float32/float64 C-order .npy")->required();
  cmd->add_option("--axis", args.axis,
                  "features: D×D covariance over the N samples; samples: N×N over the D features")
      ->check(CLI::IsMember(choices(axis_names)))
      ->capture_default_str();
  cmd->add_flag("--json", args.json,
                "Print one JSON object (condition_number is null when Σ is singular)");
  return cmd;
}

namespace {

struct described_spectrum {
  spectrum_report report;
  index_t rows = 0;
  index_t cols = 0;
  std::string_view dtype;
};

std::vector<double> to_std(const vector<double>& v) { return {v.data(), v.data() + v.size()}; }

void print_json(const described_spectrum& s, axis a) {
  const spectrum_report& r = s.report;
  nlohmann::ordered_json out;
  out["rows"] = s.rows;
  out["cols"] = s.cols;
  out["dtype"] = s.dtype;
  out["axis"] = to_string(a);
  out["size"] = r.eigenvalues.size();
  out["trace"] = r.trace;
  out["effective_rank"] = r.effective_rank;
  // JSON has no infinity: a singular covariance (λ_min <= 0) is reported as null.
  out["condition_number"] = std::isfinite(r.condition_number) ? nlohmann::json(r.condition_number)
                                                              : nlohmann::json(nullptr);
  out["eigenvalues"] = to_std(r.eigenvalues);
  out["normalized"] = to_std(r.normalized);
  std::cout << out.dump() << '\n';
}

void print_table(const described_spectrum& s, axis a, const std::string& input) {
  const spectrum_report& r = s.report;
  const index_t k = r.eigenvalues.size();
  const index_t observations = a == axis::features ? s.rows : s.cols;
  std::printf("%s: %ld x %ld %.*s, %.*s axis: %ld x %ld covariance from %ld observations\n",
              input.c_str(), static_cast<long>(s.rows), static_cast<long>(s.cols),
              static_cast<int>(s.dtype.size()), s.dtype.data(),
              static_cast<int>(to_string(a).size()), to_string(a).data(), static_cast<long>(k),
              static_cast<long>(k), static_cast<long>(observations));
  std::printf("  trace             %.6g\n", r.trace);
  std::printf("  effective rank    %.4g of %ld\n", r.effective_rank, static_cast<long>(k));
  std::printf("  condition number  %.4g%s\n", r.condition_number,
              std::isfinite(r.condition_number) ? "" : " (singular covariance)");
  const index_t shown = std::min<index_t>(k, 8);
  std::printf("  eigenvalues (descending, top %ld of %ld):\n", static_cast<long>(shown),
              static_cast<long>(k));
  for (index_t i = 0; i < shown; ++i) {
    std::printf("    %4ld  %12.6g  %6.2f%%\n", static_cast<long>(i + 1), r.eigenvalues(i),
                100.0 * r.normalized(i));
  }
  if (k > shown) {
    std::printf("    %4ld  %12.6g  %6.2f%%  (smallest)\n", static_cast<long>(k),
                r.eigenvalues(k - 1), 100.0 * r.normalized(k - 1));
  }
}

}  // namespace

void run_spectrum(const spectrum_args& args) {
  const options opts{.axis = parse_axis(args.axis)};
  const described_spectrum s = with_scalar(io::read_npy(args.input), [&](const auto& z) {
    using T = typename std::decay_t<decltype(z)>::Scalar;
    return described_spectrum{spectrum<T>(z, opts), z.rows(), z.cols(), dtype_name<T>()};
  });
  if (args.json) {
    print_json(s, opts.axis);
  } else {
    print_table(s, opts.axis, args.input);
  }
}

}  // namespace spectral::cli
