// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// A run's files: metrics.jsonl keeps a record whose evaluation was interrupted, one run per
// folder, and plots whose folder name is hostile inject nothing.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "train/report.hpp"

#include "common/temp_folder.hpp"
#include "train/run_lock.hpp"

#include <spectral/core/error.hpp>

#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace st = spectral::trainer;

using scratch_folder = spectral_test::temp_folder;

std::vector<nlohmann::json> read_lines(const fs::path& path) {
  std::vector<nlohmann::json> records;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    records.push_back(nlohmann::json::parse(line));
  }
  return records;
}

}  // namespace

TEST_CASE("metrics.jsonl keeps a pending record until its evaluation completes", "[report]") {
  scratch_folder folder;
  const fs::path path = folder.path / "metrics.jsonl";
  {
    st::metrics_log log(path);
    log.reset();
    log.write({{"epoch", 1}, {"loss", 2.5}, {"knn_top1", 40.0}});
    log.write({{"epoch", 2}, {"loss", 2.0}, {st::metrics_log::pending_key, "pending"}});
    // killed here, during epoch 2's evaluation
  }
  REQUIRE(read_lines(path).size() == 2);

  st::metrics_log resumed(path);
  resumed.resume(2);  // the checkpoint holds epoch 2
  CHECK(resumed.pending(1) == nullptr);
  const nlohmann::json* pending = resumed.pending(2);
  REQUIRE(pending != nullptr);
  CHECK((*pending)["loss"] == 2.0);
  nlohmann::json done = *pending;
  done.erase(st::metrics_log::pending_key);
  done["knn_top1"] = 55.0;
  resumed.write(done);
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1]["knn_top1"] == 55.0);
  CHECK_FALSE(lines[1].contains(st::metrics_log::pending_key));

  // A checkpoint of epoch 1: epoch 2 is trained again, its record dropped.
  st::metrics_log earlier(path);
  earlier.resume(1);
  CHECK(read_lines(path).size() == 1);

  std::ofstream(path, std::ios::app) << "{not json\n";
  st::metrics_log corrupt(path);
  CHECK_THROWS_AS(corrupt.resume(5), spectral::invalid_input);
}

TEST_CASE("a folder holds one run at a time", "[report]") {
  scratch_folder folder;
  const fs::path run = folder.path / "run";
  {
    const st::run_folder_lock first(run, "--out");
    try {
      const st::run_folder_lock second(run, "--out");
      FAIL("a second lock was granted");
    } catch (const spectral::invalid_input& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find("--out " + run.string() + ": another run is using this folder") == 0);
      CHECK(message.find(std::to_string(::getpid())) != std::string::npos);
    }
  }
  const st::run_folder_lock after(run, "--out");  // released with the first holder
  // A link planted at the lock's name is not followed.
  const fs::path other = folder.path / "other";
  fs::create_directories(other);
  fs::create_symlink(folder.path / "victim", other / ".lock");
  CHECK_THROWS_AS(st::run_folder_lock(other, "--out"), spectral::invalid_input);
  CHECK_FALSE(fs::exists(folder.path / "victim"));
}

TEST_CASE("plots in a folder with a hostile name draw and run nothing", "[report]") {
  scratch_folder folder;
  // Quotes, a command substitution, gnuplot's pipe and input-command prefixes, a newline.
  const fs::path out = folder.path / "x'$(touch INJECTED_SHELL)';system('touch INJECTED_GP')'\n|<y";
  fs::create_directories(out);
  const std::vector<nlohmann::json> records = {
      {{"epoch", 1}, {"loss", 3.0}, {"knn_top1", 20.0}, {"effective_rank", 5.0}},
      {{"epoch", 2},
       {"loss", 2.0},
       {"knn_top1", 30.0},
       {"linear_top1", 35.0},
       {"effective_rank", 7.0}}};
  const bool drawn = st::plot_metrics(out, records);
  for (const auto& entry : fs::recursive_directory_iterator(folder.path)) {
    const std::string name = entry.path().filename().string();
    CHECK(name != "INJECTED_SHELL");
    CHECK(name != "INJECTED_GP");
    CHECK(name.find(".partial") == std::string::npos);
    CHECK(name.rfind(".plots-", 0) != 0);  // the private staging folder is gone
  }
  CHECK_FALSE(fs::exists(fs::current_path() / "INJECTED_SHELL"));
  CHECK_FALSE(fs::exists(fs::current_path() / "INJECTED_GP"));
  std::ifstream script(out / "plots.gp");
  const std::string text{std::istreambuf_iterator<char>(script), {}};
  CHECK(text.find(out.string()) == std::string::npos);  // the folder never enters the script
  if (spectral::tools::run_program({"gnuplot", "--version"}).succeeded()) {
    CHECK(drawn);
    for (const char* png : {"loss.png", "accuracy.png", "spectrum.png"}) {
      CHECK(fs::file_size(out / png) > 1000);
    }
  } else {
    WARN("gnuplot is not installed: only the absence of injection was checked");
  }
}
