// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The INTL crop recipe (docs/trainer.md#imagenet-pretraining, docs/trainer.md#cifar) as batched
/// tensor ops: RandomResizedCrop (bicubic, with the horizontal flip folded into the same sampling
/// grid) → ColorJitter in a random order per sample → RandomGrayscale → GaussianBlur → Solarize →
/// Normalize.
///
/// Every random number is drawn on the CPU from the caller's CPU generator, a fixed number per
/// sample whatever the configuration, so a batch depends only on the generator state: the same
/// on CPU and CUDA (up to float rounding) and reproducible from a checkpointed
/// `generator.get_state()`. The pixel work runs on the images' device.
///
/// Deliberate differences from the PIL/torchvision reference: bicubic resampling goes through
/// grid_sample (no antialiasing when a crop is shrunk; for CIFAR and Fashion-MNIST the crop is
/// never larger than the output, so nothing is shrunk), the result is clamped to [0, 1] as PIL's
/// uint8 output is, and colour operations act on floats rather than on rounded uint8 values.

#include <spectral/core/error.hpp>

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// One view's augmentation. Probabilities are in [0, 1]; a probability of 0 disables a step.
struct augment_config {
  std::int64_t size = 28;  ///< output height and width
  /// false: no RandomResizedCrop here (the images are already size×size crops, e.g. from
  /// image_folder_loader's decode-time crop); the flip and every later step still apply and
  /// the same random numbers are drawn, so toggling it changes nothing else.
  bool crop = true;
  double scale_min = 0.08, scale_max = 1.0;  ///< crop area as a fraction of the image area
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;  ///< crop width / height
  double flip_p = 0.5;
  double jitter_p = 0.8;  ///< probability of ColorJitter as a whole
  double brightness = 0.4, contrast = 0.4, saturation = 0.2, hue = 0.1;
  double gray_p = 0.2;
  double blur_p = 0.0;  ///< GaussianBlur, σ ~ U[0.1, 2.0], kernel from blur_kernel_size(size)
  double solarize_p = 0.0;
  std::vector<double> mean{0.2860}, std{0.3530};  ///< per channel, applied last
};

/// Solarize inverts values at or above PIL's default threshold, 128 of 255.
inline constexpr double solarize_threshold = 128.0 / 255.0;

/// Random numbers drawn per sample by augment(), whatever the configuration.
inline constexpr std::int64_t augment_draws_per_sample = 36;

/**
 * @brief Augments a batch: N×C×H×W uint8 → N×C×size×size float32, normalised, on the images'
 * device.
 * @param images_uint8 C = 1 (saturation, hue and grayscale are then the identity) or 3 (RGB)
 * @param generator a CPU generator; it advances by N × augment_draws_per_sample doubles
 * @throws invalid_input for images that are not 4-D uint8 with 1 or 3 channels, a generator
 *         that is not a CPU generator, an invalid configuration (see validate()), or images
 *         that are not size×size when config.crop is false
 */
[[nodiscard]] torch::Tensor augment(const torch::Tensor& images_uint8,
                                    const augment_config& config,
                                    at::Generator& generator);

/**
 * @brief The evaluation path: uint8 → float32 in [0, 1] → (x − mean) / std, same size and device.
 * @throws invalid_input for images that are not 4-D uint8, or mean/std without one positive
 *         entry per channel
 */
[[nodiscard]] torch::Tensor to_normalized(const torch::Tensor& images_uint8,
                                          const std::vector<double>& mean,
                                          const std::vector<double>& std);

/// @throws invalid_input naming the first field out of range for images with `channels`
void validate(const augment_config& config, std::int64_t channels);

/**
 * @brief The CIFAR recipe of docs/trainer.md#cifar for Fashion-MNIST: view 0 without
 * solarisation, view 1 with p = 0.2; no blur; Fashion-MNIST's mean 0.2860 and std 0.3530.
 * @throws invalid_input for a view other than 0 or 1 or a size below 1
 */
[[nodiscard]] augment_config fashion_mnist_view(int view, std::int64_t size);

/**
 * @brief docs/trainer.md#cifar for CIFAR-10/100 (32×32): as fashion_mnist_view with the data
 * set's RGB mean/std.
 * @note The reference evaluates CIFAR-100 with the CIFAR-10 constants
 *       (docs/trainer.md#reference-quirks); the evaluation path chooses its own constants.
 * @throws invalid_input for a view other than 0 or 1 or classes other than 10 or 100
 */
[[nodiscard]] augment_config cifar_view(int view, int classes, std::int64_t size = 32);

/// Odd Gaussian-blur kernel size for an output of `size` pixels: about size/10, at least 3.
[[nodiscard]] std::int64_t blur_kernel_size(std::int64_t size);

// --- implementation -----------------------------------------------------------------------------

namespace detail {

/// Per-sample parameters of one batch, all on the CPU.
struct augment_params {
  torch::Tensor crop;      ///< N×4 float32 (sx, sy, tx, ty): x_in = sx·x_out + tx, normalised
  torch::Tensor jitter;    ///< N×4×4 float32 [stage][brightness, contrast, saturation, hue]
  torch::Tensor gray;      ///< N bool
  torch::Tensor sigma;     ///< N float64, 0 where the sample is not blurred
  torch::Tensor solarize;  ///< N bool
};

inline void expect_images(const torch::Tensor& images, const char* what) {
  SPECTRAL_EXPECTS(images.defined() && images.dim() == 4, what, ": expected N×C×H×W images, got ",
                   images.defined() ? images.dim() : 0, " dimensions");
  SPECTRAL_EXPECTS(images.scalar_type() == torch::kUInt8, what, ": expected uint8 images, got ",
                   images.scalar_type());
  SPECTRAL_EXPECTS(images.size(2) >= 1 && images.size(3) >= 1, what, ": empty images (",
                   images.size(2), "x", images.size(3), ")");
}

inline void expect_mean_std(const std::vector<double>& mean,
                            const std::vector<double>& std,
                            std::int64_t channels) {
  SPECTRAL_EXPECTS(static_cast<std::int64_t>(mean.size()) == channels, "mean: ", mean.size(),
                   " values for images with ", channels, " channels");
  SPECTRAL_EXPECTS(static_cast<std::int64_t>(std.size()) == channels, "std: ", std.size(),
                   " values for images with ", channels, " channels");
  for (std::size_t c = 0; c < std.size(); ++c) {
    SPECTRAL_EXPECTS(std::isfinite(mean[c]), "mean[", c, "] = ", mean[c], " is not finite");
    SPECTRAL_EXPECTS(std::isfinite(std[c]) && std[c] > 0.0, "std[", c, "] = ", std[c],
                     " must be positive");
  }
}

/// A small host tensor (random parameters, indices, filter taps) on `device` without asking for
/// a stream synchronisation: LibTorch's blocking copy waits for every queued kernel (the
/// previous training step) each time; a non-blocking one from pageable memory is staged before
/// the call returns and stays in stream order (CUDA may still synchronise it; to be measured).
/// A plain copy on the CPU.
[[nodiscard]] inline torch::Tensor to_device(const torch::Tensor& host,
                                             const torch::Device& device,
                                             torch::ScalarType type) {
  return host.to(device, type, /*non_blocking=*/true);
}

[[nodiscard]] inline torch::Tensor normalize(const torch::Tensor& x,
                                             const std::vector<double>& mean,
                                             const std::vector<double>& std) {
  const auto channels = static_cast<std::int64_t>(mean.size());
  const auto options = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor m = to_device(torch::tensor(mean, options), x.device(), torch::kFloat32);
  const torch::Tensor s = to_device(torch::tensor(std, options), x.device(), torch::kFloat32);
  return (x - m.view({1, channels, 1, 1})) / s.view({1, channels, 1, 1});
}

/// ITU-R 601 luma, as torchvision's rgb_to_grayscale; N×3×H×W → N×1×H×W.
[[nodiscard]] inline torch::Tensor grayscale(const torch::Tensor& rgb) {
  return (0.2989 * rgb.select(1, 0) + 0.587 * rgb.select(1, 1) + 0.114 * rgb.select(1, 2))
      .unsqueeze(1);
}

/// RGB in [0, 1] → HSV with every component in [0, 1] (torchvision's _rgb2hsv).
[[nodiscard]] inline torch::Tensor rgb_to_hsv(const torch::Tensor& rgb) {
  const torch::Tensor r = rgb.select(1, 0);
  const torch::Tensor g = rgb.select(1, 1);
  const torch::Tensor b = rgb.select(1, 2);
  const torch::Tensor maxc = std::get<0>(rgb.max(1));
  const torch::Tensor minc = std::get<0>(rgb.min(1));
  const torch::Tensor equal = maxc == minc;
  const torch::Tensor chroma = maxc - minc;
  const torch::Tensor ones = torch::ones_like(maxc);
  // Grey pixels (max == min) get hue 0 and saturation 0 without dividing by zero.
  const torch::Tensor s = chroma / torch::where(equal, ones, maxc);
  const torch::Tensor divisor = torch::where(equal, ones, chroma);
  const torch::Tensor rc = (maxc - r) / divisor;
  const torch::Tensor gc = (maxc - g) / divisor;
  const torch::Tensor bc = (maxc - b) / divisor;
  const torch::Tensor is_r = maxc == r;
  const torch::Tensor is_g = (maxc == g).logical_and(is_r.logical_not());
  const torch::Tensor is_b = is_r.logical_or(maxc == g).logical_not();
  const torch::Tensor h = is_r.to(rgb.scalar_type()) * (bc - gc) +
                          is_g.to(rgb.scalar_type()) * (2.0 + rc - bc) +
                          is_b.to(rgb.scalar_type()) * (4.0 + gc - rc);
  return torch::stack({torch::fmod(h / 6.0 + 1.0, 1.0), s, maxc}, 1);
}

/// Inverse of rgb_to_hsv (torchvision's _hsv2rgb, with where() instead of an einsum).
[[nodiscard]] inline torch::Tensor hsv_to_rgb(const torch::Tensor& hsv) {
  const torch::Tensor h = hsv.select(1, 0);
  const torch::Tensor s = hsv.select(1, 1);
  const torch::Tensor v = hsv.select(1, 2);
  const torch::Tensor sector_float = torch::floor(h * 6.0);
  const torch::Tensor f = h * 6.0 - sector_float;
  const torch::Tensor sector = torch::remainder(sector_float, 6.0);
  const torch::Tensor p = (v * (1.0 - s)).clamp(0.0, 1.0);
  const torch::Tensor q = (v * (1.0 - s * f)).clamp(0.0, 1.0);
  const torch::Tensor t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0);
  const auto pick = [&](const std::array<const torch::Tensor*, 6>& by_sector) {
    torch::Tensor out = *by_sector[5];
    for (int k = 4; k >= 0; --k) {
      out = torch::where(sector == static_cast<double>(k), *by_sector[static_cast<std::size_t>(k)],
                         out);
    }
    return out;
  };
  return torch::stack({pick({&v, &q, &p, &p, &t, &v}), pick({&t, &v, &v, &q, &p, &p}),
                       pick({&p, &p, &t, &v, &v, &q})},
                      1);
}

/// Rotates the hue of each RGB sample by shift[n] (a fraction of the colour circle).
[[nodiscard]] inline torch::Tensor adjust_hue(const torch::Tensor& rgb,
                                              const torch::Tensor& shift) {
  const torch::Tensor hsv = rgb_to_hsv(rgb);
  const torch::Tensor h = torch::remainder(hsv.select(1, 0) + shift.view({-1, 1, 1}), 1.0);
  return hsv_to_rgb(torch::stack({h, hsv.select(1, 1), hsv.select(1, 2)}, 1));
}

/// Applies `op(subset, cpu_indices)` to the samples where `cpu_mask` is true; the rest stay.
template <class Op>
[[nodiscard]] torch::Tensor apply_where(const torch::Tensor& x,
                                        const torch::Tensor& cpu_mask,
                                        Op&& op) {
  const torch::Tensor indices = cpu_mask.nonzero().view({-1});
  if (indices.numel() == 0) {
    return x;
  }
  if (indices.numel() == x.size(0)) {
    return op(x, indices);
  }
  const torch::Tensor device_indices = to_device(indices, x.device(), torch::kInt64);
  return x.index_copy(0, device_indices, op(x.index_select(0, device_indices), indices));
}

/// Separable Gaussian blur with reflect padding, one σ per sample (torchvision's recipe).
[[nodiscard]] inline torch::Tensor gaussian_blur(const torch::Tensor& x,
                                                 const torch::Tensor& sigma,
                                                 std::int64_t kernel_size) {
  const std::int64_t n = x.size(0);
  const std::int64_t channels = x.size(1);
  const std::int64_t height = x.size(2);
  const std::int64_t width = x.size(3);
  // Reflect padding needs radius < extent; tiny images get a smaller kernel.
  const std::int64_t radius = std::min({kernel_size / 2, height - 1, width - 1});
  if (radius <= 0) {
    return x;
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const torch::Tensor taps = torch::arange(-radius, radius + 1, f64).view({1, -1});
  torch::Tensor kernel = torch::exp(-0.5 * (taps / sigma.view({-1, 1})).pow(2));
  kernel = to_device(kernel / kernel.sum(1, true), x.device(), torch::kFloat32);
  kernel = kernel.repeat_interleave(channels, 0);  // (N·C)×k, one filter per channel group
  const std::int64_t k = 2 * radius + 1;
  const torch::Tensor padded =
      torch::reflection_pad2d(x, {radius, radius, radius, radius})
          .reshape({1, n * channels, height + 2 * radius, width + 2 * radius});
  // Explicit array refs: a literal 0 for the padding would also convert to the string overload.
  const std::array<std::int64_t, 2> ones{1, 1};
  const std::array<std::int64_t, 2> zeros{0, 0};
  const torch::Tensor rows = torch::conv2d(padded, kernel.view({n * channels, 1, 1, k}), {}, ones,
                                           zeros, ones, n * channels);
  const torch::Tensor both = torch::conv2d(rows, kernel.view({n * channels, 1, k, 1}), {}, ones,
                                           zeros, ones, n * channels);
  return both.reshape({n, channels, height, width});
}

/// Draws every per-sample parameter from `generator`, torchvision's distributions throughout.
[[nodiscard]] inline augment_params draw_params(std::int64_t n,
                                                std::int64_t height,
                                                std::int64_t width,
                                                const augment_config& config,
                                                at::Generator& generator) {
  const torch::Tensor u = torch::rand({n, augment_draws_per_sample}, generator,
                                      torch::TensorOptions().dtype(torch::kFloat64));
  const auto draw = u.accessor<double, 2>();
  // Jitter factors start at the identity (brightness, contrast, saturation 1; hue shift 0).
  const torch::Tensor identity = torch::tensor({1.0F, 1.0F, 1.0F, 0.0F});
  augment_params params{torch::empty({n, 4}, torch::kFloat32), identity.repeat({n, 4, 1}),
                        torch::empty({n}, torch::kBool), torch::zeros({n}, torch::kFloat64),
                        torch::empty({n}, torch::kBool)};
  auto crop = params.crop.accessor<float, 2>();
  auto jitter = params.jitter.accessor<float, 3>();
  auto gray = params.gray.accessor<bool, 1>();
  auto sigma = params.sigma.accessor<double, 1>();
  auto solarize = params.solarize.accessor<bool, 1>();

  const auto h_f = static_cast<double>(height);
  const auto w_f = static_cast<double>(width);
  const double log_ratio_min = std::log(config.ratio_min);
  const double log_ratio_max = std::log(config.ratio_max);
  const auto uniform = [](double lo, double hi, double unit) { return lo + (hi - lo) * unit; };
  for (std::int64_t i = 0; i < n; ++i) {
    // RandomResizedCrop.get_params: 10 tries (draws 0–19), then the centre crop; the offsets
    // (draws 20, 21) are shared by the tries because only the accepted one uses them.
    std::int64_t crop_h = 0;
    std::int64_t crop_w = 0;
    bool found = false;
    for (std::int64_t attempt = 0; attempt < 10 && !found; ++attempt) {
      const double area = h_f * w_f * uniform(config.scale_min, config.scale_max, draw[i][attempt]);
      const double ratio = std::exp(uniform(log_ratio_min, log_ratio_max, draw[i][10 + attempt]));
      crop_w = static_cast<std::int64_t>(std::lround(std::sqrt(area * ratio)));
      crop_h = static_cast<std::int64_t>(std::lround(std::sqrt(area / ratio)));
      found = crop_w > 0 && crop_w <= width && crop_h > 0 && crop_h <= height;
    }
    std::int64_t top = 0;
    std::int64_t left = 0;
    if (found) {
      top = std::min(height - crop_h, static_cast<std::int64_t>(
                                          draw[i][20] * static_cast<double>(height - crop_h + 1)));
      left = std::min(width - crop_w, static_cast<std::int64_t>(
                                          draw[i][21] * static_cast<double>(width - crop_w + 1)));
    } else {
      const double in_ratio = w_f / h_f;
      crop_w = width;
      crop_h = height;
      if (in_ratio < config.ratio_min) {
        crop_h = static_cast<std::int64_t>(std::lround(w_f / config.ratio_min));
      } else if (in_ratio > config.ratio_max) {
        crop_w = static_cast<std::int64_t>(std::lround(h_f * config.ratio_max));
      }
      top = (height - crop_h) / 2;
      left = (width - crop_w) / 2;
    }
    // align_corners=false coordinates: −1 and +1 are the outer edges of the image, so the crop
    // [left, left+w) maps to centre (2·left + w)/W − 1 and half-width w/W.
    const double flip = draw[i][22] < config.flip_p ? -1.0 : 1.0;
    crop[i][0] = static_cast<float>(flip * static_cast<double>(crop_w) / w_f);
    crop[i][1] = static_cast<float>(static_cast<double>(crop_h) / h_f);
    crop[i][2] = static_cast<float>(static_cast<double>(2 * left + crop_w) / w_f - 1.0);
    crop[i][3] = static_cast<float>(static_cast<double>(2 * top + crop_h) / h_f - 1.0);

    // ColorJitter: factors from draws 24–27, a random order of the four from draws 28–31.
    if (draw[i][23] < config.jitter_p) {
      const std::array<double, 4> factors{
          uniform(std::max(0.0, 1.0 - config.brightness), 1.0 + config.brightness, draw[i][24]),
          uniform(std::max(0.0, 1.0 - config.contrast), 1.0 + config.contrast, draw[i][25]),
          uniform(std::max(0.0, 1.0 - config.saturation), 1.0 + config.saturation, draw[i][26]),
          uniform(-config.hue, config.hue, draw[i][27])};
      std::array<std::int64_t, 4> order{0, 1, 2, 3};
      std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
        return draw[i][28 + a] < draw[i][28 + b];
      });
      for (std::int64_t stage = 0; stage < 4; ++stage) {
        const std::int64_t op = order[static_cast<std::size_t>(stage)];
        jitter[i][stage][op] = static_cast<float>(factors[static_cast<std::size_t>(op)]);
      }
    }
    gray[i] = draw[i][32] < config.gray_p;
    if (draw[i][33] < config.blur_p) {
      sigma[i] = uniform(0.1, 2.0, draw[i][34]);
    }
    solarize[i] = draw[i][35] < config.solarize_p;
  }
  return params;
}

}  // namespace detail

inline std::int64_t blur_kernel_size(std::int64_t size) {
  const std::int64_t k = static_cast<std::int64_t>(std::lround(static_cast<double>(size) / 10.0));
  return std::max<std::int64_t>(3, k % 2 == 0 ? k + 1 : k);
}

inline void validate(const augment_config& config, std::int64_t channels) {
  SPECTRAL_EXPECTS(config.size >= 1, "size: must be at least 1, got ", config.size);
  SPECTRAL_EXPECTS(config.scale_min > 0.0 && config.scale_min <= config.scale_max,
                   "scale: expected 0 < scale_min <= scale_max, got (", config.scale_min, ", ",
                   config.scale_max, ")");
  SPECTRAL_EXPECTS(config.ratio_min > 0.0 && config.ratio_min <= config.ratio_max,
                   "ratio: expected 0 < ratio_min <= ratio_max, got (", config.ratio_min, ", ",
                   config.ratio_max, ")");
  const std::array<std::pair<const char*, double>, 5> probabilities{
      {{"flip_p", config.flip_p},
       {"jitter_p", config.jitter_p},
       {"gray_p", config.gray_p},
       {"blur_p", config.blur_p},
       {"solarize_p", config.solarize_p}}};
  for (const auto& [name, p] : probabilities) {
    SPECTRAL_EXPECTS(p >= 0.0 && p <= 1.0, name, ": a probability in [0, 1], got ", p);
  }
  const std::array<std::pair<const char*, double>, 3> strengths{
      {{"brightness", config.brightness},
       {"contrast", config.contrast},
       {"saturation", config.saturation}}};
  for (const auto& [name, value] : strengths) {
    SPECTRAL_EXPECTS(value >= 0.0 && std::isfinite(value), name,
                     ": must be finite and non-negative, got ", value);
  }
  SPECTRAL_EXPECTS(config.hue >= 0.0 && config.hue <= 0.5, "hue: must be in [0, 0.5], got ",
                   config.hue);
  SPECTRAL_EXPECTS(channels == 1 || channels == 3,
                   "images: expected 1 (grey) or 3 (RGB) channels, got ", channels);
  detail::expect_mean_std(config.mean, config.std, channels);
}

inline torch::Tensor augment(const torch::Tensor& images_uint8,
                             const augment_config& config,
                             at::Generator& generator) {
  detail::expect_images(images_uint8, "augment");
  SPECTRAL_EXPECTS(generator.defined() && generator.device().is_cpu(),
                   "generator: must be a CPU generator (parameters are drawn on the CPU), got ",
                   generator.defined() ? generator.device().str() : std::string("none"));
  const std::int64_t n = images_uint8.size(0);
  const std::int64_t channels = images_uint8.size(1);
  const std::int64_t height = images_uint8.size(2);
  const std::int64_t width = images_uint8.size(3);
  validate(config, channels);
  SPECTRAL_EXPECTS(config.crop || (height == config.size && width == config.size),
                   "augment: without the crop step the images must already be ", config.size, "x",
                   config.size, ", got ", height, "x", width);

  const detail::augment_params params = detail::draw_params(n, height, width, config, generator);
  const torch::Device device = images_uint8.device();
  const std::int64_t size = config.size;
  if (n == 0) {
    return torch::empty({0, channels, size, size},
                        torch::TensorOptions().dtype(torch::kFloat32).device(device));
  }
  const auto on_device = [&](const torch::Tensor& t) {
    return detail::to_device(t, device, t.scalar_type());
  };

  const torch::Tensor x_in = images_uint8.to(torch::kFloat32).div(255.0);
  torch::Tensor x;
  if (!config.crop) {
    // Only the flip of the crop step: mirror the samples whose drawn flip sign is negative.
    x = detail::apply_where(
        x_in, params.crop.select(1, 0).lt(0.0),
        [](const torch::Tensor& sub, const torch::Tensor&) { return torch::flip(sub, {3}); });
  } else {
    // RandomResizedCrop + flip: one sampling grid per sample, x_in = sx·x_out + tx.
    // Output pixel centres in align_corners=false coordinates: (2k + 1)/size − 1.
    const torch::Tensor centres =
        torch::arange(size, torch::TensorOptions().dtype(torch::kFloat32).device(device))
            .mul(2.0)
            .add(1.0)
            .div(static_cast<double>(size))
            .sub(1.0);
    const torch::Tensor crop = on_device(params.crop);
    const torch::Tensor grid_x = crop.select(1, 0).view({n, 1, 1}) * centres.view({1, 1, size}) +
                                 crop.select(1, 2).view({n, 1, 1});
    const torch::Tensor grid_y = crop.select(1, 1).view({n, 1, 1}) * centres.view({1, size, 1}) +
                                 crop.select(1, 3).view({n, 1, 1});
    const torch::Tensor grid =
        torch::stack({grid_x.expand({n, size, size}), grid_y.expand({n, size, size})}, 3);
    constexpr std::int64_t bicubic = 2;
    constexpr std::int64_t border = 1;
    // Bicubic overshoots at edges; PIL's uint8 output saturates the same way.
    x = torch::grid_sampler(x_in, grid, bicubic, border, false).clamp(0.0, 1.0);
  }

  // ColorJitter: in each of four stages a sample applies at most one operation (its own random
  // order); the others have identity factors, which leave values bit-for-bit unchanged.
  const bool rgb = channels == 3;
  const torch::Tensor jitter = params.jitter;
  const torch::Tensor any_change =
      torch::cat({jitter.narrow(2, 0, 3).ne(1.0), jitter.narrow(2, 3, 1).ne(0.0)}, 2);
  if (any_change.any().item<bool>()) {
    const torch::Tensor device_jitter = on_device(jitter);
    for (std::int64_t stage = 0; stage < 4; ++stage) {
      const torch::Tensor factors = device_jitter.select(1, stage);
      const auto factor = [&](std::int64_t op) { return factors.select(1, op).view({n, 1, 1, 1}); };
      const auto changes = [&](std::int64_t op) {
        return any_change.select(1, stage).select(1, op).any().item<bool>();
      };
      if (changes(0)) {
        x = (x * factor(0)).clamp(0.0, 1.0);
      }
      if (changes(1)) {
        const torch::Tensor grey = rgb ? detail::grayscale(x) : x;
        const torch::Tensor mean = grey.mean({1, 2, 3}, true);
        x = (factor(1) * x + (1.0 - factor(1)) * mean).clamp(0.0, 1.0);
      }
      if (rgb && changes(2)) {
        x = (factor(2) * x + (1.0 - factor(2)) * detail::grayscale(x)).clamp(0.0, 1.0);
      }
      if (rgb && changes(3)) {
        const torch::Tensor shifts = jitter.select(1, stage).select(1, 3);
        x = detail::apply_where(
            x, shifts.ne(0.0), [&](const torch::Tensor& sub, const torch::Tensor& idx) {
              return detail::adjust_hue(sub, on_device(shifts.index_select(0, idx)));
            });
      }
    }
  }

  if (rgb) {
    x = detail::apply_where(x, params.gray, [](const torch::Tensor& sub, const torch::Tensor&) {
      return detail::grayscale(sub).expand_as(sub).contiguous();
    });
  }

  const std::int64_t kernel_size = blur_kernel_size(size);
  x = detail::apply_where(
      x, params.sigma.gt(0.0), [&](const torch::Tensor& sub, const torch::Tensor& idx) {
        return detail::gaussian_blur(sub, params.sigma.index_select(0, idx), kernel_size);
      });

  x = detail::apply_where(x, params.solarize, [](const torch::Tensor& sub, const torch::Tensor&) {
    return torch::where(sub >= solarize_threshold, 1.0 - sub, sub);
  });

  return detail::normalize(x, config.mean, config.std);
}

inline torch::Tensor to_normalized(const torch::Tensor& images_uint8,
                                   const std::vector<double>& mean,
                                   const std::vector<double>& std) {
  detail::expect_images(images_uint8, "to_normalized");
  detail::expect_mean_std(mean, std, images_uint8.size(1));
  return detail::normalize(images_uint8.to(torch::kFloat32).div(255.0), mean, std);
}

inline augment_config fashion_mnist_view(int view, std::int64_t size) {
  SPECTRAL_EXPECTS(view == 0 || view == 1, "view: expected 0 or 1, got ", view);
  SPECTRAL_EXPECTS(size >= 1, "size: must be at least 1, got ", size);
  augment_config config;
  config.size = size;
  config.blur_p = 0.0;
  config.solarize_p = view == 0 ? 0.0 : 0.2;
  config.mean = {0.2860};
  config.std = {0.3530};
  return config;
}

inline augment_config cifar_view(int view, int classes, std::int64_t size) {
  SPECTRAL_EXPECTS(classes == 10 || classes == 100, "classes: CIFAR has 10 or 100, got ", classes);
  augment_config config = fashion_mnist_view(view, size);
  if (classes == 10) {
    config.mean = {0.4914, 0.4822, 0.4465};
    config.std = {0.2470, 0.2435, 0.2616};
  } else {
    config.mean = {0.5071, 0.4865, 0.4409};
    config.std = {0.2673, 0.2564, 0.2762};
  }
  return config;
}

/**
 * @brief One view of the ImageNet recipe (docs/trainer.md#imagenet-pretraining) for crops the
 *        ImageFolder loader already made at decode time (RandomResizedCrop, bicubic): flip,
 *        colour jitter, grayscale, blur (p = 1.0 / 0.1), solarisation (p = 0 / 0.2), ImageNet
 *        mean and std.
 * @throws invalid_input for a view other than 0 or 1 or a size below 1
 */
[[nodiscard]] inline augment_config imagenet_view(int view, std::int64_t size) {
  SPECTRAL_EXPECTS(view == 0 || view == 1, "view: expected 0 or 1, got ", view);
  SPECTRAL_EXPECTS(size >= 1, "size: must be at least 1, got ", size);
  augment_config config;
  config.size = size;
  config.crop = false;
  config.blur_p = view == 0 ? 1.0 : 0.1;
  config.solarize_p = view == 0 ? 0.0 : 0.2;
  config.mean = {0.485, 0.456, 0.406};
  config.std = {0.229, 0.224, 0.225};
  return config;
}

}  // namespace spectral::trainer
