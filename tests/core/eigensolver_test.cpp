// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// The CPU backend's symmetric eigensolver (LAPACK syevd in a BLAS build, Eigen otherwise) at a
// size where a float workspace query no longer returns an exact integer, and its refusal of a
// matrix whose workspace cannot be addressed.

#include <spectral/spectral.hpp>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_exception.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

namespace {

using spectral::matrix;

/// A seeded symmetric K×K float matrix (G + Gᵀ)/2 with Gaussian G: a Wigner matrix, whose
/// eigenvalues are distinct and spread over about [−√(2K), √(2K)].
matrix<float> wigner(Eigen::Index k, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal;
  matrix<float> g(k, k);
  for (Eigen::Index i = 0; i < g.size(); ++i) {
    g.data()[i] = normal(gen);
  }
  matrix<float> a = g + g.transpose();
  a *= 0.5F;
  return a;
}

}  // namespace

// 1 + 6K + 2K² passes 2²⁴ from K ≈ 2900, and float cannot hold that odd count exactly: a
// workspace taken from the float query is one element short and syevd refuses it.
TEST_CASE("eigh on a 3000x3000 float matrix: the workspace is sized exactly",
          "[core][cpu][eigensolver]") {
  constexpr Eigen::Index k = 3000;
  const matrix<float> a = wigner(k, 3000);
  matrix<float> vectors = a;
  spectral::vector<float> values(k);
  spectral::status_word status{};
  spectral::cpu::backend{}.eigh<float>(spectral::dense_batch(vectors.data(), k, k, 1),
                                       spectral::dense_batch(values.data(), k, 1, 1), &status);
  REQUIRE(status.flags == 0U);

  // A U = U Λ and Uᵀ U = I, probed with a few random vectors (O(K²) instead of O(K³)).
  const Eigen::MatrixXd u = vectors.cast<double>();
  const Eigen::VectorXd lambda = values.cast<double>();
  std::mt19937_64 gen(17);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd probes(k, 4);
  for (Eigen::Index i = 0; i < probes.size(); ++i) {
    probes.data()[i] = normal(gen);
  }
  const Eigen::MatrixXd rotated = u * probes;
  const Eigen::MatrixXd left = a.cast<double>() * rotated;
  const Eigen::MatrixXd right = u * (lambda.asDiagonal() * probes);
  const double spread = lambda.cwiseAbs().maxCoeff();
  CHECK((left - right).norm() / (spread * probes.norm()) < 1e-4);
  CHECK((u.transpose() * rotated - probes).norm() / probes.norm() < 1e-4);

  // Ascending, and the spectrum's first two moments are A's trace and squared Frobenius norm.
  CHECK(std::is_sorted(lambda.data(), lambda.data() + k));
  const Eigen::MatrixXd ad = a.cast<double>();
  CHECK(std::abs(lambda.sum() - ad.trace()) < 1e-4 * spread * static_cast<double>(k));
  CHECK(std::abs(lambda.squaredNorm() - ad.squaredNorm()) < 1e-4 * ad.squaredNorm());
}

#if defined(SPECTRAL_USE_LAPACKE)
TEST_CASE("eigh refuses a size whose LAPACK workspace overflows lapack_int",
          "[core][cpu][eigensolver]") {
  using Catch::Matchers::ContainsSubstring;
  using Catch::Matchers::MessageMatches;
  if (sizeof(lapack_int) > 4) {
    SKIP("a 64-bit lapack_int addresses any workspace a matrix in memory needs");
  }
  // 2·40000² > 2³¹: refused before the pointers (here null) are touched.
  CHECK_THROWS_MATCHES(
      spectral::cpu::detail::syevd_workspace<float>(40000, nullptr, nullptr),
      spectral::invalid_input,
      MessageMatches(ContainsSubstring("40000x40000") && ContainsSubstring("lapack_int")));
}
#endif
