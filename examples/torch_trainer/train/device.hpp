// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The few device-specific calls of the training loop: where tensors go, mixed precision with
/// loss scaling, channels_last, synchronisation and peak memory. CPU builds compile the CUDA
/// parts away and refuse --device cuda with a clear message.

#include "torch_bridge.hpp"

#include <spectral/spectral.hpp>

#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
#include <ATen/Context.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace spectral::trainer {

/// Parses --device: "cpu", "cuda" or "cuda:N".
/// @throws invalid_input for anything else, for cuda in a CPU build, or when no GPU is visible
[[nodiscard]] inline torch::Device parse_device(const std::string& name) {
  SPECTRAL_EXPECTS(name == "cpu" || name.rfind("cuda", 0) == 0, "--device: cpu or cuda[:N], got '",
                   name, "'");
  if (name == "cpu") {
    return torch::kCPU;
  }
  SPECTRAL_EXPECTS(compat::built_with_cuda, "--device ", name,
                   ": this trainer was built against a LibTorch without CUDA (the CUDA bridge is "
                   "not built); use --device cpu");
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
  SPECTRAL_EXPECTS(torch::cuda::is_available(), "--device ", name,
                   ": no CUDA device is visible to this process");
  // Convolutions pick their fastest algorithm once per shape, as the reference sets
  // cudnn.benchmark.
  at::globalContext().setBenchmarkCuDNN(true);
#endif
  return torch::Device(name);
}

/**
 * @brief This process's device: --device as given, except that a bare "cuda" in a job of several
 *        processes means one GPU per process: cuda:LOCAL_RANK (set by torchrun-style launchers)
 *        or else cuda:(rank mod the visible GPUs).
 * @throws invalid_input as parse_device, or for a GPU index that is not visible
 */
[[nodiscard]] inline torch::Device process_device(const std::string& name,
                                                  int rank,
                                                  int world_size) {
  torch::Device device = parse_device(name);
  if (!device.is_cuda()) {
    return device;
  }
  const auto visible = static_cast<std::int64_t>(torch::cuda::device_count());
  if (name == "cuda" && world_size > 1) {
    std::int64_t index = rank % std::max<std::int64_t>(visible, 1);
    if (const char* local = std::getenv("LOCAL_RANK"); local != nullptr && *local != '\0') {
      const std::string text(local);
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
      SPECTRAL_EXPECTS(error == std::errc{} && end == text.data() + text.size() && index >= 0,
                       "LOCAL_RANK: expected a GPU index >= 0, got '", text, "'");
    }
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  SPECTRAL_EXPECTS(device.index() < visible, "--device ", name, ": GPU ",
                   static_cast<int>(device.index()), " is not visible (", visible,
                   " visible to this process)");
  return device;
}

/// Waits for the device's queued work (a no-op on the CPU), so wall-clock timings are honest.
inline void synchronize(const torch::Device& device) {
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
  if (device.is_cuda()) {
    torch::cuda::synchronize(device.index() < 0 ? -1 : device.index());
  }
#else
  (void)device;
#endif
}

/// Peak bytes LibTorch's caching allocator handed out (allocated) and held (reserved) since the
/// last reset; zero on the CPU.
struct memory_peak {
  double allocated_gib = 0.0;
  double reserved_gib = 0.0;
};

inline void reset_peak_memory(const torch::Device& device) {
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(
        static_cast<c10::DeviceIndex>(device.index() < 0 ? 0 : device.index()));
  }
#else
  (void)device;
#endif
}

[[nodiscard]] inline memory_peak peak_memory(const torch::Device& device) {
  memory_peak peak;
#if SPECTRAL_TORCH_BRIDGE_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(
        static_cast<c10::DeviceIndex>(device.index() < 0 ? 0 : device.index()));
    constexpr double gib = 1024.0 * 1024.0 * 1024.0;
    peak.allocated_gib = static_cast<double>(stats.allocated_bytes[0].peak) / gib;  // aggregate
    peak.reserved_gib = static_cast<double>(stats.reserved_bytes[0].peak) / gib;
  }
#else
  (void)device;
#endif
  return peak;
}

/// Convolution weights (and, by the caller, images) in NHWC: cuDNN's fastest layout for fp16.
inline void to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) {
      p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
  }
}

/**
 * @brief Dynamic loss scaling for fp16 autocast (what torch.cuda.amp.GradScaler does): the loss
 *        is multiplied by the scale before backward; gradients are unscaled before the step; a
 *        step whose gradients hold Inf/NaN is skipped and the scale halved; after `interval`
 *        good steps it doubles.
 */
class loss_scaler {
 public:
  explicit loss_scaler(bool enabled, double initial = 65536.0, std::int64_t interval = 2000)
      : enabled_(enabled), scale_(initial), interval_(interval) {}

  [[nodiscard]] torch::Tensor scale(const torch::Tensor& loss) const {
    return enabled_ ? loss * scale_ : loss;
  }

  /// Unscales the gradients in place; false when they are not finite (skip the step).
  [[nodiscard]] bool unscale(const std::vector<torch::Tensor>& parameters) {
    if (!enabled_) {
      return true;
    }
    std::vector<torch::Tensor> grads;
    for (const auto& p : parameters) {
      if (p.grad().defined()) {
        grads.push_back(p.grad());
      }
    }
    if (grads.empty()) {
      return true;
    }
    const auto options = grads.front().options().dtype(torch::kFloat32);
    auto found_inf = torch::zeros({1}, options);
    const auto inverse = torch::full({1}, 1.0 / scale_, options);
    if (grads.front().is_cuda()) {  // one fused kernel over every gradient, as GradScaler
      at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inverse);
    } else {
      for (auto& g : grads) {
        g.mul_(inverse);
        found_inf = torch::maximum(
            found_inf, torch::logical_not(g.isfinite().all()).to(torch::kFloat32).reshape({1}));
      }
    }
    const bool finite = found_inf.item<float>() == 0.0F;
    update(finite);
    return finite;
  }

  /// {scale, good steps since the last change, skipped steps}: what a checkpoint keeps, so a
  /// resumed run scales its loss exactly as an uninterrupted one.
  [[nodiscard]] torch::Tensor state() const {
    return torch::tensor({scale_, static_cast<double>(good_steps_), static_cast<double>(skipped_)},
                         torch::kFloat64);
  }

  /// @throws invalid_input for a tensor that is not state()'s three values
  void set_state(const torch::Tensor& state) {
    SPECTRAL_EXPECTS(state.numel() == 3, "loss scaler state: expected 3 values, got ",
                     state.numel());
    const torch::Tensor s = state.to(torch::kCPU, torch::kFloat64).contiguous();
    const double* v = s.data_ptr<double>();
    SPECTRAL_EXPECTS(std::isfinite(v[0]) && v[0] > 0.0 && v[1] >= 0.0 && v[2] >= 0.0,
                     "loss scaler state: scale ", v[0], ", good steps ", v[1], ", skipped ", v[2],
                     " are not a valid state");
    scale_ = v[0];
    good_steps_ = static_cast<std::int64_t>(v[1]);
    skipped_ = static_cast<std::int64_t>(v[2]);
  }

  [[nodiscard]] double current() const noexcept { return scale_; }
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }
  [[nodiscard]] std::int64_t skipped() const noexcept { return skipped_; }

 private:
  void update(bool finite) {
    if (!finite) {
      scale_ *= 0.5;
      good_steps_ = 0;
      ++skipped_;
    } else if (++good_steps_ == interval_) {
      scale_ *= 2.0;
      good_steps_ = 0;
    }
  }

  bool enabled_;
  double scale_;
  std::int64_t interval_;
  std::int64_t good_steps_ = 0;
  std::int64_t skipped_ = 0;
};

/// Autocast on for the lifetime of the guard (CUDA fp16, the reference's precision, or bf16);
/// a no-op when disabled. The cast cache is cleared on exit, as torch.autocast does, and the
/// precision set back to fp16.
class autocast_guard {
 public:
  explicit autocast_guard(bool enabled, bool bf16 = false) : enabled_(enabled), bf16_(bf16) {
    if (enabled_) {
      if (bf16_) {
        compat::set_cuda_autocast_dtype(at::kBFloat16);
      }
      compat::set_cuda_autocast(true);
    }
  }
  ~autocast_guard() {
    if (enabled_) {
      compat::set_cuda_autocast(false);
      if (bf16_) {
        compat::set_cuda_autocast_dtype(at::kHalf);
      }
      at::autocast::clear_cache();
    }
  }
  autocast_guard(const autocast_guard&) = delete;
  autocast_guard& operator=(const autocast_guard&) = delete;

 private:
  bool enabled_;
  bool bf16_;
};

}  // namespace spectral::trainer
