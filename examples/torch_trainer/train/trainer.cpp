// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// train(): mode dispatch, then a training_run: setup (data, device, process group, model,
// method, optimiser), start or resume, then per epoch train_one_epoch() → record and
// checkpoint → evaluation, and the summary.

#include "train/trainer.hpp"

namespace spectral::trainer {
namespace {

/// The data a run trains and evaluates on: an ImageFolder loader (no evaluation here), or
/// in-memory data sets with the evaluation's bank and queries.
struct run_data {
  std::optional<dataset_pair> sets;
  image_dataset train_set;
  image_dataset bank;
  image_dataset queries;
  std::unique_ptr<image_folder_loader> loader;
  std::int64_t train_images = 0;
  std::int64_t in_channels = 3;
};

run_data load_run_data(const train_config& c, int cores) {
  run_data d;
  if (c.dataset == "imagefolder") {
    d.loader = detail::make_image_folder_loader(c, cores);
    d.train_images = static_cast<std::int64_t>(d.loader->folder().files.size());
    return d;
  }
  d.sets = load_dataset(c);
  d.train_set = detail::subset(d.sets->train, c.train_subset, c.seed + 1);
  d.bank = detail::subset(d.sets->train, c.eval_train_subset, c.seed + 2);
  d.queries = detail::subset(d.sets->test, c.eval_test_subset, c.seed + 3);
  d.train_images = d.train_set.images.size(0);
  d.in_channels = d.train_set.images.size(1);
  return d;
}

/// A run's schedule in optimisation steps.
struct run_schedule {
  std::int64_t steps_per_epoch = 0;  ///< drop_last
  std::int64_t local_batch = 0;      ///< this rank's rows of the global batch
  std::int64_t total_steps = 0;
  std::int64_t warmup_steps = 0;
  double base_lr = 0.0;  ///< lr · batch / 256
};

run_schedule make_schedule(const train_config& c, std::int64_t train_images) {
  run_schedule s;
  s.steps_per_epoch = train_images / c.batch;
  SPECTRAL_EXPECTS(s.steps_per_epoch >= 1, "--batch: ", c.batch, " is larger than the ",
                   train_images, " training images");
  s.local_batch = c.batch / c.world_size;
  s.total_steps = c.epochs * s.steps_per_epoch;
  // A warm-up longer than the run is cut to the run (short CPU runs keep the default of 2).
  s.warmup_steps = std::min(c.warmup_epochs, c.epochs) * s.steps_per_epoch;
  s.base_lr = c.lr * static_cast<double>(c.batch) / 256.0;
  return s;
}

/// What one epoch of training did.
struct epoch_result {
  double loss_sum = 0.0;
  std::int64_t steps = 0;
  double lr = 0.0;  ///< at the epoch's last step
  double seconds = 0.0;
  std::int64_t skipped_files = 0;  ///< over every rank's shard
  bool stopped_early = false;      ///< --max-steps reached
};

/// One training run (or the evaluation of its checkpoint), from setup to summary.
class training_run {
 public:
  training_run(const train_config& c, std::ostream& log, run_data data)
      : c_(c),
        log_(log),
        lead_(c.rank == 0),
        out_(lead_ ? log : quiet_),
        data_(std::move(data)),
        schedule_(make_schedule(c, data_.train_images)),
        device_(process_device(c.device, c.rank, c.world_size)),
        // This rank's GPU is the current one: NCCL, the CUDA bridge and new tensors use it.
        device_guard_(device_),
        // Blocks until every rank has joined (evaluation runs without a group).
        dist_(c.eval_only ? dist_config{} : detail::process_group_config(c)),
        backbone_(run_backbone(c, data_.in_channels)),
        dtype_(c.float64 ? torch::kFloat64 : torch::kFloat32),
        encoder_(make_encoder()),
        beta_(trace_loss_weight(c)),
        loss_(c.transform, beta_),
        optimizer_(sgd_parameter_groups(*encoder_, c.weight_decay, c.decay_1d),
                   torch::optim::SGDOptions(schedule_.base_lr).momentum(0.9)),
        scaler_(c.amp && !c.amp_bf16),  // GradScaler's dynamic loss scale for fp16 (--amp)
        // Kept for the checkpoint format; the augmentation is seeded per step
        // (augment_step_seed) so that any number of ranks draws the same random numbers.
        generator_(at::make_generator<at::CPUGeneratorImpl>(c.seed + 4)),
        view_configs_(data_.loader ? make_image_folder_view_configs(c)
                                   : make_view_configs(c, data_.train_set)),
        checkpoint_path_(c.out / "checkpoint.pt"),
        metrics_(c.out / "metrics.jsonl") {
    // intl: the online encoder alone; intl_m: the momentum encoder the method owns.
    if (c.method == ssl_method::intl_m) {
      method_ = ssl_method_state(encoder_, backbone_, projector_hidden_width(c), c.projector,
                                 c.momentum0, &dist_, [this](Encoder& model) { place(model); });
    }
  }

  training_run(const training_run&) = delete;
  training_run& operator=(const training_run&) = delete;

  /// --eval-only: the evaluation protocol on the saved encoder, nothing else (rank 0).
  nlohmann::json evaluate_checkpoint() {
    state_ = load_checkpoint(checkpoint_path_, *encoder_, method_.teacher_module(), optimizer_,
                             generator_, device_, "--eval-only");
    nlohmann::json result = evaluate_encoder(encoder_, *data_.sets, data_.bank, data_.queries, true,
                                             c_.linear_epochs, c_.seed);
    result["epoch"] = state_.epoch;
    log_ << "evaluated " << checkpoint_path_.string() << " (epoch " << state_.epoch
         << "): " << result.dump() << '\n';
    write_atomically(c_.out / "evaluation.json", result.dump(2) + "\n");
    return {{"evaluation", result}};
  }

  /// Trains from the start or from the checkpoint to --epochs (or --max-steps).
  nlohmann::json train() {
    if (c_.resume) {
      resume();
    } else {
      start();
    }
    record_config();
    if (lead_ && data_.sets) {
      if (const nlohmann::json* pending = metrics_.pending(state_.epoch)) {
        const nlohmann::json record = complete_record(*pending);
        log_ << "completed the interrupted evaluation of epoch " << state_.epoch << ": "
             << record.dump() << '\n';
      }
    }
    if (summary_.is_object() && summary_.contains("skipped_files")) {
      skipped_files_ = summary_["skipped_files"].get<std::int64_t>();
    }
    progress_bar bar(schedule_.total_steps, c_.progress && lead_);
    // Every rank holds the same loss of the global batch (docs/math.md#distributed-gather): the
    // step gathers the projections and averages the gradients over the ranks.
    training_step step(encoder_, method_, loss_, optimizer_, scaler_,
                       {c_.amp, c_.amp_bf16, &dist_});
    encoder_->train();
    bool stopped_early = false;
    for (std::int64_t epoch = state_.epoch; epoch < c_.epochs && !stopped_early; ++epoch) {
      const epoch_result r = train_one_epoch(epoch, step, bar);
      stopped_early = r.stopped_early;
      if (r.stopped_early && r.steps < schedule_.steps_per_epoch) {
        break;  // a partial epoch is not checkpointed: resume restarts at an epoch boundary
      }
      bar.finish_line();
      state_.epoch = epoch + 1;
      if (lead_) {
        end_epoch(r);
      }
    }
    dist_.barrier();  // nobody leaves while a peer may still need the group
    return finish();
  }

 private:
  /// The online encoder, placed, its BN synchronised over the ranks (SyncBN).
  Encoder make_encoder() {
    Encoder encoder(backbone_, projector_hidden_width(c_), c_.projector);
    place(encoder);
    use_process_group(*encoder, &dist_);
    return encoder;
  }

  /// The model and its copy live on the device; channels_last (NHWC) is cuDNN's fastest
  /// layout for fp16 convolutions.
  void place(Encoder& model) const {
    if (c_.float64) {  // (to(dtype) also turns the int64 BN counters into floats: only if asked)
      model->to(dtype_);
    }
    model->to(device_);
    if (c_.channels_last) {
      to_channels_last(*model);
    }
  }

  void start() {
    broadcast_state();
    if (!lead_) {
      return;
    }
    metrics_.reset();
    if (c_.evaluate_random_init && data_.sets) {
      log_ << "evaluating the randomly initialised encoder ...\n";
      summary_["random_init"] = evaluate_encoder(encoder_, *data_.sets, data_.bank, data_.queries,
                                                 true, c_.linear_epochs, c_.seed);
      log_ << "random init: 5-NN top-1 " << summary_["random_init"]["knn_top1"].get<double>()
           << "%, linear top-1 " << summary_["random_init"]["linear_top1"].get<double>() << "%\n";
    }
  }

  /// Every rank reads rank 0's checkpoint.
  void resume() {
    state_ = load_checkpoint(checkpoint_path_, *encoder_, method_.teacher_module(), optimizer_,
                             generator_, device_);
    if (state_.loss_scale.defined() && scaler_.enabled()) {
      scaler_.set_state(state_.loss_scale);
    }
    if (c_.channels_last) {  // loaded weights arrive contiguous (NCHW)
      to_channels_last(*encoder_);
      if (method_.momentum()) {
        to_channels_last(*method_.teacher());
      }
    }
    out_ << "resumed from " << checkpoint_path_.string() << " at epoch " << state_.epoch
         << ", step " << state_.step << '\n';
    if (lead_ && std::filesystem::exists(c_.out / "summary.json")) {
      std::ifstream in(c_.out / "summary.json");
      summary_ = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (summary_.is_discarded()) {
        summary_ = nlohmann::json::object();
      }
    }
    broadcast_state();
    if (lead_) {
      metrics_.resume(state_.epoch);
    }
  }

  /// Identical seeds already give identical models; the broadcast makes it a guarantee.
  void broadcast_state() {
    broadcast_module_state(*encoder_, dist_);
    if (method_.momentum()) {
      broadcast_module_state(*method_.teacher(), dist_);
    }
  }

  void record_config() {
    summary_["config"] = {{"dataset", c_.dataset},
                          {"train_images", data_.train_images},
                          {"eval_bank", data_.sets ? data_.bank.images.size(0) : 0},
                          {"eval_queries", data_.sets ? data_.queries.images.size(0) : 0},
                          {"depth", c_.depth},
                          {"width", c_.width},
                          {"projector", c_.projector},
                          {"projector_hidden", projector_hidden_width(c_)},
                          {"recipe", c_.recipe},
                          {"method", c_.method == ssl_method::intl ? "intl" : "intl_m"},
                          {"views", view_configs_.size()},
                          {"transform", c_.transform.method.name},
                          {"axis", std::string(to_string(c_.transform.opts.axis))},
                          {"iterations", c_.transform.method.iterations},
                          {"beta", beta_},
                          {"epochs", c_.epochs},
                          {"batch", c_.batch},
                          {"base_lr", schedule_.base_lr},
                          {"weight_decay", c_.weight_decay},
                          {"seed", c_.seed},
                          {"threads", torch::get_num_threads()},
                          {"world_size", c_.world_size},
                          {"batch_per_rank", schedule_.local_batch},
                          {"float64", c_.float64},
                          {"device", device_.str()},
                          {"amp", c_.amp},
                          {"amp_dtype", c_.amp ? (c_.amp_bf16 ? "bf16" : "fp16") : "none"},
                          {"channels_last", c_.channels_last}};
    if (data_.loader) {
      summary_["config"]["image_size"] = c_.image_size;
      summary_["config"]["loader_threads"] = data_.loader->options().threads;
    }
  }

  /// This rank's augmented views of step `s` of `epoch` (`order`: the in-memory permutation),
  /// or nothing when the loader ran out on some rank (skipped files): the epoch then ends on
  /// every rank.
  std::optional<std::vector<torch::Tensor>> next_views(std::int64_t s, const torch::Tensor& order) {
    std::vector<torch::Tensor> sources;  // this rank's uint8 images, one tensor per decoded crop
    if (data_.loader) {
      std::optional<image_folder_batch> batch = data_.loader->next();
      if (!dist_.all_true(batch.has_value())) {
        return std::nullopt;
      }
      sources = batch->views.empty() ? std::vector<torch::Tensor>{batch->images} : batch->views;
    } else {
      // The same permutation on every rank; rank r takes rows [r·n, (r+1)·n) of each global
      // batch.
      const std::int64_t begin = s * c_.batch + c_.rank * schedule_.local_batch;
      sources = {data_.train_set.images.index_select(
          0, order.slice(0, begin, begin + schedule_.local_batch))};
    }
    auto step_generator =
        at::make_generator<at::CPUGeneratorImpl>(detail::augment_step_seed(c_.seed, state_.step));
    std::vector<torch::Tensor> views;
    for (std::size_t v = 0; v < view_configs_.size(); ++v) {
      const torch::Tensor& source = sources[v % sources.size()];
      // Pinned loader memory: the copy is asynchronous and the augmentation runs on the GPU.
      torch::Tensor view =
          detail::augment_rows(source.to(device_, /*non_blocking=*/true), view_configs_[v],
                               step_generator, c_.rank, c_.world_size)
              .to(dtype_);
      views.push_back(c_.channels_last ? view.contiguous(torch::MemoryFormat::ChannelsLast) : view);
    }
    return views;
  }

  epoch_result train_one_epoch(std::int64_t epoch, training_step& step, progress_bar& bar) {
    torch::Tensor order;
    std::int64_t skipped_before = 0;
    if (data_.loader) {
      skipped_before = data_.loader->skipped();
      data_.loader->start_epoch(epoch);  // the loader shards the same way (shard_rank/count)
    } else {
      auto order_generator = at::make_generator<at::CPUGeneratorImpl>(
          c_.seed + 1000 + static_cast<std::uint64_t>(epoch));
      order = torch::randperm(data_.train_set.images.size(0), order_generator, torch::kInt64);
    }
    epoch_result r;
    r.lr = schedule_.base_lr;
    const auto epoch_start = std::chrono::steady_clock::now();
    for (std::int64_t s = 0; s < schedule_.steps_per_epoch; ++s) {
      if (c_.max_steps > 0 && state_.step >= c_.max_steps) {
        r.stopped_early = true;
        break;
      }
      std::optional<std::vector<torch::Tensor>> views = next_views(s, order);
      if (!views) {
        break;
      }
      r.lr = learning_rate(schedule_.base_lr, state_.step, schedule_.warmup_steps,
                           schedule_.total_steps);
      set_learning_rate(optimizer_, r.lr);
      const auto diverged = [&](const std::string& what) {
        bar.finish_line();
        SPECTRAL_FAIL("training diverged at step ", state_.step, " (epoch ", epoch + 1, "): ", what,
                      "; stopped, the last good checkpoint is ",
                      std::filesystem::exists(checkpoint_path_) ? checkpoint_path_.string()
                                                                : std::string("(none yet)"));
      };
      intl_terms terms;
      try {
        terms = step.run(*views, state_.step, schedule_.total_steps);
      } catch (const spectral::invalid_input& e) {  // NaN/Inf embeddings reach the transform
        diverged(e.what());
      } catch (const spectral::numerical_error& e) {
        diverged(e.what());
      }
      // Read after the update was queued: a non-finite loss stops the run before the epoch's
      // checkpoint, so the last good checkpoint is what --resume finds.
      last_loss_ = terms.total.item<double>();
      if (!std::isfinite(last_loss_)) {
        diverged("the loss is " + std::to_string(last_loss_));
      }
      ++state_.step;
      r.loss_sum += last_loss_;
      ++r.steps;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      bar.update(state_.step, epoch + 1, r.loss_sum / static_cast<double>(r.steps), r.lr,
                 static_cast<double>(r.steps * c_.batch) / std::max(seconds, 1e-9));
    }
    if (data_.loader) {
      if (!r.stopped_early) {  // count the rest of the epoch's files too (at most a batch or so)
        while (data_.loader->next()) {
        }
      }
      r.skipped_files = dist_.sum(data_.loader->skipped() - skipped_before);
      skipped_files_ += r.skipped_files;
      if (r.skipped_files > 0) {
        out_ << "epoch " << epoch + 1 << ": " << r.skipped_files
             << " files did not decode and were skipped\n";
      }
    }
    r.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    return r;
  }

  /// Rank 0 after an epoch: its record, the checkpoint, then its evaluation when due.
  void end_epoch(const epoch_result& r) {
    nlohmann::json record = {
        {"epoch", state_.epoch},
        {"step", state_.step},
        {"loss", r.loss_sum / static_cast<double>(std::max<std::int64_t>(r.steps, 1))},
        {"lr", r.lr},
        {"images_per_s", static_cast<double>(r.steps * c_.batch) / r.seconds}};
    if (data_.loader) {
      record["skipped_files"] = r.skipped_files;
    }
    const bool last = state_.epoch == c_.epochs;
    // ImageNet is evaluated by its own program (linear evaluation), not per epoch here.
    const bool evaluate =
        data_.sets && (last || (c_.knn_every > 0 && state_.epoch % c_.knn_every == 0));
    if (evaluate) {
      record[metrics_log::pending_key] = "pending";
    }
    // The record before the checkpoint: a crash between them resumes from the previous
    // checkpoint, which drops this record and trains the epoch again.
    metrics_.write(record);
    // Without fp16 loss scaling no scale is kept (a resumed AMP checkpoint's is not carried on).
    state_.loss_scale = scaler_.enabled() ? scaler_.state() : torch::Tensor();
    save_checkpoint(checkpoint_path_, *encoder_, method_.teacher_module(), optimizer_, generator_,
                    state_);
    // A new run's configuration goes beside its first checkpoint, not before: a run that dies
    // earlier leaves the folder's previous checkpoint and configuration paired.
    if (!config_recorded_) {
      write_atomically(run_config_path(c_.out), run_config_record(c_).dump(2) + "\n");
      config_recorded_ = true;
    }
    if (evaluate) {
      record = complete_record(record);
    }
    log_ << "epoch " << state_.epoch << "/" << c_.epochs << ": " << record.dump() << '\n';
  }

  /// The epoch's record is written before its evaluation and completed after (metrics_log): a
  /// run killed while evaluating left it pending, and the checkpoint holds that epoch's encoder.
  nlohmann::json complete_record(nlohmann::json record) {
    const bool last = record["epoch"].get<std::int64_t>() == c_.epochs;
    out_ << "epoch " << record["epoch"].get<std::int64_t>() << ": evaluating ..." << std::endl;
    record.erase(metrics_log::pending_key);
    record.update(evaluate_encoder(encoder_, *data_.sets, data_.bank, data_.queries, last,
                                   c_.linear_epochs, c_.seed));
    metrics_.write(record);
    if (last) {
      summary_["final"] = record;
    }
    return record;
  }

  nlohmann::json finish() {
    if (!lead_) {
      return {{"rank", c_.rank}, {"steps", state_.step}, {"last_step_loss", last_loss_}};
    }
    summary_["steps"] = state_.step;
    summary_["last_step_loss"] = last_loss_;
    summary_["completed"] = state_.epoch == c_.epochs;
    if (scaler_.enabled()) {
      // Steps skipped for overflowed fp16 gradients since the run began (resumes continue it).
      summary_["amp_skipped_steps"] = scaler_.skipped();
    }
    if (data_.loader) {
      summary_["skipped_files"] = skipped_files_;
      log_ << "skipped files (did not decode): " << skipped_files_ << '\n';
    }
    write_atomically(c_.out / "summary.json", summary_.dump(2) + "\n");
    if (state_.epoch > 0 && !plot_metrics(c_.out, metrics_.records())) {
      log_ << "warning: gnuplot is missing or failed; metrics.jsonl has the numbers, no PNG "
              "plots\n";
    }
    return summary_;
  }

  const train_config& c_;
  std::ostream& log_;
  bool lead_;                    // the only rank that evaluates and writes files
  std::ostream quiet_{nullptr};  // the other ranks' log: discarded
  std::ostream& out_;
  run_data data_;
  run_schedule schedule_;
  torch::Device device_;
  c10::DeviceGuard device_guard_;
  distributed dist_;
  resnet_options backbone_;
  torch::ScalarType dtype_;
  Encoder encoder_;
  ssl_method_state method_;
  double beta_;
  IntlLoss loss_;
  multi_tensor_sgd optimizer_;
  loss_scaler scaler_;
  at::Generator generator_;
  std::vector<augment_config> view_configs_;
  std::filesystem::path checkpoint_path_;
  metrics_log metrics_;
  checkpoint_state state_;
  nlohmann::json summary_;
  double last_loss_ = std::nan("");
  std::int64_t skipped_files_ = 0;    // over every rank and epoch (a resumed run continues it)
  bool config_recorded_ = c_.resume;  // run_config.json matches the checkpoint
};

}  // namespace

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
  const bool lead = c.rank == 0;
  if (c.eval_only && !lead) {
    return {{"rank", c.rank}};  // the evaluation runs on rank 0 alone
  }
  // One run per folder, refused before any work; rank 0 alone writes there.
  std::optional<run_folder_lock> folder_lock;
  if (lead) {
    folder_lock.emplace(c.out, "--out");
  }
  // A resumed run must be the run that was saved (a new one records what it is with its first
  // checkpoint).
  if (c.resume && !c.eval_only) {
    if (!std::filesystem::exists(c.out / "checkpoint.pt")) {
      throw std::runtime_error("--resume: no checkpoint at " + (c.out / "checkpoint.pt").string());
    }
    check_resume_matches(c);
  }
  training_run run(c, log, load_run_data(c, static_cast<int>(cores)));
  return c.eval_only ? run.evaluate_checkpoint() : run.train();
}

}  // namespace spectral::trainer
