// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// The message of the spectral::invalid_input a call throws, for checks on what it names.

#include <spectral/core/error.hpp>

#include <catch2/catch_test_macros.hpp>

#include <functional>
#include <string>

namespace spectral_test {

/// The message of the spectral::invalid_input that `call` throws (fails the test otherwise).
inline std::string invalid_input_message(const std::function<void()>& call) {
  try {
    call();
  } catch (const spectral::invalid_input& error) {
    return error.what();
  }
  FAIL("no spectral::invalid_input was thrown");
  return {};
}

}  // namespace spectral_test
