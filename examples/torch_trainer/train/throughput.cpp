// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

#include "train/throughput.hpp"

namespace spectral::trainer {

nlohmann::json synthetic_throughput(const train_config& c, std::ostream& log) {
  detail::validate_throughput(c);
  const torch::Device device = parse_device(c.device);
  const auto options = torch::TensorOptions().device(device);
  const std::vector<torch::Tensor> views = {
      torch::randn({c.batch, c.synthetic_channels, c.synthetic_size, c.synthetic_size}, options),
      torch::randn({c.batch, c.synthetic_channels, c.synthetic_size, c.synthetic_size}, options)};
  nlohmann::json result = {{"steps", c.synthetic_steps},
                           {"batch", c.batch},
                           {"image_size", c.synthetic_size},
                           {"device", c.device},
                           {"amp", c.amp},
                           {"channels_last", c.channels_last},
                           {"threads", torch::get_num_threads()}};
  const auto run = [&](transform_engine engine, const char* name) {
    torch::manual_seed(c.seed);  // both engines start from the same weights
    step_bench step(c, c.synthetic_channels, engine, device);
    auto r = detail::describe_run(
        detail::time_steps(device, 3, c.synthetic_steps, [&] { return step.run(views); }),
        c.synthetic_steps, c.batch);
    detail::print_run(log, std::string("synthetic, ") + name, r);
    if (c.phases) {  // the same number of steps again, each phase timed on its own
      phase_times t;
      for (std::int64_t s = 0; s < c.synthetic_steps; ++s) {
        (void)step.run(views, &t);
      }
      const double n = static_cast<double>(c.synthetic_steps);
      r["phases_ms"] = {{"forward", t.forward / n},
                        {"loss", t.loss / n},
                        {"backward", t.backward / n},
                        {"optimizer", t.optimizer / n}};
      log << "synthetic, " << name << ", ms per phase (synchronised): forward " << t.forward / n
          << ", transform + loss " << t.loss / n << ", backward " << t.backward / n
          << ", optimizer " << t.optimizer / n << '\n';
    }
    return r;
  };
  const bool library = c.transform.engine == transform_engine::library;
  result[library ? "library" : "reference"] =
      run(c.transform.engine, library ? "spectral library" : "reference engine");
  // Flat keys of the --engine run.
  const auto& first = result[library ? "library" : "reference"];
  result["images_per_s"] = first["images_per_s"];
  result["ms_per_step"] = first["ms_per_step"];
  result["last_loss"] = first["last_loss"];
  if (c.compare_reference && library) {
    result["reference"] = run(transform_engine::reference, "reference engine");
    result["speedup"] = result["library"]["images_per_s"].get<double>() /
                        result["reference"]["images_per_s"].get<double>();
    log << "synthetic: library / reference images/s = " << result["speedup"].get<double>() << '\n';
  }
  return {{"synthetic", result}};
}

nlohmann::json loader_throughput(const train_config& c, std::ostream& log) {
  detail::validate_throughput(c);
  image_folder_loader loader(scan_image_folder(c.data / "train"), detail::loader_options(c));
  loader.start_epoch(0);
  SPECTRAL_EXPECTS(loader.next().has_value(), "--data: ", (c.data / "train").string(),
                   " holds fewer than one batch of ", c.batch, " decodable images");
  std::int64_t batches = 0;
  const auto start = std::chrono::steady_clock::now();
  for (; batches < c.synthetic_steps; ++batches) {
    auto batch = loader.next();
    if (!batch) {
      break;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SPECTRAL_EXPECTS(batches >= 1, "--data: ", (c.data / "train").string(),
                   " ran out of images after one batch; use more images or a smaller --batch");
  const double images_per_s = static_cast<double>(batches * c.batch) / seconds;
  const std::vector<view_crop> crops = image_folder_crops(c);
  std::int64_t largest = 0;
  bool same_size = true;
  for (const view_crop& crop : crops) {
    same_size = same_size && crop.size == crops.front().size;
    largest = std::max(largest, crop.size);
  }
  log << "loader: " << batches << " batches of " << c.batch << " images (" << crops.size()
      << (same_size ? " crops of " : " crops, the largest ") << largest << "x" << largest
      << (same_size ? " each" : "") << ") in " << seconds << " s, " << images_per_s
      << " images/s with " << loader.options().threads << " threads, " << loader.skipped()
      << " files skipped\n";
  return {{"loader",
           {{"images_per_s", images_per_s},
            {"batches", batches},
            {"batch", c.batch},
            {"threads", loader.options().threads},
            {"skipped", loader.skipped()},
            {"image_size", largest},
            {"crops", crops.size()}}}};
}

nlohmann::json pipeline_throughput(const train_config& c, std::ostream& log) {
  detail::validate_throughput(c);
  const torch::Device device = parse_device(c.device);
  const auto folder = scan_image_folder(c.data / "train");
  // The training run's views: the loader's decode-time crops, the rest batched on the device.
  const std::vector<augment_config> configs = make_image_folder_view_configs(c);
  nlohmann::json result = {
      {"steps", c.synthetic_steps}, {"batch", c.batch}, {"image_size", c.image_size},
      {"device", c.device},         {"amp", c.amp},     {"channels_last", c.channels_last}};
  const auto run = [&](transform_engine engine, const char* name) {
    image_folder_loader loader(folder, detail::loader_options(c));
    torch::manual_seed(c.seed);  // both engines: the same weights, images and augmentations
    auto generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 4);
    step_bench step(c, 3, engine, device);
    std::int64_t epoch = 0;
    loader.start_epoch(epoch);
    const auto next_views = [&] {
      auto batch = loader.next();
      if (!batch) {  // a small folder: start the next epoch
        loader.start_epoch(++epoch);
        batch = loader.next();
        SPECTRAL_EXPECTS(batch.has_value(), "--data: ", (c.data / "train").string(),
                         " holds fewer than one batch of ", c.batch, " decodable images");
      }
      std::vector<torch::Tensor> views;
      for (std::size_t v = 0; v < batch->views.size(); ++v) {
        views.push_back(
            augment(batch->views[v].to(device, /*non_blocking=*/true), configs[v], generator));
      }
      return views;
    };
    auto r = detail::describe_run(
        detail::time_steps(device, 3, c.synthetic_steps, [&] { return step.run(next_views()); }),
        c.synthetic_steps, c.batch);
    r["skipped"] = loader.skipped();
    detail::print_run(log, std::string("pipeline, ") + name, r);
    return r;
  };
  result["library"] = run(transform_engine::library, "spectral library");
  if (c.compare_reference) {
    result["reference"] = run(transform_engine::reference, "reference engine");
    result["speedup"] = result["library"]["images_per_s"].get<double>() /
                        result["reference"]["images_per_s"].get<double>();
    log << "pipeline: library / reference images/s = " << result["speedup"].get<double>() << '\n';
  }
  return {{"pipeline", result}};
}

}  // namespace spectral::trainer
