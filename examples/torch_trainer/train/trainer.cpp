// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

#include "train/trainer.hpp"

namespace spectral::trainer {

nlohmann::json train(const train_config& c, std::ostream& log) {
  validate_settings(c);  // every numeric range, before any thread pool, data or file is touched
  // Debian's LibTorch starts with one intra-op thread; use every core unless told otherwise.
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  torch::set_num_threads(c.threads > 0 ? c.threads : static_cast<int>(cores));
  torch::manual_seed(c.seed);
  // Throughput modes (train/throughput.hpp) run on CPU or CUDA; they check their own settings.
  SPECTRAL_EXPECTS(int{c.synthetic} + int{c.loader_only} + int{c.pipeline} <= 1,
                   "--synthetic, --loader-only and --pipeline: choose one");
  if (c.synthetic) {
    return synthetic_throughput(c, log);
  }
  if (c.loader_only) {
    return loader_throughput(c, log);
  }
  if (c.pipeline) {
    return pipeline_throughput(c, log);
  }
  detail::validate(c);
  const bool image_folder_input = c.dataset == "imagefolder";
  const bool lead = c.rank == 0;  // the only rank that evaluates and writes files
  std::ostream quiet(nullptr);    // the other ranks' log: discarded
  std::ostream& out = lead ? log : quiet;
  if (c.eval_only && !lead) {
    return {{"rank", c.rank}};  // the evaluation runs on rank 0 alone
  }
  // One run per folder, refused before any work; rank 0 alone writes there.
  std::optional<run_folder_lock> folder_lock;
  if (lead) {
    folder_lock.emplace(c.out, "--out");
  }
  // A resumed run must be the run that was saved; a new one records what it is.
  if (c.resume && !c.eval_only) {
    if (!std::filesystem::exists(c.out / "checkpoint.pt")) {
      throw std::runtime_error("--resume: no checkpoint at " + (c.out / "checkpoint.pt").string());
    }
    check_resume_matches(c);
  } else if (lead && !c.eval_only) {
    write_atomically(run_config_path(c.out), run_config_record(c).dump(2) + "\n");
  }
  std::optional<dataset_pair> data;
  image_dataset train_set;
  image_dataset bank;
  image_dataset queries;
  std::unique_ptr<image_folder_loader> loader;
  std::int64_t train_images = 0;
  std::int64_t in_channels = 3;
  if (image_folder_input) {
    loader = detail::make_image_folder_loader(c, static_cast<int>(cores));
    train_images = static_cast<std::int64_t>(loader->folder().files.size());
  } else {
    data = load_dataset(c);
    train_set = detail::subset(data->train, c.train_subset, c.seed + 1);
    bank = detail::subset(data->train, c.eval_train_subset, c.seed + 2);
    queries = detail::subset(data->test, c.eval_test_subset, c.seed + 3);
    train_images = train_set.images.size(0);
    in_channels = train_set.images.size(1);
  }
  const std::int64_t steps_per_epoch = train_images / c.batch;  // drop_last
  SPECTRAL_EXPECTS(steps_per_epoch >= 1, "--batch: ", c.batch, " is larger than the ",
                   train_images, " training images");
  const std::int64_t local_batch = c.batch / c.world_size;
  const std::int64_t total_steps = c.epochs * steps_per_epoch;
  // A warm-up longer than the run is cut to the run (short CPU runs keep the default of 2).
  const std::int64_t warmup_steps = std::min(c.warmup_epochs, c.epochs) * steps_per_epoch;
  const torch::Device device = process_device(c.device, c.rank, c.world_size);
  // This rank's GPU is the current one: NCCL, the CUDA bridge and new tensors use it.
  const c10::DeviceGuard device_guard(device);
  // Blocks until every rank has joined (evaluation runs without a group).
  distributed dist(c.eval_only ? dist_config{} : detail::process_group_config(c));

  resnet_options backbone = resnet_options::reference(c.depth, c.cifar_stem);
  backbone.in_channels = in_channels;
  backbone.width = c.width;
  const auto dtype = c.float64 ? torch::kFloat64 : torch::kFloat32;
  // The model, its copy and the optimizer's state live on `device`; channels_last (NHWC) is
  // cuDNN's fastest layout for fp16 convolutions.
  const auto place = [&](Encoder& model) {
    if (c.float64) {  // (to(dtype) also turns the int64 BN counters into floats: only if asked)
      model->to(dtype);
    }
    model->to(device);
    if (c.channels_last) {
      to_channels_last(*model);
    }
  };
  Encoder encoder(backbone, projector_hidden_width(c), c.projector);
  place(encoder);
  use_process_group(*encoder, &dist);  // SyncBN: batch statistics over every rank's rows
  // intl: the online encoder alone; intl_m: the momentum encoder the method owns.
  ssl_method_state method;
  if (c.method == ssl_method::intl_m) {
    method = ssl_method_state(encoder, backbone, projector_hidden_width(c), c.projector,
                              c.momentum0, &dist, place);
  }
  // β from the global batch (spec §6.8 item 1): the transform sees the gathered batch.
  const std::int64_t covariance_size = c.transform.opts.axis == axis::samples ? c.batch : c.projector;
  const double beta = c.beta ? *c.beta : trade_off_beta(covariance_size);
  IntlLoss loss(c.transform, beta);
  const double base_lr = c.lr * static_cast<double>(c.batch) / 256.0;
  torch::optim::SGD optimizer(sgd_parameter_groups(*encoder, c.weight_decay, c.decay_1d),
                              torch::optim::SGDOptions(base_lr).momentum(0.9));
  loss_scaler scaler(c.amp);  // GradScaler's dynamic loss scale for fp16 (--amp)
  // Kept for the checkpoint format; the augmentation is seeded per step (augment_step_seed) so
  // that any number of ranks draws the same random numbers.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 4);
  const std::vector<augment_config> view_configs =
      image_folder_input ? make_image_folder_view_configs(c) : make_view_configs(c, train_set);
  const auto checkpoint_path = c.out / "checkpoint.pt";
  metrics_log metrics(c.out / "metrics.jsonl");
  checkpoint_state state;
  nlohmann::json summary;
  if (c.eval_only) {  // the evaluation protocol on a saved encoder, nothing else
    state = load_checkpoint(checkpoint_path, *encoder, method.teacher_module(), optimizer,
                            generator, device, "--eval-only");
    nlohmann::json result = evaluate_encoder(encoder, *data, bank, queries, true, c.linear_epochs, c.seed);
    result["epoch"] = state.epoch;
    log << "evaluated " << checkpoint_path.string() << " (epoch " << state.epoch << "): "
        << result.dump() << '\n';
    write_atomically(c.out / "evaluation.json", result.dump(2) + "\n");
    return {{"evaluation", result}};
  }
  if (c.resume) {  // every rank reads rank 0's checkpoint
    state = load_checkpoint(checkpoint_path, *encoder, method.teacher_module(), optimizer,
                            generator, device);
    if (state.loss_scale.defined() && scaler.enabled()) {
      scaler.set_state(state.loss_scale);
    }
    if (c.channels_last) {  // loaded weights arrive contiguous (NCHW)
      to_channels_last(*encoder);
      if (method.momentum()) {
        to_channels_last(*method.teacher());
      }
    }
    out << "resumed from " << checkpoint_path.string() << " at epoch " << state.epoch << ", step "
        << state.step << '\n';
    if (lead && std::filesystem::exists(c.out / "summary.json")) {
      std::ifstream in(c.out / "summary.json");
      summary = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (summary.is_discarded()) {
        summary = nlohmann::json::object();
      }
    }
  }
  // Identical seeds already give identical models; the broadcast makes it a guarantee.
  broadcast_module_state(*encoder, dist);
  if (method.momentum()) {
    broadcast_module_state(*method.teacher(), dist);
  }
  if (c.resume && lead) {
    metrics.resume(state.epoch);
  }
  if (!c.resume && lead) {
    metrics.reset();
    if (c.evaluate_random_init && data) {
      log << "evaluating the randomly initialised encoder ...\n";
      summary["random_init"] = evaluate_encoder(encoder, *data, bank, queries, true, c.linear_epochs, c.seed);
      log << "random init: 5-NN top-1 " << summary["random_init"]["knn_top1"].get<double>()
          << "%, linear top-1 " << summary["random_init"]["linear_top1"].get<double>() << "%\n";
    }
  }
  summary["config"] = {{"dataset", c.dataset}, {"train_images", train_images},
                       {"eval_bank", data ? bank.images.size(0) : 0},
                       {"eval_queries", data ? queries.images.size(0) : 0},
                       {"depth", c.depth}, {"width", c.width}, {"projector", c.projector},
                       {"projector_hidden", projector_hidden_width(c)}, {"recipe", c.recipe},
                       {"method", c.method == ssl_method::intl ? "intl" : "intl_m"},
                       {"views", view_configs.size()},
                       {"transform", c.transform.method.name},
                       {"axis", std::string(to_string(c.transform.opts.axis))},
                       {"iterations", c.transform.method.iterations}, {"beta", beta},
                       {"epochs", c.epochs}, {"batch", c.batch}, {"base_lr", base_lr},
                       {"weight_decay", c.weight_decay}, {"seed", c.seed},
                       {"threads", torch::get_num_threads()}, {"world_size", c.world_size},
                       {"batch_per_rank", local_batch}, {"float64", c.float64},
                       {"device", device.str()}, {"amp", c.amp},
                       {"channels_last", c.channels_last}};
  if (loader) {
    summary["config"]["image_size"] = c.image_size;
    summary["config"]["loader_threads"] = loader->options().threads;
  }

  // The epoch's record is written before its evaluation and completed after (metrics_log): a run
  // killed while evaluating left it pending, and the checkpoint holds that epoch's encoder.
  const auto complete_record = [&](nlohmann::json record) {
    const bool last = record["epoch"].get<std::int64_t>() == c.epochs;
    out << "epoch " << record["epoch"].get<std::int64_t>() << ": evaluating ..." << std::endl;
    record.erase(metrics_log::pending_key);
    record.update(evaluate_encoder(encoder, *data, bank, queries, last, c.linear_epochs, c.seed));
    metrics.write(record);
    if (last) {
      summary["final"] = record;
    }
    return record;
  };
  if (lead && data) {
    if (const nlohmann::json* pending = metrics.pending(state.epoch)) {
      const nlohmann::json record = complete_record(*pending);
      log << "completed the interrupted evaluation of epoch " << state.epoch << ": "
          << record.dump() << '\n';
    }
  }

  progress_bar bar(total_steps, c.progress && lead);
  double last_loss = std::nan("");
  bool stopped_early = false;
  std::int64_t skipped_files = 0;  // over every rank and epoch (a resumed run continues the count)
  if (summary.is_object() && summary.contains("skipped_files")) {
    skipped_files = summary["skipped_files"].get<std::int64_t>();
  }
  // Every rank holds the same loss of the global batch (spec §4.9): the step gathers the
  // projections and averages the gradients over the ranks.
  training_step step(encoder, method, loss, optimizer, scaler, {c.amp, &dist});
  encoder->train();
  for (std::int64_t epoch = state.epoch; epoch < c.epochs && !stopped_early; ++epoch) {
    // The same permutation on every rank; rank r takes rows [r·n, (r+1)·n) of each global batch.
    torch::Tensor order;
    std::int64_t skipped_before = 0;
    if (loader) {
      skipped_before = loader->skipped();
      loader->start_epoch(epoch);  // the loader shards the same way (shard_rank/shard_count)
    } else {
      auto order_generator = at::make_generator<at::CPUGeneratorImpl>(c.seed + 1000 + static_cast<std::uint64_t>(epoch));
      order = torch::randperm(train_set.images.size(0), order_generator, torch::kInt64);
    }
    double loss_sum = 0.0;
    std::int64_t loss_count = 0;
    double lr = base_lr;
    const auto epoch_start = std::chrono::steady_clock::now();
    for (std::int64_t s = 0; s < steps_per_epoch; ++s) {
      if (c.max_steps > 0 && state.step >= c.max_steps) {
        stopped_early = true;
        break;
      }
      std::vector<torch::Tensor> sources;  // this rank's uint8 images, one tensor per decoded crop
      if (loader) {
        std::optional<image_folder_batch> batch = loader->next();
        // Skipped files can leave a rank one batch short: the epoch ends for every rank.
        if (!dist.all_true(batch.has_value())) {
          break;
        }
        sources = batch->views.empty() ? std::vector<torch::Tensor>{batch->images} : batch->views;
      } else {
        const std::int64_t begin = s * c.batch + c.rank * local_batch;
        sources = {train_set.images.index_select(0, order.slice(0, begin, begin + local_batch))};
      }
      auto step_generator =
          at::make_generator<at::CPUGeneratorImpl>(detail::augment_step_seed(c.seed, state.step));
      std::vector<torch::Tensor> views;
      for (std::size_t v = 0; v < view_configs.size(); ++v) {
        const torch::Tensor& source = sources[v % sources.size()];
        // Pinned loader memory: the copy is asynchronous and the augmentation runs on the GPU.
        torch::Tensor view = detail::augment_rows(source.to(device, /*non_blocking=*/true),
                                                  view_configs[v], step_generator, c.rank,
                                                  c.world_size)
                                 .to(dtype);
        views.push_back(c.channels_last ? view.contiguous(torch::MemoryFormat::ChannelsLast)
                                        : view);
      }
      lr = learning_rate(base_lr, state.step, warmup_steps, total_steps);
      set_learning_rate(optimizer, lr);
      const auto diverged = [&](const std::string& what) {
        bar.finish_line();
        SPECTRAL_FAIL("training diverged at step ", state.step, " (epoch ", epoch + 1, "): ", what,
                      "; stopped, the last good checkpoint is ",
                      std::filesystem::exists(checkpoint_path) ? checkpoint_path.string()
                                                               : std::string("(none yet)"));
      };
      intl_terms terms;
      try {
        terms = step.run(views, state.step, total_steps);
      } catch (const spectral::invalid_input& e) {  // NaN/Inf embeddings reach the transform
        diverged(e.what());
      } catch (const spectral::numerical_error& e) {
        diverged(e.what());
      }
      // Read after the update was queued: a non-finite loss stops the run before the epoch's
      // checkpoint, so the last good checkpoint is what --resume finds.
      last_loss = terms.total.item<double>();
      if (!std::isfinite(last_loss)) {
        diverged("the loss is " + std::to_string(last_loss));
      }
      ++state.step;
      loss_sum += last_loss;
      ++loss_count;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      bar.update(state.step, epoch + 1, loss_sum / static_cast<double>(loss_count), lr,
                 static_cast<double>(loss_count * c.batch) / std::max(seconds, 1e-9));
    }
    std::int64_t epoch_skipped = 0;
    if (loader) {
      if (!stopped_early) {  // count the rest of the epoch's files too (at most a batch or so)
        while (loader->next()) {
        }
      }
      epoch_skipped = dist.sum(loader->skipped() - skipped_before);  // over every rank's shard
      skipped_files += epoch_skipped;
      if (epoch_skipped > 0) {
        out << "epoch " << epoch + 1 << ": " << epoch_skipped
            << " files did not decode and were skipped\n";
      }
    }
    if (stopped_early && loss_count < steps_per_epoch) {
      break;  // a partial epoch is not checkpointed: resume restarts at an epoch boundary
    }
    bar.finish_line();
    state.epoch = epoch + 1;
    if (!lead) {
      continue;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    nlohmann::json record = {{"epoch", state.epoch}, {"step", state.step},
                             {"loss", loss_sum / static_cast<double>(std::max<std::int64_t>(loss_count, 1))},
                             {"lr", lr},
                             {"images_per_s", static_cast<double>(loss_count * c.batch) / seconds}};
    if (loader) {
      record["skipped_files"] = epoch_skipped;
    }
    const bool last = state.epoch == c.epochs;
    // ImageNet is evaluated by its own program (linear evaluation), not per epoch here.
    const bool evaluate = data && (last || (c.knn_every > 0 && state.epoch % c.knn_every == 0));
    if (evaluate) {
      record[metrics_log::pending_key] = "pending";
    }
    // The record before the checkpoint: a crash between them resumes from the previous
    // checkpoint, which drops this record and trains the epoch again.
    metrics.write(record);
    // Without --amp no scale is kept (a resumed AMP checkpoint's scale is not carried on).
    state.loss_scale = scaler.enabled() ? scaler.state() : torch::Tensor();
    save_checkpoint(checkpoint_path, *encoder, method.teacher_module(), optimizer,
                    generator, state);
    if (evaluate) {
      record = complete_record(record);
    }
    log << "epoch " << state.epoch << "/" << c.epochs << ": " << record.dump() << '\n';
  }
  dist.barrier();  // nobody leaves while a peer may still need the group
  if (!lead) {
    return {{"rank", c.rank}, {"steps", state.step}, {"last_step_loss", last_loss}};
  }
  summary["steps"] = state.step;
  summary["last_step_loss"] = last_loss;
  summary["completed"] = state.epoch == c.epochs;
  if (scaler.enabled()) {
    // Steps skipped for overflowed fp16 gradients since the run began (resumes continue it).
    summary["amp_skipped_steps"] = scaler.skipped();
  }
  if (loader) {
    summary["skipped_files"] = skipped_files;
    log << "skipped files (did not decode): " << skipped_files << '\n';
  }
  write_atomically(c.out / "summary.json", summary.dump(2) + "\n");
  if (state.epoch > 0 && !plot_metrics(c.out, metrics.records())) {
    log << "warning: gnuplot is missing or failed; metrics.jsonl has the numbers, no PNG plots\n";
  }
  return summary;
}

}  // namespace spectral::trainer
