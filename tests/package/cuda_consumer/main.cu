// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// Whitens a small embedding with IterNorm on the GPU. On a machine without a GPU the library
// must refuse with spectral::cuda_error (that refusal is what this program then checks).
#include <spectral/cuda.cuh>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

int main() {
  constexpr int n = 64;
  constexpr int d = 8;
  std::vector<float> host(n * d);
  for (int i = 0; i < n * d; ++i) {
    host[static_cast<std::size_t>(i)] =
        std::sin(0.37F * static_cast<float>(i)) * static_cast<float>(1 + i % d);
  }
  spectral::cuda::iter_norm_transform<float> transform;
  if (spectral::cuda::device_count() == 0) {
    try {
      (void)transform.forward({reinterpret_cast<const float*>(host.data()), n, d},
                              {host.data(), n, d});
    } catch (const spectral::cuda_error& e) {
      std::printf("no GPU, refused as documented: %s\n", e.what());
      return std::string(e.what()).find("no CUDA device") != std::string::npos ? 0 : 1;
    }
    std::printf("no GPU, but forward did not throw cuda_error\n");
    return 1;
  }
  float* d_z = nullptr;
  cudaMalloc(&d_z, host.size() * sizeof(float));
  cudaMemcpy(d_z, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice);
  const auto ctx = transform.forward({d_z, n, d}, {d_z, n, d});  // in place
  cudaMemcpy(host.data(), d_z, host.size() * sizeof(float), cudaMemcpyDeviceToHost);
  cudaFree(d_z);
  for (const float v : host) {
    if (!std::isfinite(v)) {
      return 1;
    }
  }
  std::printf("IterNorm on the GPU: y[0] = %g\n", static_cast<double>(host[0]));
  return 0;
}
