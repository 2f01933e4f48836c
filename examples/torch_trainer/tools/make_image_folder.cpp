// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// make_image_folder: writes an ImageFolder tree of real JPEG files (TurboJPEG) with ImageNet-like
// sizes and entropy, for the loader's throughput runs where ImageNet itself is not available:
//   <out>/train/class_XXX/img_YYYYY.JPEG
// Each image is a smooth random field (a few low-frequency waves per channel) plus Gaussian
// pixel noise, which gives file sizes near ImageNet's (~110 kB at 500x375, quality 90); the
// average size is printed so a reader can judge. Deterministic per --seed.

#include <CLI/CLI.hpp>
#include <turbojpeg.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct settings {
  std::filesystem::path out;
  int classes = 10;
  int per_class = 256;
  int width = 500;
  int height = 375;
  int quality = 90;
  double noise = 14.0;
  int threads = 0;
  std::uint64_t seed = 0;
};

/// RGB pixels of image `index`: sizes vary ±25 % around width×height.
std::vector<unsigned char> synthesize(const settings& s, std::int64_t index, int& w, int& h) {
  std::mt19937_64 rng(s.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(index));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  w = std::max(16, static_cast<int>(s.width * (0.75 + 0.5 * unit(rng))));
  h = std::max(16, static_cast<int>(s.height * (0.75 + 0.5 * unit(rng))));
  struct wave {
    double fx, fy, phase, amplitude;
  };
  std::vector<wave> waves[3];
  for (auto& channel : waves) {
    for (int k = 0; k < 4; ++k) {
      channel.push_back({unit(rng) * 0.05, unit(rng) * 0.05, unit(rng) * 6.283, 20.0 + 40.0 * unit(rng)});
    }
  }
  // sin(a + b) = sin a cos b + cos a sin b: per-column and per-row tables, no sin per pixel.
  struct table {
    std::vector<double> sin_x, cos_x, sin_y, cos_y;
  };
  std::vector<table> tables;
  for (const auto& channel : waves) {
    for (const wave& wv : channel) {
      table t;
      for (int x = 0; x < w; ++x) {
        t.sin_x.push_back(std::sin(wv.fx * x + wv.phase));
        t.cos_x.push_back(std::cos(wv.fx * x + wv.phase));
      }
      for (int y = 0; y < h; ++y) {
        t.sin_y.push_back(wv.amplitude * std::sin(wv.fy * y));
        t.cos_y.push_back(wv.amplitude * std::cos(wv.fy * y));
      }
      tables.push_back(std::move(t));
    }
  }
  std::normal_distribution<double> noise(0.0, s.noise);
  std::vector<unsigned char> rgb(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        double v = 128.0;
        for (std::size_t k = 0; k < waves[c].size(); ++k) {
          const table& t = tables[static_cast<std::size_t>(c) * waves[c].size() + k];
          const auto xi = static_cast<std::size_t>(x);
          const auto yi = static_cast<std::size_t>(y);
          v += t.sin_x[xi] * t.cos_y[yi] + t.cos_x[xi] * t.sin_y[yi];
        }
        v += noise(rng);
        rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)) * 3 +
            static_cast<std::size_t>(c)] = static_cast<unsigned char>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
  return rgb;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  CLI::App app{"Write an ImageFolder tree of synthetic ImageNet-sized JPEG files"};
  app.add_option("--out", s.out, "root folder (train/<class>/*.JPEG is written)")->required();
  app.add_option("--classes", s.classes, "class folders")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--per-class", s.per_class, "images per class")->check(CLI::Range(1, 10000000))->capture_default_str();
  app.add_option("--width", s.width, "mean width")->check(CLI::Range(16, 8192))->capture_default_str();
  app.add_option("--height", s.height, "mean height")->check(CLI::Range(16, 8192))->capture_default_str();
  app.add_option("--quality", s.quality, "JPEG quality")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--noise", s.noise, "pixel noise sigma (entropy)")->check(CLI::Range(0.0, 128.0))->capture_default_str();
  app.add_option("--threads", s.threads, "writer threads (0: every core)")->capture_default_str();
  app.add_option("--seed", s.seed, "seed")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "make_image_folder: error: %s\n", e.what());
    return 2;
  }
  const std::int64_t total = static_cast<std::int64_t>(s.classes) * s.per_class;
  try {
    for (int c = 0; c < s.classes; ++c) {
      char name[32];
      std::snprintf(name, sizeof name, "class_%03d", c);
      std::filesystem::create_directories(s.out / "train" / name);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_image_folder: error: --out %s: %s\n", s.out.string().c_str(), e.what());
    return 2;
  }
  const int threads = s.threads > 0 ? s.threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  std::atomic<std::int64_t> next{0}, bytes{0}, failed{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      tjhandle handle = tjInitCompress();
      for (std::int64_t i = next++; i < total; i = next++) {
        int w = 0, h = 0;
        const auto rgb = synthesize(s, i, w, h);
        unsigned char* jpeg = nullptr;
        unsigned long size = 0;
        if (handle == nullptr ||
            tjCompress2(handle, rgb.data(), w, 0, h, TJPF_RGB, &jpeg, &size, TJSAMP_420,
                        s.quality, TJFLAG_FASTDCT) != 0) {
          tjFree(jpeg);  // TurboJPEG may have allocated the buffer before failing (null: no-op)
          ++failed;
          continue;
        }
        char name[64];
        std::snprintf(name, sizeof name, "class_%03d/img_%07lld.JPEG", static_cast<int>(i % s.classes),
                      static_cast<long long>(i));
        const auto path = s.out / "train" / name;
        const auto temporary = path.string() + ".tmp";
        bool written = false;
        {
          std::ofstream file(temporary, std::ios::binary);
          file.write(reinterpret_cast<const char*>(jpeg), static_cast<std::streamsize>(size));
          file.close();
          written = static_cast<bool>(file);
        }
        tjFree(jpeg);
        std::error_code ec;
        if (written) {
          std::filesystem::rename(temporary, path, ec);  // complete files only
        }
        if (!written || ec) {
          std::filesystem::remove(temporary, ec);
          ++failed;
          continue;
        }
        bytes += static_cast<std::int64_t>(size);
      }
      if (handle != nullptr) {
        tjDestroy(handle);
      }
    });
  }
  for (auto& t : pool) {
    t.join();
  }
  if (failed > 0) {
    std::fprintf(stderr, "make_image_folder: error: %lld of %lld images could not be written\n",
                 static_cast<long long>(failed.load()), static_cast<long long>(total));
    return 2;
  }
  std::printf("make_image_folder: %lld JPEG files in %s/train (%d classes), mean %.1f kB\n",
              static_cast<long long>(total), s.out.string().c_str(), s.classes,
              static_cast<double>(bytes.load()) / static_cast<double>(total) / 1000.0);
  return 0;
}
