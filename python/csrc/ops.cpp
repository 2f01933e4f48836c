// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// spectral_torch's operators: the LibTorch bridge registered with the dispatcher as
// torch.ops.spectral.*. No Python headers: spectral_torch/_library.py loads this shared library
// with torch.ops.load_library into any Python whose torch is the LibTorch it was built against.
//
// transform has an Autograd kernel (the bridge's autograd Function: the library's forward and
// its exact backward), CPU and CUDA kernels (no autograd node, reached under inference mode)
// and a Meta kernel (shapes only). The losses are composite: LibTorch ops around transform.
// The library's invalid_input leaves as ValueError and numerical_error as RuntimeError, from
// forward (translated here) and from backward (the translator installed at load).

#include "bridge/compat.hpp"
#include "bridge/intl_loss.hpp"
#include "bridge/spectral_function.hpp"
#include "bridge/transform_spec.hpp"

#include <spectral/spectral.hpp>
#include <spectral/version.hpp>

#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
#include "bridge/cuda_bridge.hpp"
#endif

#include <c10/util/Exception.h>
#include <c10/util/Optional.h>
#include <torch/library.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace spectral::python_ops {
namespace {

namespace bridge = spectral::torch_bridge;

/// The library's exceptions as the ones torch hands to Python as ValueError / RuntimeError;
/// anything else (c10::Error, cuda_error) passes unchanged.
[[noreturn]] void rethrow_translated(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const invalid_input& e) {
    TORCH_CHECK_VALUE(false, e.what());
  } catch (const numerical_error& e) {
    TORCH_CHECK(false, e.what());
  }
  // Unreachable: each handler above throws, and other types left rethrow_exception unhandled.
  std::terminate();
}

template <class Fn>
decltype(auto) translated(Fn&& fn) {
  try {
    return fn();
  } catch (...) {
    rethrow_translated(std::current_exception());
  }
}

[[nodiscard]] axis parse_axis(const std::string& name) {
  if (name == "samples") {
    return axis::samples;
  }
  if (name == "features") {
    return axis::features;
  }
  throw invalid_input(detail::concat(
      "axis: must be 'samples' (the reference's axis=0) or 'features' (axis=1), got '", name, "'"));
}

/// The rule every tensor argument shares: an N×D floating-point matrix.
void expect_matrix(const torch::Tensor& t, const char* argument) {
  SPECTRAL_EXPECTS(t.dim() == 2, argument, ": must be a 2-D N×D tensor, got ", t.dim(),
                   " dimensions");
  SPECTRAL_EXPECTS(t.is_floating_point(), argument, ": must be floating point, got ",
                   t.scalar_type());
}

/// The op arguments as a bridge spec, checked as the library checks them. Status is never read
/// back per call on CUDA: spectral.check() does it.
[[nodiscard]] bridge::transform_spec make_spec(const std::string& method,
                                               const std::string& axis_name,
                                               double eps,
                                               std::int64_t groups,
                                               double power,
                                               std::int64_t iterations) {
  SPECTRAL_EXPECTS(iterations >= 0 && iterations <= std::numeric_limits<int>::max(),
                   "iterations: must be in [0, ", std::numeric_limits<int>::max(), "], got ",
                   iterations);
  bridge::transform_spec spec;
  spec.method.name = method;
  spec.method.power = power;
  spec.method.iterations = static_cast<int>(iterations);
  spec.opts.axis = parse_axis(axis_name);
  spec.opts.groups = groups;
  spec.opts.eps = eps;
  spec.cuda_sync_check = false;
  validate_method(spec.method, "method");  // named "method" here, as the Python argument
  spec.validate();
  return spec;
}

torch::Tensor transform_meta(const torch::Tensor& z,
                             const std::string& method,
                             const std::string& axis_name,
                             double eps,
                             std::int64_t groups,
                             double power,
                             std::int64_t iterations) {
  return translated([&] {
    (void)make_spec(method, axis_name, eps, groups, power, iterations);
    expect_matrix(z, "z");
    return torch::empty_like(z);
  });
}

/// Y = ST(Z) in Z's dtype: half and bfloat16 are computed in float32 (the bridge) and cast back.
/// Meta tensors (shape inference) reach this kernel first, through the Autograd key.
torch::Tensor transform(const torch::Tensor& z,
                        const std::string& method,
                        const std::string& axis_name,
                        double eps,
                        std::int64_t groups,
                        double power,
                        std::int64_t iterations) {
  if (z.is_meta()) {
    return transform_meta(z, method, axis_name, eps, groups, power, iterations);
  }
  return translated([&] {
    const auto spec = make_spec(method, axis_name, eps, groups, power, iterations);
    const torch::Tensor y = bridge::spectral_transform_op(z, spec);
    return y.scalar_type() == z.scalar_type() ? y : y.to(z.scalar_type());
  });
}

/// Checks transform's settings without data (modules refuse bad settings at construction).
void validate(const std::string& method,
              const std::string& axis_name,
              double eps,
              std::int64_t groups,
              double power,
              std::int64_t iterations) {
  translated([&] { (void)make_spec(method, axis_name, eps, groups, power, iterations); });
}

torch::Tensor trace_loss(const torch::Tensor& y, const std::string& axis_name) {
  return translated([&] {
    const axis a = parse_axis(axis_name);
    expect_matrix(y, "y");
    const std::int64_t observations = a == axis::samples ? y.size(1) : y.size(0);
    SPECTRAL_EXPECTS(y.numel() > 0, "y: must be non-empty, got ", y.size(0), "x", y.size(1));
    SPECTRAL_EXPECTS(observations >= 2, "y: the trace loss on the ", to_string(a),
                     " axis needs at least 2 observations per variance, got ", observations);
    return bridge::trace_loss(y, a);
  });
}

/// (total, alignment, trace): INTL's objective over views[0] (the anchor) and the others.
/// beta: the reference's 0.01·(log2 K − 3) when absent, K = N (samples axis) or D (features).
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> intl_loss(
    const std::vector<torch::Tensor>& views,
    const std::string& method,
    const std::string& axis_name,
    double eps,
    std::int64_t groups,
    double power,
    std::int64_t iterations,
    c10::optional<double> beta) {
  return translated([&] {
    const auto spec = make_spec(method, axis_name, eps, groups, power, iterations);
    SPECTRAL_EXPECTS(views.size() >= 2, "views: INTL needs at least 2 views, got ", views.size());
    for (std::size_t v = 0; v < views.size(); ++v) {
      SPECTRAL_EXPECTS(views[v].dim() == 2, "views[", v, "]: must be a 2-D N×D tensor, got ",
                       views[v].dim(), " dimensions");
      SPECTRAL_EXPECTS(views[v].sizes() == views[0].sizes(), "views[", v, "]: shape ",
                       views[v].sizes(), " differs from views[0]'s ", views[0].sizes());
      SPECTRAL_EXPECTS(views[v].scalar_type() == views[0].scalar_type() &&
                           views[v].device() == views[0].device(),
                       "views[", v, "]: ", views[v].scalar_type(), " on ", views[v].device(),
                       " differs from views[0]'s ", views[0].scalar_type(), " on ",
                       views[0].device());
    }
    double weight = 0.0;
    if (beta) {
      weight = *beta;
    } else {
      const std::int64_t k = spec.opts.axis == axis::samples ? views[0].size(0) : views[0].size(1);
      SPECTRAL_EXPECTS(k >= 8, "beta: the reference's 0.01*(log2 K - 3) is negative for K = ", k,
                       " (the ", to_string(spec.opts.axis),
                       " axis' covariance size); give beta or use K >= 8");
      weight = trade_off_beta(k);
    }
    bridge::IntlLoss loss(spec, weight);
    const auto terms = loss->forward(views);
    return std::make_tuple(terms.total, terms.alignment, terms.trace);
  });
}

/// (eigenvalues descending, effective rank, condition number) of one group's covariance,
/// computed in float64 on the CPU (a CUDA tensor is copied to the host).
std::tuple<torch::Tensor, double, double> spectrum(const torch::Tensor& z,
                                                   const std::string& axis_name,
                                                   double eps,
                                                   std::int64_t groups,
                                                   std::int64_t group) {
  return translated([&] {
    expect_matrix(z, "z");
    options opts;
    opts.axis = parse_axis(axis_name);
    opts.groups = groups;
    opts.eps = eps;
    const torch::Tensor host =
        z.detach()
            .to(torch::kCPU, torch::kFloat64, /*non_blocking=*/false, /*copy=*/false)
            .contiguous();
    const auto report = spectral::spectrum<double>(
        embedding_map(static_cast<const double*>(host.data_ptr<double>()), host.size(0),
                      host.size(1)),
        opts, group);
    torch::Tensor eigenvalues =
        torch::empty({static_cast<std::int64_t>(report.eigenvalues.size())}, torch::kFloat64);
    std::copy(report.eigenvalues.begin(), report.eigenvalues.end(), eigenvalues.data_ptr<double>());
    return std::make_tuple(eigenvalues, report.effective_rank, report.condition_number);
  });
}

/// Throws what the CUDA calls recorded since the last check (see cuda_bridge::check_pending);
/// nothing to do in a CPU build, whose calls raise at once.
void check() {
  translated([] {
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
    bridge::cuda_bridge::check_pending();
#endif
  });
}

std::string version() { return std::string(spectral::version_string); }

bool built_with_cuda() { return bridge::compat::built_with_cuda; }

/// Installs the backward translator when the library loads (see backward_error_translator).
const bool translator_installed = [] {
  bridge::backward_error_translator().store(&rethrow_translated);
  return true;
}();

}  // namespace

TORCH_LIBRARY(spectral, m) {
  m.def(
      "transform(Tensor z, str method, str axis, float eps, int groups, float power, "
      "int iterations) -> Tensor");
  m.def("validate(str method, str axis, float eps, int groups, float power, int iterations) -> ()",
        &validate);
  m.def("trace_loss(Tensor y, str axis) -> Tensor", &trace_loss);
  m.def(
      "intl_loss(Tensor[] views, str method, str axis, float eps, int groups, float power, "
      "int iterations, float? beta) -> (Tensor, Tensor, Tensor)",
      &intl_loss);
  m.def("spectrum(Tensor z, str axis, float eps, int groups, int group) -> (Tensor, float, float)",
        &spectrum);
  m.def("check() -> ()", &check);
  m.def("version() -> str", &version);
  m.def("built_with_cuda() -> bool", &built_with_cuda);
}

TORCH_LIBRARY_IMPL(spectral, Autograd, m) { m.impl("transform", &transform); }
TORCH_LIBRARY_IMPL(spectral, CPU, m) { m.impl("transform", &transform); }
TORCH_LIBRARY_IMPL(spectral, Meta, m) { m.impl("transform", &transform_meta); }
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
TORCH_LIBRARY_IMPL(spectral, CUDA, m) { m.impl("transform", &transform); }
#endif

}  // namespace spectral::python_ops
