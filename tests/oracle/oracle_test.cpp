// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Cross-check against PyTorch autograd of the reference formulas (tests/oracle/torch_reference.py,
// run with SPECTRAL_TEST_PYTHON): every method × axis × groups, the losses and the INTL objective.
// One python launch per case (each pays the interpreter's and torch's start-up). Skipped, never
// passed, when python3 or torch is missing.

#include <spectral/spectral.hpp>

#include <common/npy_write.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace npy = spectral_test::npy;
using Catch::Matchers::WithinRel;
using spectral::axis;
using rmat = spectral::row_matrix<double>;

constexpr double oracle_tolerance = 1e-8;

rmat gaussian(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  rmat m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    m.data()[i] = normal(gen);
  }
  return m;
}

rmat anisotropic(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  const Eigen::VectorXd scale = Eigen::VectorXd::LinSpaced(rows, 1.0, 3.0);
  const Eigen::MatrixXd left = scale.asDiagonal() * (Eigen::MatrixXd::Identity(rows, rows) +
                                                     0.3 / std::sqrt(static_cast<double>(rows)) *
                                                         gaussian(rows, rows, seed + 1));
  const Eigen::VectorXd col_scale = Eigen::VectorXd::LinSpaced(cols, 0.5, 2.0);
  const Eigen::MatrixXd right =
      (Eigen::MatrixXd::Identity(cols, cols) +
       0.3 / std::sqrt(static_cast<double>(cols)) * gaussian(cols, cols, seed + 2)) *
      col_scale.asDiagonal();
  return left * gaussian(rows, cols, seed) * right;
}

double rel_error(const rmat& a, const rmat& b) { return (a - b).norm() / b.norm(); }

/// "<prefix><v>.npy", built by appending (GCC 12 warns falsely on "z" + std::string&&).
std::string indexed_file(char prefix, std::size_t v) {
  std::string name(1, prefix);
  name += std::to_string(v);
  name += ".npy";
  return name;
}

/// A fresh case directory under the system temp folder, removed on scope exit.
class case_dir {
 public:
  case_dir() {
    std::random_device device;
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("spectral_oracle_" + std::to_string(device()) + "_" + std::to_string(ticks));
    fs::create_directories(path_);
  }
  case_dir(const case_dir&) = delete;
  case_dir& operator=(const case_dir&) = delete;
  ~case_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

  void write_json(const std::string& json) const { std::ofstream(path_ / "case.json") << json; }
  void write(const std::string& name, const rmat& m) const { npy::write(path_ / name, m); }
  [[nodiscard]] rmat read(const std::string& name) const { return npy::read(path_ / name); }

  /// Runs the oracle on this directory; SKIPs when python3 or torch is missing, FAILs with the
  /// oracle's stderr on any other error.
  void run() const {
    const fs::path errors = path_ / "stderr.txt";
    const std::string command = std::string("'") + SPECTRAL_TEST_PYTHON + "' '" +
                                SPECTRAL_TEST_ORACLE_SCRIPT + "' '" + path_.string() + "' 2> '" +
                                errors.string() + "'";
    if (std::system(command.c_str()) == 0) {
      return;
    }
    const std::string probe =
        std::string("'") + SPECTRAL_TEST_PYTHON + "' -c 'import torch, numpy' > /dev/null 2>&1";
    if (!fs::exists(SPECTRAL_TEST_PYTHON) || std::system(probe.c_str()) != 0) {
      SKIP("PyTorch oracle unavailable: " SPECTRAL_TEST_PYTHON
           " cannot import torch and numpy (install python3-torch and python3-numpy)");
    }
    std::ifstream in(errors);
    std::stringstream text;
    text << in.rdbuf();
    FAIL("torch_reference.py failed on " << path_ << ": " << text.str());
  }

 private:
  fs::path path_;
};

std::string json_axis(axis a) { return a == axis::samples ? "\"samples\"" : "\"features\""; }

/// (N, D) with M > K per group on either axis.
std::pair<Eigen::Index, Eigen::Index> shape_for(axis a) {
  return a == axis::features ? std::pair<Eigen::Index, Eigen::Index>{12, 6}
                             : std::pair<Eigen::Index, Eigen::Index>{6, 24};
}

/// Forward and backward of st against the oracle's y and gz for the same z and gy.
template <class Transform>
void check_transform(const Transform& st, const std::string& method_json, std::uint64_t seed) {
  const spectral::options& opts = st.opts();
  const auto [rows, cols] = shape_for(opts.axis);
  CAPTURE(std::string(st.method().name()), to_string(opts.axis), opts.groups, rows, cols, seed);
  const rmat z = anisotropic(rows, cols, seed);
  const rmat gy = gaussian(rows, cols, seed + 7);
  const auto r = st.forward(z);
  const rmat gz = st.backward(r.context, gy);

  const case_dir dir;
  dir.write_json("{\"op\": \"transform\", " + method_json + ", \"axis\": " + json_axis(opts.axis) +
                 ", \"groups\": " + std::to_string(opts.groups) + ", \"eps\": 0}");
  dir.write("z.npy", z);
  dir.write("gy.npy", gy);
  dir.run();
  const rmat y_torch = dir.read("y.npy");
  const rmat gz_torch = dir.read("gz.npy");
  REQUIRE(y_torch.rows() == rows);
  REQUIRE(y_torch.cols() == cols);
  REQUIRE(gz_torch.rows() == rows);
  REQUIRE(gz_torch.cols() == cols);
  REQUIRE(y_torch.norm() > 1.0);
  REQUIRE(gz_torch.norm() > 1e-3);
  CHECK(rel_error(r.output, y_torch) <= oracle_tolerance);
  CHECK(rel_error(gz, gz_torch) <= oracle_tolerance);
}

}  // namespace

TEST_CASE("oracle: zca forward and backward equal torch autograd", "[oracle][zca]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const spectral::index_t groups = GENERATE(1, 2);
  check_transform(spectral::zca_transform<double>{{}, {.axis = a, .groups = groups}},
                  "\"method\": \"zca\"", 1000 + static_cast<std::uint64_t>(groups));
}

TEST_CASE("oracle: pca forward and backward equal torch autograd", "[oracle][pca]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const spectral::index_t groups = GENERATE(1, 2);
  check_transform(spectral::pca_transform<double>{{}, {.axis = a, .groups = groups}},
                  "\"method\": \"pca\"", 2000 + static_cast<std::uint64_t>(groups));
}

TEST_CASE("oracle: cholesky forward and backward equal torch autograd", "[oracle][cholesky]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const spectral::index_t groups = GENERATE(1, 2);
  check_transform(spectral::cholesky_transform<double>{{}, {.axis = a, .groups = groups}},
                  "\"method\": \"cholesky\"", 3000 + static_cast<std::uint64_t>(groups));
}

TEST_CASE("oracle: power forward and backward equal torch autograd", "[oracle][power]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const spectral::index_t groups = GENERATE(1, 2);
  const double p = groups == 1 ? 0.75 : 0.25;  // both sides of 1/2 without doubling the launches
  CAPTURE(p);
  check_transform(
      spectral::power_transform<double>{spectral::power_function{p}, {.axis = a, .groups = groups}},
      "\"method\": \"power\", \"power\": " + std::to_string(p),
      4000 + static_cast<std::uint64_t>(groups));
}

TEST_CASE("oracle: iter_norm forward and backward equal torch autograd", "[oracle][iter_norm]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const spectral::index_t groups = GENERATE(1, 2);
  const int t = groups == 1 ? 4 : 6;
  const auto solver =
      GENERATE(spectral::iter_norm_solver::newton, spectral::iter_norm_solver::eigen);
  CAPTURE(t, spectral::to_string(solver));
  check_transform(spectral::iter_norm_transform<double>{spectral::iter_norm{t, solver},
                                                        {.axis = a, .groups = groups}},
                  "\"method\": \"iternorm\", \"iters\": " + std::to_string(t),
                  5000 + static_cast<std::uint64_t>(groups));
}

TEST_CASE("oracle: trace loss and nMSE equal torch autograd", "[oracle][losses]") {
  SECTION("trace loss") {
    const axis a = GENERATE(axis::samples, axis::features);
    CAPTURE(to_string(a));
    const rmat y = 1.5 * anisotropic(7, 9, 6000);
    rmat grad(7, 9);
    spectral::embedding_ref<double> grad_ref(grad);
    const double value = spectral::trace_loss<double>(y, a, &grad_ref);
    const case_dir dir;
    dir.write_json("{\"op\": \"trace_loss\", \"axis\": " + json_axis(a) + "}");
    dir.write("y.npy", y);
    dir.run();
    const rmat loss = dir.read("loss.npy");
    REQUIRE(loss.size() == 1);
    REQUIRE(loss(0, 0) > 1.0);
    CHECK_THAT(value, WithinRel(loss(0, 0), oracle_tolerance));
    CHECK(rel_error(grad, dir.read("gy.npy")) <= oracle_tolerance);
  }
  SECTION("nMSE") {
    const rmat a = anisotropic(8, 5, 6100);
    const rmat b = a + 0.8 * gaussian(8, 5, 6101);
    rmat ga(8, 5);
    rmat gb(8, 5);
    spectral::embedding_ref<double> ga_ref(ga);
    spectral::embedding_ref<double> gb_ref(gb);
    const double value = spectral::normalized_mse<double>(a, b, &ga_ref, &gb_ref);
    const case_dir dir;
    dir.write_json("{\"op\": \"nmse\"}");
    dir.write("a.npy", a);
    dir.write("b.npy", b);
    dir.run();
    const rmat loss = dir.read("loss.npy");
    REQUIRE(loss.size() == 1);
    REQUIRE(loss(0, 0) > 0.05);
    CHECK_THAT(value, WithinRel(loss(0, 0), oracle_tolerance));
    CHECK(rel_error(ga, dir.read("ga.npy")) <= oracle_tolerance);
    CHECK(rel_error(gb, dir.read("gb.npy")) <= oracle_tolerance);
  }
}

TEST_CASE("oracle: INTL objective equals torch autograd", "[oracle][intl_objective]") {
  const axis a = GENERATE(axis::samples, axis::features);
  const std::size_t count = GENERATE(2u, 3u);
  const auto [rows, cols] = shape_for(a);
  const double beta = 0.3;
  CAPTURE(to_string(a), count, rows, cols, beta);
  const rmat base = anisotropic(rows, cols, 7000);
  std::vector<rmat> views;
  for (std::size_t v = 0; v < count; ++v) {
    views.push_back(base + 0.5 * gaussian(rows, cols, 7100 + v));
  }
  const spectral::intl_objective<double> loss{
      spectral::iter_norm_transform<double>{spectral::iter_norm{4}, {.axis = a}}, beta};
  std::vector<rmat> grads;
  const double value = loss.evaluate(views, &grads).total;

  const case_dir dir;
  dir.write_json(
      "{\"op\": \"intl\", \"method\": \"iternorm\", \"iters\": 4, \"axis\": " + json_axis(a) +
      ", \"groups\": 1, \"eps\": 0, \"beta\": 0.3, \"views\": " + std::to_string(count) + "}");
  for (std::size_t v = 0; v < count; ++v) {
    dir.write(indexed_file('z', v), views[v]);
  }
  dir.run();
  const rmat torch_loss = dir.read("loss.npy");
  REQUIRE(torch_loss.size() == 1);
  REQUIRE(torch_loss(0, 0) > 0.1);
  CHECK_THAT(value, WithinRel(torch_loss(0, 0), oracle_tolerance));
  for (std::size_t v = 0; v < count; ++v) {
    CAPTURE(v);
    const rmat expected = dir.read(indexed_file('g', v));
    REQUIRE(expected.norm() > 1e-3);
    CHECK(rel_error(grads[v], expected) <= oracle_tolerance);
  }
}
