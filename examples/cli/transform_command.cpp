// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#include "transform_command.hpp"

#include "flag_ranges.hpp"
#include "method_dispatch.hpp"
#include "npy.hpp"

#include <spectral/io/staged_file.hpp>
#include <spectral/spectral.hpp>

#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace spectral::cli {

CLI::App* add_transform_command(CLI::App& app, transform_args& args) {
  CLI::App* cmd =
      app.add_subcommand("transform",
                         "Apply a spectral transformation to X (N×D, rows = samples) and write Y; "
                         "optionally backpropagate GY into GX = ∂⟨GY, Y⟩/∂X");
  cmd->add_option("--method", args.method, "Spectral transformation:\n" + method_help())
      ->required()
      ->check(CLI::IsMember(choices(method_names())));
  cmd->add_option("--power", args.power, "Exponent p of W = Σ^-p (power only)")
      ->check(in_range(min_power, max_power))
      ->capture_default_str();
  cmd->add_option("--iters", args.iters, "Newton iterations T (iternorm only)")
      ->check(in_range(min_iterations, iter_norm::max_iterations))
      ->capture_default_str();
  cmd->add_option("--axis", args.axis,
                  "features: D×D covariance over the N samples; samples: N×N over the D features")
      ->check(CLI::IsMember(choices(axis_names)))
      ->capture_default_str();
  cmd->add_option("--groups", args.groups,
                  "Equal contiguous column blocks, each transformed alone (must divide D)")
      ->check(in_range(1L, max_groups))
      ->capture_default_str();
  cmd->add_option("--eps", args.eps, "Shrinkage: Σ + eps·I")
      ->check(in_range(0.0, std::numeric_limits<double>::max()))
      ->capture_default_str();
  cmd->add_option("--input", args.input, "X: 2-D float32/float64 C-order .npy")->required();
  cmd->add_option("--output", args.output, "Y: written with X's shape and dtype")->required();
  CLI::Option* grad_output =
      cmd->add_option("--grad-output", args.grad_output, "GY = ∂L/∂Y, .npy with X's shape");
  CLI::Option* grad_input =
      cmd->add_option("--grad-input", args.grad_input, "GX = ∂L/∂X, written with X's dtype");
  grad_output->needs(grad_input);
  grad_input->needs(grad_output);
  return cmd;
}

namespace {

/// Stages one output of the set; a file that cannot be created or written is reported with
/// the flag that named it.
template <real_scalar T>
void stage(io::staged_file_set& outputs,
           std::string_view flag,
           const std::string& path,
           const row_matrix<T>& data) {
  try {
    io::write_npy<T>(outputs.add(path), data);
  } catch (const invalid_input& e) {
    throw invalid_input(spectral::detail::concat(flag, ": ", e.what()));
  }
}

template <real_scalar T, class Method>
void transform_and_write(const Method& method,
                         const options& opts,
                         const row_matrix<T>& z,
                         const transform_args& args) {
  const spectral_transform<T, Method> transform{method, opts};
  std::optional<row_matrix<T>> grad_out;
  if (!args.grad_output.empty()) {
    grad_out = cast_to<T>(io::read_npy(args.grad_output));
  }

  // Without a gradient nothing is kept for a backward (IterNorm's iterates, Z_c, W).
  row_matrix<T> y;
  std::optional<row_matrix<T>> grad_in;
  if (grad_out) {
    auto result = transform.forward(z);
    grad_in = transform.backward(result.context, *grad_out);
    y = std::move(result.output);
  } else {
    y = transform.apply(z);
  }

  // Everything has succeeded: stage every output, then move them all into place together; a
  // failure in any (an unwritable folder, a full disk) leaves none of them.
  io::staged_file_set outputs;
  stage<T>(outputs, "--output", args.output, y);
  if (grad_in) {
    stage<T>(outputs, "--grad-input", args.grad_input, *grad_in);
  }
  outputs.commit();
}

}  // namespace

void run_transform(const transform_args& args) {
  // Checked before any work: both results would go to one file and only one would survive.
  if (!args.grad_input.empty() && io::same_file_path(args.grad_input, args.output)) {
    throw invalid_input(spectral::detail::concat("--grad-input '", args.grad_input,
                                                 "' and --output '", args.output,
                                                 "' name the same file; give two different files"));
  }
  const options opts{.axis = parse_axis(args.axis), .groups = args.groups, .eps = args.eps};
  opts.validate();
  with_method(args.method, args.power, args.iters, [&](const auto& method) {
    with_scalar(io::read_npy(args.input), [&](const auto& z) {
      using T = typename std::decay_t<decltype(z)>::Scalar;
      transform_and_write<T>(method, opts, z, args);
    });
  });
}

}  // namespace spectral::cli
