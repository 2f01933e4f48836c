// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// INTL-M momentum encoder (docs/math.md#intl-m): the cosine momentum schedule, the EMA update of
/// the parameters, and making the frozen momentum copy.

#include <spectral/core/error.hpp>

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>

namespace spectral::trainer {

/**
 * @brief Momentum at optimisation step t: m_t = 1 − (1 − m0)(1 + cos(π t / T)) / 2.
 *
 * m0 at t = 0, (1 + m0)/2 at t = T/2, exactly 1 at t = T.
 *
 * @param m0 Initial momentum in [0, 1] (0.996 in the ImageNet recipe).
 * @param step t in [0, total_steps].
 * @param total_steps T = epochs × steps per epoch, at least 1.
 * @throws spectral::invalid_input when an argument is outside its range.
 */
[[nodiscard]] double ema_momentum(double m0, std::int64_t step, std::int64_t total_steps);

/**
 * @brief ξ ← m ξ + (1 − m) θ for every parameter ξ of teacher and θ of student (same names).
 *
 * Buffers (BN running statistics) are not touched: the momentum copy's statistics evolve
 * through its own forwards. Runs under NoGradGuard.
 *
 * @param teacher The momentum copy ξ, updated in place.
 * @param student The online encoder θ.
 * @param m Momentum in [0, 1].
 * @throws spectral::invalid_input when m is outside [0, 1] or the parameter names or shapes of
 * the two modules differ.
 * @note Computed as ξ.lerp_(θ, 1 − m) = ξ + (1 − m)(θ − ξ), which equals m ξ + (1 − m) θ up to
 * rounding and leaves ξ bit-identical when ξ = θ or m = 1.
 */
void ema_update(torch::nn::Module& teacher, const torch::nn::Module& student, double m);

/**
 * @brief Copies every parameter and buffer of student into teacher's (same names and shapes).
 *
 * For modules that do not implement clone(): build a second one with the same options, then
 * copy_state(second, first).
 *
 * @throws spectral::invalid_input when the names or shapes differ.
 */
void copy_state(torch::nn::Module& teacher, const torch::nn::Module& student);

/**
 * @brief Deep copy of a module holder (TORCH_MODULE of a Cloneable impl) with requires_grad
 * false on every parameter: the INTL-M momentum copy at initialisation.
 *
 * The copy keeps the device, the dtype and the training mode of the original.
 *
 * @tparam M A module holder such as Encoder or ResNet.
 */
template <class M>
[[nodiscard]] M clone_frozen(const M& module);

// --- implementation

namespace detail {

/// Pairs the named tensors of two modules, checking that names and shapes agree.
template <class Dict, class Fn>
void for_each_matching(const char* what, Dict&& teacher, const Dict& student, Fn&& fn) {
  SPECTRAL_EXPECTS(teacher.size() == student.size(), "teacher has ", teacher.size(), " ", what,
                   " but student has ", student.size());
  for (std::size_t i = 0; i < teacher.size(); ++i) {
    auto& t = teacher[i];
    const auto& s = student[i];
    SPECTRAL_EXPECTS(t.key() == s.key(), what, " ", i, ": teacher has '", t.key(),
                     "' but student has '", s.key(), "'");
    SPECTRAL_EXPECTS(t.value().sizes() == s.value().sizes(), what, " '", t.key(),
                     "': teacher shape ", t.value().sizes(), " but student shape ",
                     s.value().sizes());
    fn(t.value(), s.value());
  }
}

}  // namespace detail

inline double ema_momentum(double m0, std::int64_t step, std::int64_t total_steps) {
  SPECTRAL_EXPECTS(m0 >= 0.0 && m0 <= 1.0, "m0: ", m0, " is not in [0, 1]");
  SPECTRAL_EXPECTS(total_steps >= 1, "total_steps: ", total_steps, " must be at least 1");
  SPECTRAL_EXPECTS(step >= 0 && step <= total_steps, "step: ", step, " is not in [0, ", total_steps,
                   "]");
  const double t = static_cast<double>(step) / static_cast<double>(total_steps);
  return 1.0 - (1.0 - m0) * (1.0 + std::cos(std::numbers::pi * t)) / 2.0;
}

inline void ema_update(torch::nn::Module& teacher, const torch::nn::Module& student, double m) {
  SPECTRAL_EXPECTS(m >= 0.0 && m <= 1.0, "m: ", m, " is not in [0, 1]");
  torch::NoGradGuard no_grad;
  const double weight = 1.0 - m;
  detail::for_each_matching(
      "parameters", teacher.named_parameters(), student.named_parameters(),
      [weight](torch::Tensor& xi, const torch::Tensor& theta) { xi.lerp_(theta, weight); });
}

inline void copy_state(torch::nn::Module& teacher, const torch::nn::Module& student) {
  torch::NoGradGuard no_grad;
  const auto copy = [](torch::Tensor& to, const torch::Tensor& from) { to.copy_(from); };
  detail::for_each_matching("parameters", teacher.named_parameters(), student.named_parameters(),
                            copy);
  detail::for_each_matching("buffers", teacher.named_buffers(), student.named_buffers(), copy);
}

template <class M>
M clone_frozen(const M& module) {
  using impl = typename M::ContainedType;
  auto copy = std::dynamic_pointer_cast<impl>(module->clone());
  // clone() of a Cloneable<impl> returns an impl; a null here means impl overrides it oddly.
  SPECTRAL_EXPECTS(copy != nullptr, "module: clone() did not return a ", module->name());
  for (auto& parameter : copy->parameters()) {
    parameter.requires_grad_(false);
  }
  return M(std::move(copy));
}

}  // namespace spectral::trainer
