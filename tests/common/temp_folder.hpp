// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

// A fresh folder for one test, removed with everything in it at the end of the scope.

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace spectral_test {

struct temp_folder {
  std::filesystem::path path;

  temp_folder() {
    std::random_device entropy;
    std::string name("spectral_test_");  // (appends: GCC 12 warns falsely on literal + string)
    name += std::to_string(entropy());
    name += std::to_string(entropy());
    path = std::filesystem::temp_directory_path() / name;
    std::filesystem::create_directories(path);
  }
  ~temp_folder() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
};

}  // namespace spectral_test
