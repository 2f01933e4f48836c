// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// make_image_folder: writes an ImageFolder tree of real JPEG files (TurboJPEG) with ImageNet-like
// sizes and entropy, for the loader's throughput runs where ImageNet itself is not available:
//   <out>/train/class_XXX/img_YYYYY.JPEG
// Each image is a smooth random field (a few low-frequency waves per channel) plus Gaussian
// pixel noise, which gives file sizes near ImageNet's (~110 kB at 500x375, quality 90); the
// average size is printed so a reader can judge. Deterministic per --seed.
//
// Every numeric flag is range-checked before anything is created (exit 2, one line naming the
// flag). Each image is written to a new, exclusively created file (never through a link planted
// in the folder) and renamed into place. Errors end the program with one line and a non-zero
// status, never with an uncaught exception.

#include <spectral/io/staged_file.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <turbojpeg.h>

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
      channel.push_back(
          {unit(rng) * 0.05, unit(rng) * 0.05, unit(rng) * 6.283, 20.0 + 40.0 * unit(rng)});
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
        rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w) +
             static_cast<std::size_t>(x)) *
                3 +
            static_cast<std::size_t>(c)] = static_cast<unsigned char>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
  return rgb;
}

/// The most images one run writes (ImageNet's training set has 1.28 million).
constexpr std::int64_t max_total_images = 100'000'000;
/// The most writer threads.
constexpr int max_threads = 1024;

/// Writes image `i` into its class folder; false when it could not be encoded.
/// @throws spectral::invalid_input naming the file when it could not be written
bool write_image(const settings& s,
                 tjhandle handle,
                 std::int64_t i,
                 std::atomic<std::int64_t>& bytes) {
  int w = 0, h = 0;
  const auto rgb = synthesize(s, i, w, h);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (handle == nullptr || tjCompress2(handle, rgb.data(), w, 0, h, TJPF_RGB, &jpeg, &size,
                                       TJSAMP_420, s.quality, TJFLAG_FASTDCT) != 0) {
    tjFree(jpeg);  // TurboJPEG may have allocated the buffer before failing (null: no-op)
    return false;
  }
  char name[64];
  std::snprintf(name, sizeof name, "class_%03d/img_%07lld.JPEG", static_cast<int>(i % s.classes),
                static_cast<long long>(i));
  try {
    // A private, exclusively created sibling renamed into place: complete files only, and a
    // link planted at either name is never written through. Not flushed one by one (an fsync
    // per file would dominate the run): a crash loses recent files whole, never half of one.
    spectral::io::write_file_atomically(
        s.out / "train" / name,
        std::string_view(reinterpret_cast<const char*>(jpeg), static_cast<std::size_t>(size)),
        /*durable=*/false);
  } catch (...) {
    tjFree(jpeg);
    throw;
  }
  tjFree(jpeg);
  bytes += static_cast<std::int64_t>(size);
  return true;
}

int run(int argc, char** argv) {
  settings s;
  CLI::App app{"Write an ImageFolder tree of synthetic ImageNet-sized JPEG files"};
  app.add_option("--out", s.out, "root folder (train/<class>/*.JPEG is written)")->required();
  app.add_option("--classes", s.classes, "class folders")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--per-class", s.per_class, "images per class")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--width", s.width, "mean width")
      ->check(CLI::Range(16, 8192))
      ->capture_default_str();
  app.add_option("--height", s.height, "mean height")
      ->check(CLI::Range(16, 8192))
      ->capture_default_str();
  app.add_option("--quality", s.quality, "JPEG quality")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--noise", s.noise, "pixel noise sigma (entropy)")
      ->check(CLI::Range(0.0, 128.0))
      ->capture_default_str();
  app.add_option("--threads", s.threads, "writer threads (0: every core)")
      ->check(CLI::Range(0, max_threads))
      ->capture_default_str();
  // CLI11 turns "-1" into 2^64 - 1 and saturates 2^64 for an unsigned option: check it here.
  const CLI::Validator digits(
      [](std::string& text) {
        std::uint64_t value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        const bool ok = !text.empty() && error == std::errc() && end == text.data() + text.size();
        return ok ? std::string() : "Value " + text + " is not an integer in 0 to 2^64 - 1";
      },
      "UINT64");
  app.add_option("--seed", s.seed, "seed")->check(digits)->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "make_image_folder: error: %s\n", e.what());
    return 2;
  }
  // CLI::Range lets NaN through (every comparison with it is false).
  if (!std::isfinite(s.noise)) {
    std::fprintf(stderr,
                 "make_image_folder: error: --noise: expected a number in [0, 128], got %g\n",
                 s.noise);
    return 2;
  }
  const std::int64_t total = static_cast<std::int64_t>(s.classes) * s.per_class;
  if (total > max_total_images) {
    std::fprintf(stderr,
                 "make_image_folder: error: --classes %d x --per-class %d = %lld images, more than "
                 "the limit of %lld\n",
                 s.classes, s.per_class, static_cast<long long>(total),
                 static_cast<long long>(max_total_images));
    return 2;
  }
  const int threads =
      s.threads > 0 ? s.threads
                    : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1U, 64U));

  // The writers are started first and wait for the folders: when the system refuses a thread,
  // the run ends before anything is created.
  enum class gate { closed, open, cancelled };
  gate state = gate::closed;
  std::mutex mutex;
  std::condition_variable opened;
  std::atomic<std::int64_t> next{0}, bytes{0}, written{0};
  std::string first_error;
  const auto note = [&](const char* what) {
    std::lock_guard<std::mutex> lock(mutex);
    if (first_error.empty()) {
      first_error = what;
    }
  };
  // An exception leaving a thread would terminate the program: each image's is caught, noted
  // and counted (the images not written are counted at the end).
  const auto writer = [&] {
    try {
      {
        std::unique_lock<std::mutex> lock(mutex);
        opened.wait(lock, [&] { return state != gate::closed; });
        if (state == gate::cancelled) {
          return;
        }
      }
      tjhandle handle = tjInitCompress();
      for (std::int64_t i = next++; i < total; i = next++) {
        try {
          if (write_image(s, handle, i, bytes)) {
            ++written;
          }
        } catch (const std::exception& e) {  // a write error, std::bad_alloc: keep going
          note(e.what());
        }
      }
      if (handle != nullptr) {
        tjDestroy(handle);
      }
    } catch (const std::exception& e) {
      note(e.what());
    }
  };
  std::vector<std::thread> pool;
  const auto release = [&](gate to) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      state = to;
    }
    opened.notify_all();
    for (auto& t : pool) {
      t.join();
    }
  };
  try {
    pool.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back(writer);
    }
  } catch (const std::exception& e) {  // std::system_error: no more threads; std::bad_alloc
    release(gate::cancelled);
    std::fprintf(stderr,
                 "make_image_folder: error: --threads %d: could start only %zu threads (%s)\n",
                 threads, pool.size(), e.what());
    return 1;
  }
  try {
    namespace fs = std::filesystem;
    // A folder of this run that is a link could send the images anywhere.
    const auto make_folder = [](const fs::path& folder) {
      fs::create_directories(folder);
      if (fs::symlink_status(folder).type() != fs::file_type::directory) {
        throw std::runtime_error(folder.string() + " is a link, not a folder");
      }
    };
    make_folder(s.out / "train");
    for (int c = 0; c < s.classes; ++c) {
      char name[32];
      std::snprintf(name, sizeof name, "class_%03d", c);
      make_folder(s.out / "train" / name);
    }
  } catch (const std::exception& e) {
    release(gate::cancelled);
    std::fprintf(stderr, "make_image_folder: error: --out %s: %s\n", s.out.string().c_str(),
                 e.what());
    return 2;
  }
  release(gate::open);
  if (written < total) {
    std::fprintf(stderr, "make_image_folder: error: %lld of %lld images could not be written%s%s\n",
                 static_cast<long long>(total - written.load()), static_cast<long long>(total),
                 first_error.empty() ? "" : ": ", first_error.c_str());
    return 2;
  }
  std::printf("make_image_folder: %lld JPEG files in %s/train (%d classes), mean %.1f kB\n",
              static_cast<long long>(total), s.out.string().c_str(), s.classes,
              static_cast<double>(bytes.load()) / static_cast<double>(total) / 1000.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing may end the program through std::terminate: every failure is one line.
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "make_image_folder: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_image_folder: error: %s\n", e.what());
  }
  return 1;
}
