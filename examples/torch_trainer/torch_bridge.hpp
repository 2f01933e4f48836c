// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The trainer's view of the shared LibTorch bridge (torch_bridge/: the autograd Function over
/// the library, INTL's objective as a module, the LibTorch version header), which the Python
/// package spectral_torch wraps too. Its names are used unqualified throughout the trainer.

#include "bridge/compat.hpp"
#include "bridge/intl_loss.hpp"
#include "bridge/reference_transform.hpp"
#include "bridge/spectral_function.hpp"
#include "bridge/transform_spec.hpp"

namespace spectral::trainer {

namespace compat = ::spectral::torch_bridge::compat;
using torch_bridge::intl_terms;
using torch_bridge::IntlLoss;
using torch_bridge::IntlLossImpl;
using torch_bridge::normalized_mse;
using torch_bridge::reference_transform;
using torch_bridge::spectral_function;
using torch_bridge::spectral_transform_op;
using torch_bridge::trace_loss;
using torch_bridge::transform_engine;
using torch_bridge::transform_spec;

}  // namespace spectral::trainer
