// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// intl_train: INTL pretraining and evaluation with the spectral library's IterNorm (or any other
// instance) inside a LibTorch model. The defaults are a recipe of the reference's
// (train/recipes.hpp), chosen by --recipe or from --dataset; without either, the Fashion-MNIST
// main job from Debian's dataset-fashion-mnist package. Every setting is range-checked before
// any work; failures are one line on stderr with the exit codes of cli_exit.hpp.

#include "cli_exit.hpp"
#include "train/recipes.hpp"
#include "train/run_config.hpp"
#include "train/trainer.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

/// What the flags say beyond train_config's own fields: names that pick a type, and the
/// per-view lists that become train_config::views.
struct flag_values {
  std::string recipe;
  std::string method, transform, axis, arch, engine, amp_dtype;
  std::vector<std::int64_t> crop_sizes;
  std::vector<double> min_scales, max_scales, blur_probs, solarize_probs;
  bool print_config = false;

  explicit flag_values(const spectral::trainer::train_config& c)
      : recipe(c.recipe),
        method(c.method == spectral::trainer::ssl_method::intl ? "intl" : "intl_m"),
        transform(c.transform.method.name),
        axis(std::string(spectral::to_string(c.transform.opts.axis))),
        arch(c.depth == 50 ? "resnet50" : "resnet18"),
        engine(c.transform.engine == spectral::trainer::transform_engine::library ? "library"
                                                                                  : "reference"),
        amp_dtype(c.amp_bf16 ? "bf16" : "fp16") {}

  /// The names into the configuration (CLI11's IsMember has checked each).
  void apply(spectral::trainer::train_config& c) const {
    c.transform.method.name = transform;
    c.transform.opts.axis = axis == "samples" ? spectral::axis::samples : spectral::axis::features;
    c.method = method == "intl" ? spectral::trainer::ssl_method::intl
                                : spectral::trainer::ssl_method::intl_m;
    c.depth = arch == "resnet18" ? 18 : 50;
    c.transform.engine = engine == "library" ? spectral::trainer::transform_engine::library
                                             : spectral::trainer::transform_engine::reference;
    c.amp_bf16 = amp_dtype == "bf16";
    c.views = spectral::trainer::views_from_lists(c, crop_sizes, min_scales, max_scales, blur_probs,
                                                  solarize_probs);
  }
};

std::string recipes_help() {
  std::string text =
      "Recipes (--recipe; default from --dataset: imagefolder -> imagenet, else the "
      "data set's own; the defaults above are fashion-mnist's, --print-config shows "
      "a recipe's):\n";
  for (const auto& r : spectral::trainer::recipes) {
    text += "  " + std::string(r.name) + ": " + std::string(r.summary) + "\n";
  }
  return text;
}

/// Every flag, bound to `c` (whose values are the defaults) and `f`.
void add_flags(CLI::App& app, spectral::trainer::train_config& c, flag_values& f) {
  using spectral::trainer::range;
  namespace limits = spectral::trainer::limits;
  std::vector<std::string> recipe_names;
  for (const auto& r : spectral::trainer::recipes) {
    recipe_names.emplace_back(r.name);
  }
  app.footer(recipes_help() + spectral::trainer::exit_codes_help);
  app.add_option("--recipe", f.recipe,
                 "the reference recipe whose values are the defaults (listed below); every flag "
                 "overrides its value")
      ->check(CLI::IsMember(recipe_names));
  app.add_flag("--print-config", f.print_config,
               "print the effective configuration as one JSON object (keys: the flag names) and "
               "exit, touching no data");
  app.add_option("--dataset", c.dataset, "fashion-mnist | cifar10 | cifar100 | imagefolder")
      ->check(CLI::IsMember({"fashion-mnist", "cifar10", "cifar100", "imagefolder"}))
      ->capture_default_str();
  app.add_option("--data", c.data,
                 "dataset folder (IDX .gz files, CIFAR .bin files, or an ImageFolder root with "
                 "train/<class>/*.JPEG)")
      ->capture_default_str();
  app.add_option("--out", c.out, "output folder: checkpoint, metrics.jsonl, summary.json, plots")
      ->capture_default_str();
  app.add_option("--epochs", c.epochs,
                 "pretraining epochs" + range<std::int64_t>(1, limits::epochs))
      ->capture_default_str();
  app.add_option("--batch", c.batch,
                 "batch size (global)" + range<std::int64_t>(4, limits::batch) +
                     "; with the automatic --beta and --axis samples at least 8")
      ->capture_default_str();
  app.add_option("--lr", c.lr,
                 "learning rate; base_lr = lr * batch / 256 (> 0, at most " +
                     std::to_string(static_cast<int>(limits::lr)) + ")")
      ->capture_default_str();
  app.add_option("--wd", c.weight_decay, "weight decay" + range(0.0, limits::weight_decay))
      ->capture_default_str();
  app.add_flag("--decay-1d,!--no-decay-1d", c.decay_1d,
               "weight decay on biases and BN parameters too (CIFAR recipes) or not (ImageNet "
               "recipes)");
  app.add_option("--warmup-epochs", c.warmup_epochs,
                 "linear warm-up epochs" + range<std::int64_t>(0, limits::epochs))
      ->capture_default_str();
  app.add_option("--arch", f.arch, "resnet18 | resnet50")
      ->check(CLI::IsMember({"resnet18", "resnet50"}))
      ->capture_default_str();
  app.add_option("--width", c.width,
                 "channels of the first ResNet stage (64 = torchvision)" +
                     range<std::int64_t>(4, limits::width))
      ->capture_default_str();
  app.add_flag(
      "--cifar-stem,!--imagenet-stem", c.cifar_stem,
      "CIFAR's 3x3 stride-1 stem without max-pool, or the 7x7 stride-2 stem with max-pool");
  app.add_option("--projector", c.projector,
                 "output size of the 3-layer projector" + range<std::int64_t>(2, limits::projector))
      ->capture_default_str();
  app.add_option("--projector-hidden", c.projector_hidden,
                 "size of the projector's two hidden layers (0: the --projector size)" +
                     range<std::int64_t>(0, limits::projector))
      ->capture_default_str();
  app.add_option("--method", f.method, "intl | intl_m (momentum encoder)")
      ->check(CLI::IsMember({"intl", "intl_m"}))
      ->capture_default_str();
  app.add_flag("--multi-crop,!--no-multi-crop", c.multi_crop,
               "6 crops (1, 1, 6/7, 5/7, 4/7, 3/7 of the image size) instead of 2 "
               "(docs/math.md#multi-crop)");
  // The reference's per-view crop lists (--crops_size, --min_scale_crops, ...), comma-separated.
  app.add_option("--crop-sizes", f.crop_sizes,
                 "every view's crop size, e.g. 224,224,96 (sets the number of views; default: the "
                 "recipe's)")
      ->delimiter(',');
  app.add_option("--min-scales", f.min_scales, "every view's RandomResizedCrop minimum area")
      ->delimiter(',');
  app.add_option("--max-scales", f.max_scales, "every view's RandomResizedCrop maximum area")
      ->delimiter(',');
  app.add_option("--blur-probs", f.blur_probs, "every view's Gaussian-blur probability")
      ->delimiter(',');
  app.add_option("--solarize-probs", f.solarize_probs, "every view's solarisation probability")
      ->delimiter(',');
  app.add_option("--momentum", c.momentum0, "INTL-M EMA momentum at step 0" + range(0, 1))
      ->capture_default_str();
  const auto methods = spectral::method_names();
  app.add_option("--transform", f.transform, spectral::joined_method_names(" | "))
      ->check(CLI::IsMember(std::vector<std::string>(methods.begin(), methods.end())))
      ->capture_default_str();
  app.add_option("--iters", c.transform.method.iterations,
                 "IterNorm iterations T" + range(spectral::min_iterations, limits::iterations))
      ->capture_default_str();
  app.add_option("--power", c.transform.method.power,
                 "p of the power-function transform" + range(spectral::min_power, limits::power))
      ->capture_default_str();
  app.add_option("--axis", f.axis, "samples (reference axis 0) | features")
      ->check(CLI::IsMember({"samples", "features"}))
      ->capture_default_str();
  app.add_option("--eps", c.transform.opts.eps, "covariance shrinkage" + range(0.0, limits::eps))
      ->capture_default_str();
  app.add_option("--beta", c.beta,
                 "trace-loss weight" + range(0.0, limits::beta) +
                     "; default (unset): 0.01 (log2 K - 3), K the covariance size");
  app.add_option("--train-subset", c.train_subset,
                 "pretrain on this many images (0: all)" + range<std::int64_t>(0, limits::images))
      ->capture_default_str();
  app.add_option("--eval-train-subset", c.eval_train_subset,
                 "k-NN bank / linear-probe training images (0: all)" +
                     range<std::int64_t>(0, limits::images))
      ->capture_default_str();
  app.add_option("--eval-test-subset", c.eval_test_subset,
                 "test images evaluated (0: all)" + range<std::int64_t>(0, limits::images))
      ->capture_default_str();
  app.add_option("--knn-every", c.knn_every,
                 "epochs between 5-NN evaluations (0: only at the end)" +
                     range<std::int64_t>(0, limits::epochs))
      ->capture_default_str();
  app.add_option("--linear-epochs", c.linear_epochs,
                 "linear-probe epochs" + range<std::int64_t>(1, limits::linear_epochs))
      ->capture_default_str();
  app.add_flag("!--no-random-baseline", c.evaluate_random_init,
               "skip evaluating the untrained encoder");
  app.add_option("--seed", c.seed,
                 "seed of data order, augmentations and initialisation (0-2^64-1)")
      ->check(spectral::trainer::unsigned_text())
      ->capture_default_str();
  app.add_flag("--resume", c.resume, "continue from <out>/checkpoint.pt");
  app.add_flag("--eval-only", c.eval_only,
               "evaluate <out>/checkpoint.pt (k-NN, linear probe, spectrum) without training");
  app.add_option("--device", c.device,
                 "cpu | cuda | cuda:N (a bare cuda with --world-size: one GPU per rank)")
      ->capture_default_str();
  app.add_option("--threads", c.threads,
                 "intra-op threads (0: every core)" + range(0, limits::threads))
      ->capture_default_str();
  app.add_option("--max-steps", c.max_steps,
                 "stop after this many optimisation steps (0: none)" +
                     range<std::int64_t>(0, limits::steps))
      ->capture_default_str();
  app.add_flag("!--no-progress", c.progress, "no progress bar");
  app.add_flag("--synthetic", c.synthetic,
               "throughput of the training step on random views (no data, no evaluation)");
  app.add_option("--synthetic-steps", c.synthetic_steps,
                 "timed steps in --synthetic mode (batches in --loader-only, steps in --pipeline)" +
                     range<std::int64_t>(1, limits::synthetic_steps))
      ->capture_default_str();
  app.add_option("--synthetic-size", c.synthetic_size,
                 "image size in --synthetic mode" + range<std::int64_t>(8, limits::image_size))
      ->capture_default_str();
  app.add_option("--synthetic-channels", c.synthetic_channels,
                 "image channels in --synthetic mode (1 or 3)")
      ->capture_default_str();
  app.add_option("--engine", f.engine,
                 "who computes the transform: library (exact backward) | reference (LibTorch ops "
                 "+ autograd, as the reference code)")
      ->check(CLI::IsMember({"library", "reference"}))
      ->capture_default_str();
  app.add_flag("--amp,!--no-amp", c.amp,
               "fp16 autocast with dynamic loss scaling (CUDA), as the reference (the ImageNet "
               "recipes on CUDA)");
  app.add_option("--amp-dtype", f.amp_dtype,
                 "precision of --amp: fp16 (with loss scaling, as the reference) | bf16 (none)")
      ->check(CLI::IsMember({"fp16", "bf16"}))
      ->capture_default_str();
  app.add_flag("--channels-last", c.channels_last,
               "NHWC memory format for the convolutions (CUDA)");
  app.add_flag("--compare-reference", c.compare_reference,
               "throughput modes: also time the reference engine (LibTorch ops + autograd) in the "
               "same process and print the ratio");
  app.add_flag("--phases", c.phases,
               "--synthetic: then time forward, loss, backward and optimizer step apart "
               "(synchronising between them)");
  app.add_flag("--loader-only", c.loader_only,
               "throughput of the ImageFolder loader alone (decode + crop, 2 views per image)");
  app.add_flag(
      "--pipeline", c.pipeline,
      "throughput of loader + augmentation + training step on ImageFolder (no checkpoints)");
  app.add_option("--image-size", c.image_size,
                 "ImageFolder crop size" + range<std::int64_t>(8, limits::image_size))
      ->capture_default_str();
  app.add_option("--loader-threads", c.loader_threads,
                 "ImageFolder decoding threads (0: every core)" + range(0, limits::loader_threads))
      ->capture_default_str();
  // Distributed training: one process per device; torchrun's variables give the defaults.
  app.add_option("--world-size", c.world_size,
                 "processes in the job (1: no process group)" + range(1, limits::world_size))
      ->envname("WORLD_SIZE")
      ->capture_default_str();
  app.add_option("--rank", c.rank, "this process's rank in [0, world size)")
      ->envname("RANK")
      ->capture_default_str();
  app.add_option("--master-addr", c.master_addr, "rank 0's host (serves the rendezvous store)")
      ->envname("MASTER_ADDR")
      ->capture_default_str();
  app.add_option("--master-port", c.master_port, "rank 0's rendezvous port" + range(1, 65535))
      ->envname("MASTER_PORT")
      ->capture_default_str();
  app.add_option("--rendezvous-timeout", c.rendezvous_timeout,
                 "seconds every rank waits at start-up for the others to join, then fails" +
                     range(1, limits::rendezvous_timeout))
      ->capture_default_str();
  app.add_flag("--float64", c.float64,
               "model and transform in float64 (slow; for comparing runs, e.g. 1 vs N processes)");
}

/// Parses the command line over the values of `c`; returns whether --recipe was given.
/// @throws CLI::ParseError
bool parse_into(int argc, char** argv, spectral::trainer::train_config& c, flag_values& f) {
  CLI::App app{"INTL self-supervised pretraining with the spectral library (LibTorch)"};
  add_flags(app, c, f);
  app.parse(argc, argv);
  return app.count("--recipe") > 0;
}

int run(int argc, char** argv) {
  namespace trainer = spectral::trainer;
  // Two passes: the first finds the recipe (--recipe, else the data set's) and the device; the
  // second reads every flag over that recipe's values, so a flag always wins over a recipe.
  trainer::train_config c = trainer::recipe_config("fashion-mnist", false);
  try {
    flag_values first(c);
    const bool recipe_given = parse_into(argc, argv, c, first);
    const std::string recipe =
        recipe_given ? first.recipe : std::string(trainer::default_recipe(c.dataset));
    c = trainer::recipe_config(recipe, c.device.rfind("cuda", 0) == 0);
    flag_values second(c);
    parse_into(argc, argv, c, second);
    second.apply(c);
    if (second.print_config) {
      trainer::validate_settings(c);
      std::cout << trainer::config_json(c).dump(2) << '\n';
      return trainer::exit_ok;
    }
  } catch (const CLI::CallForHelp& e) {
    // The defaults shown are the fashion-mnist recipe's, whatever else the line holds;
    // --recipe NAME --print-config shows another recipe's.
    CLI::App app{"INTL self-supervised pretraining with the spectral library (LibTorch)"};
    trainer::train_config defaults = trainer::recipe_config("fashion-mnist", false);
    flag_values f(defaults);
    add_flags(app, defaults, f);
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return trainer::detail::report_error(e.what(), trainer::exit_input);
  }
  c.command_line.assign(argv, argv + argc);
  const auto summary = trainer::train(c, std::cout);
  for (const char* mode : {"loader", "pipeline"}) {
    if (summary.contains(mode)) {
      const auto& m = summary[mode];
      std::printf("%s: %.1f images/s\n", mode,
                  (m.contains("library") ? m["library"] : m)["images_per_s"].get<double>());
    }
  }
  if (summary.contains("synthetic")) {
    std::printf("%.1f images/s (%.1f ms/step)\n",
                summary["synthetic"]["images_per_s"].get<double>(),
                summary["synthetic"]["ms_per_step"].get<double>());
  }
  if (summary.contains("evaluation")) {
    const auto& e = summary["evaluation"];
    std::printf("5-NN top-1 %.2f%%, linear top-1 %.2f%% (top-5 %.2f%%), effective rank %.1f\n",
                e["knn_top1"].get<double>(), e["linear_top1"].get<double>(),
                e["linear_top5"].get<double>(), e["effective_rank"].get<double>());
  }
  if (summary.contains("final")) {
    const auto& f = summary["final"];
    std::printf("\n%-22s %10s %10s %12s\n", "encoder", "5-NN top1", "linear top1", "eff. rank");
    if (summary.contains("random_init")) {
      const auto& r = summary["random_init"];
      std::printf("%-22s %9.2f%% %9.2f%% %12.1f\n", "random init", r["knn_top1"].get<double>(),
                  r["linear_top1"].get<double>(), r["effective_rank"].get<double>());
    }
    std::printf("%-22s %9.2f%% %9.2f%% %12.1f\n", "INTL pretrained", f["knn_top1"].get<double>(),
                f["linear_top1"].get<double>(), f["effective_rank"].get<double>());
    std::printf("(%s; results in %s)\n", c.dataset.c_str(), c.out.string().c_str());
  }
  return trainer::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  return spectral::trainer::guarded_main("intl_train", [&] { return run(argc, argv); });
}
