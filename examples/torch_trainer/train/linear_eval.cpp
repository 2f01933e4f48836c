// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

#include "train/linear_eval.hpp"

namespace spectral::trainer {

void load_pretrained_backbone(const std::filesystem::path& path, ResNet& backbone) {
  try {
    load_backbone(backbone, pretrained_backbone(path), path);
  } catch (const c10::Error& e) {
    SPECTRAL_EXPECTS(false, "--pretrained: ", path.string(), " could not be read (",
                     detail::first_line(e), ")");
  }
}

nlohmann::json run_eval(const eval_config& c, std::ostream& log) {
  namespace fs = std::filesystem;
  detail::validate_eval(c);
  const torch::Device device = parse_device(c.device);  // refused before any folder is read
  const c10::DeviceGuard device_guard(device);
  const std::int64_t epochs = eval_epochs(c);
  const bool linear = c.mode == eval_mode::linear;
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  torch::set_num_threads(c.threads > 0 ? c.threads : static_cast<int>(cores));

  image_folder train_set = scan_image_folder(c.data / "train");
  const image_folder val_set = scan_image_folder(c.data / "val");
  SPECTRAL_EXPECTS(train_set.classes == val_set.classes, "--data: ", (c.data / "train").string(),
                   " has ", train_set.classes.size(), " class folders and ",
                   (c.data / "val").string(), " has ", val_set.classes.size(),
                   "; their names must be the same");
  if (!c.train_split.empty()) {
    train_set = select_split(train_set, c.train_split);
  }
  const auto classes = static_cast<std::int64_t>(train_set.classes.size());
  const auto train_images = static_cast<std::int64_t>(train_set.files.size());
  detail::validate_train_images(c, train_images);

  torch::manual_seed(c.seed);
  resnet_options backbone_options = resnet_options::reference(c.depth, c.cifar_stem);
  backbone_options.width = c.width;
  Classifier model(backbone_options, classes);
  if (!c.random_init) {
    load_pretrained_backbone(c.pretrained, model->backbone());
  }
  model->to(device);
  if (c.channels_last) {
    to_channels_last(*model);
  }
  const double scale = static_cast<double>(c.batch) / 256.0;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  const auto sgd = [&](double lr) {
    return std::make_unique<torch::optim::SGDOptions>(
        torch::optim::SGDOptions(lr).momentum(sgd_momentum).weight_decay(c.weight_decay));
  };
  std::vector<double> base_lrs{c.lr_classifier * scale};
  groups.emplace_back(model->fc()->parameters(), sgd(base_lrs[0]));
  if (linear) {
    for (auto& p : model->backbone()->parameters()) {
      p.set_requires_grad(false);
    }
  } else {
    base_lrs.push_back(c.lr_backbone * scale);
    groups.emplace_back(model->backbone()->parameters(), sgd(base_lrs[1]));
  }
  multi_tensor_sgd optimizer(std::move(groups), torch::optim::SGDOptions(base_lrs[0]));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 7);

  image_folder_loader_options loader_options;
  loader_options.batch_size = c.batch;
  loader_options.image_size = c.image_size;
  loader_options.filter = crop_filter::bilinear;  // torchvision RandomResizedCrop's default
  loader_options.threads = c.loader_threads;
  loader_options.seed = c.seed;
  loader_options.drop_last = false;
  loader_options.pin_memory = device.is_cuda();  // so the copy to the GPU can overlap
  image_folder_loader loader(train_set, loader_options);
  const center_crop_options val_crop = center_crop_for(c.image_size);

  const run_folder_lock folder_lock(c.out, "--out");  // one run per folder
  const fs::path checkpoint_path = c.out / "eval_checkpoint.pt";
  metrics_log metrics(c.out / "metrics.jsonl");
  loss_scaler scaler(c.amp);  // GradScaler's dynamic loss scale for fp16 (--amp)
  checkpoint_state state;
  if (c.resume) {
    state = load_checkpoint(checkpoint_path, *model, nullptr, optimizer, generator, device);
    if (state.loss_scale.defined() && scaler.enabled()) {
      scaler.set_state(state.loss_scale);
    }
    if (c.channels_last) {  // loaded weights arrive contiguous (NCHW)
      to_channels_last(*model);
    }
    metrics.resume(state.epoch);  // a crash may have left a later epoch's line
    log << "resumed from " << checkpoint_path.string() << " at epoch " << state.epoch << '\n';
  } else {
    metrics.reset();
  }
  if (linear) {  // a loaded checkpoint brings its tensors' flags; the backbone stays frozen
    for (auto& p : model->backbone()->parameters()) {
      p.set_requires_grad(false);
    }
  }
  log << (linear ? "linear evaluation" : "fine-tuning") << " of "
      << (c.random_init ? std::string("a randomly initialised") : c.pretrained.string())
      << " resnet" << c.depth << " (width " << c.width << "): " << train_images
      << " training images" << (c.train_split.empty() ? "" : " from ")
      << (c.train_split.empty() ? std::string() : c.train_split.string()) << ", "
      << val_set.files.size() << " validation images, " << classes << " classes, " << epochs
      << " epochs\n";

  nlohmann::json summary;
  summary["config"] = {
      {"mode", linear ? "linear" : "finetune"},
      {"data", c.data.string()},
      {"pretrained",
       c.random_init ? nlohmann::json(nullptr) : nlohmann::json(c.pretrained.string())},
      {"train_split",
       c.train_split.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.train_split.string())},
      {"depth", c.depth},
      {"width", c.width},
      {"cifar_stem", c.cifar_stem},
      {"classes", classes},
      {"train_images", train_images},
      {"val_images", val_set.files.size()},
      {"epochs", epochs},
      {"batch", c.batch},
      {"lr_classifier", base_lrs[0]},
      {"lr_backbone", linear ? 0.0 : base_lrs[1]},
      {"weight_decay", c.weight_decay},
      {"schedule", c.schedule == eval_schedule::step ? "step" : "cosine"},
      {"milestones", c.milestones},
      {"gamma", c.gamma},
      {"image_size", c.image_size},
      {"val_resize", val_crop.resize_size},
      {"seed", c.seed},
      {"threads", torch::get_num_threads()},
      {"device", device.str()},
      {"amp", c.amp},
      {"channels_last", c.channels_last}};

  progress_bar bar(epochs * loader.batches_per_epoch(), c.progress);
  std::int64_t bar_step = state.epoch * loader.batches_per_epoch();
  std::vector<fs::path> skipped_val;
  bool reported_val_skips = false;
  for (std::int64_t epoch = state.epoch; epoch < epochs; ++epoch) {
    const double factor = eval_lr_factor(c, epoch, epochs);
    for (std::size_t g = 0; g < base_lrs.size(); ++g) {
      static_cast<torch::optim::SGDOptions&>(optimizer.param_groups()[g].options())
          .lr(base_lrs[g] * factor);
    }
    model->train(!linear);  // linear: the frozen backbone's BN stays in eval mode
    const std::int64_t skipped_before = loader.skipped();
    const auto start = std::chrono::steady_clock::now();
    detail::eval_counts train_counts;
    loader.start_epoch(epoch);
    while (auto batch = loader.next()) {
      if (!linear && batch->labels.size(0) < 2) {
        continue;  // BN in training mode needs two samples; only a last batch can be this small
      }
      const torch::Tensor images =
          detail::random_flip(batch->images, generator).to(device, /*non_blocking=*/true);
      const torch::Tensor labels = batch->labels.to(device, /*non_blocking=*/true);
      torch::Tensor logits;
      {
        const autocast_guard autocast(c.amp);  // fp16 products on CUDA, as the reference
        const auto x = to_normalized(images, imagenet_mean, imagenet_std);
        if (linear) {
          torch::Tensor features;
          {
            torch::NoGradGuard no_grad;
            features = model->backbone()->forward(x);
          }
          logits = model->fc()->forward(features);
        } else {
          logits = model->forward(x);
        }
      }
      logits = logits.to(torch::kFloat32);
      const auto loss = torch::nn::functional::cross_entropy(logits, labels);
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        bar.finish_line();
        SPECTRAL_FAIL("the training loss is ", value, " at epoch ", epoch + 1,
                      "; the last good checkpoint is ",
                      fs::exists(checkpoint_path) ? checkpoint_path.string() : "(none yet)");
      }
      optimizer.zero_grad();
      scaler.scale(loss).backward();
      if (scaler.unscale(model->parameters())) {
        optimizer.step();
      }
      {
        torch::NoGradGuard no_grad;
        train_counts.add(logits.detach(), labels);
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      bar.update(
          ++bar_step, epoch + 1, train_counts.loss_sum / static_cast<double>(train_counts.images),
          base_lrs[0] * factor, static_cast<double>(train_counts.images) / std::max(seconds, 1e-9));
    }
    bar.finish_line();
    // Never an epoch, let alone a "completed" run, without a single optimisation step.
    SPECTRAL_EXPECTS(train_counts.images > 0, "epoch ", epoch + 1, ": no training step (",
                     train_images, " training images, --batch ", c.batch,
                     "); every batch was skipped or failed to decode");
    const double train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::int64_t skipped_train = loader.skipped() - skipped_before;
    if (skipped_train > 0) {
      log << "warning: " << skipped_train << " training files did not decode and were skipped\n";
    }
    const detail::eval_counts val = detail::validate_classifier(
        model, val_set, val_crop, c.batch, c.loader_threads, skipped_val, device, c.amp);
    if (!skipped_val.empty() && !reported_val_skips) {
      log << "warning: " << skipped_val.size()
          << " validation files did not decode (first: " << skipped_val.front().string()
          << "); top-1/top-5 are over the other " << val.images << '\n';
      reported_val_skips = true;
    }
    nlohmann::json record = {
        {"epoch", epoch + 1},
        {"loss", train_counts.loss_sum /
                     static_cast<double>(std::max<std::int64_t>(train_counts.images, 1))},
        {"train_top1", train_counts.percent(train_counts.top1)},
        {"val_top1", val.percent(val.top1)},
        {"val_top5", val.percent(val.top5)},
        {"val_loss", val.loss_sum / static_cast<double>(val.images)},
        {"lr_classifier", base_lrs[0] * factor},
        {"images_per_s", static_cast<double>(train_counts.images) / std::max(train_seconds, 1e-9)},
        {"skipped_train", skipped_train},
        {"skipped_val", skipped_val.size()}};
    if (!linear) {
      record["lr_backbone"] = base_lrs[1] * factor;
    }
    // The log line first: a crash before the checkpoint leaves a line that resume trims.
    metrics.write(record);
    state.epoch = epoch + 1;
    state.loss_scale = scaler.enabled() ? scaler.state() : torch::Tensor();
    save_checkpoint(checkpoint_path, *model, nullptr, optimizer, generator, state);
    log << "epoch " << state.epoch << "/" << epochs << ": loss " << record["loss"].get<double>()
        << ", train top-1 " << record["train_top1"].get<double>() << "%, val top-1 "
        << record["val_top1"].get<double>() << "%, top-5 " << record["val_top5"].get<double>()
        << "%\n";
  }

  const std::vector<nlohmann::json>& history = metrics.records();
  if (!history.empty()) {
    summary["final"] = history.back();
    const auto best =
        std::max_element(history.begin(), history.end(), [](const auto& a, const auto& b) {
          return a["val_top1"].template get<double>() < b["val_top1"].template get<double>();
        });
    summary["best"] = *best;
  }
  summary["epochs_completed"] = state.epoch;
  summary["completed"] = state.epoch >= epochs;
  summary["skipped_train_total"] = loader.skipped();  // this process's epochs
  summary["skipped_val_files"] = detail::path_list(skipped_val, 100);
  write_atomically(c.out / "summary.json", summary.dump(2) + "\n");
  return summary;
}

}  // namespace spectral::trainer
