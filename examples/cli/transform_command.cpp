// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#include "transform_command.hpp"

#include "method_dispatch.hpp"

#include <spectral/io/npy.hpp>
#include <spectral/spectral.hpp>

#include <filesystem>
#include <optional>
#include <vector>

namespace spectral::cli {

CLI::App* add_transform_command(CLI::App& app, transform_args& args) {
  CLI::App* cmd =
      app.add_subcommand("transform",
                         "Apply a spectral transformation to X (N×D, rows = samples) and write Y; "
                         "optionally backpropagate GY into GX = ∂⟨GY, Y⟩/∂X");
  cmd->add_option("--method", args.method, "Spectral transformation")
      ->required()
      ->check(CLI::IsMember(choices(method_names)));
  cmd->add_option("--power", args.power, "Exponent p of W = Σ^-p (power only; p >= 0)")
      ->capture_default_str();
  cmd->add_option("--iters", args.iters, "Newton iterations T (iternorm only; T >= 1)")
      ->capture_default_str();
  cmd->add_option("--axis",
                  args.axis,
                  "features: D×D covariance over the N samples; samples: N×N over the D features")
      ->check(CLI::IsMember(choices(axis_names)))
      ->capture_default_str();
  cmd->add_option("--groups", args.groups, "Equal contiguous column blocks, each transformed alone")
      ->capture_default_str();
  cmd->add_option("--eps", args.eps, "Shrinkage: Σ + eps·I")->capture_default_str();
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

  auto result = transform.forward(z);
  std::optional<row_matrix<T>> grad_in;
  if (grad_out) {
    grad_in = transform.backward(result.context, *grad_out);
  }

  // Everything has succeeded: stage every output, then move them all into place.
  std::vector<io::pending_npy> outputs;
  outputs.emplace_back(args.output, embedding_cref<T>(result.output));
  if (grad_in) {
    outputs.emplace_back(args.grad_input, embedding_cref<T>(*grad_in));
  }
  for (auto& out : outputs) {
    out.commit();
  }
}

}  // namespace

void run_transform(const transform_args& args) {
  if (!args.grad_input.empty()) {
    // Same path twice would silently keep only one of the two results.
    SPECTRAL_EXPECTS(std::filesystem::weakly_canonical(args.grad_input) !=
                         std::filesystem::weakly_canonical(args.output),
                     "--grad-input: must differ from --output, both are '",
                     args.output,
                     "'");
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
