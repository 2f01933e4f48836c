// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// intl_train: INTL pretraining and evaluation with the spectral library's IterNorm (or any other
// instance) inside a LibTorch model. Defaults follow the reference CIFAR recipe (spec §6.5) on
// Fashion-MNIST from Debian's dataset-fashion-mnist package. Every setting is range-checked
// before any work; failures are one line on stderr with the exit codes of cli_exit.hpp.

#include "cli_exit.hpp"
#include "train/trainer.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

int run(int argc, char** argv) {
  using spectral::trainer::range;
  namespace limits = spectral::trainer::limits;
  using spectral::trainer::ssl_method;
  spectral::trainer::train_config c;
  std::string method = "intl";
  std::string transform = c.transform.method.name;  // IterNorm (transform_spec)
  std::string axis = "samples";
  std::string arch = "resnet18";
  std::string engine = "library";

  CLI::App app{"INTL self-supervised pretraining with the spectral library (LibTorch, CPU)"};
  app.footer(spectral::trainer::exit_codes_help);
  app.add_option("--dataset", c.dataset, "fashion-mnist | cifar10 | cifar100 | imagefolder")
      ->check(CLI::IsMember({"fashion-mnist", "cifar10", "cifar100", "imagefolder"}))
      ->capture_default_str();
  app.add_option("--data", c.data,
                 "dataset folder (IDX .gz files, CIFAR .bin files, or an ImageFolder root with "
                 "train/<class>/*.JPEG)")
      ->capture_default_str();
  app.add_option("--out", c.out, "output folder: checkpoint, metrics.jsonl, summary.json, plots")
      ->capture_default_str();
  app.add_option("--epochs", c.epochs, "pretraining epochs" + range<std::int64_t>(1, limits::epochs))
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
  app.add_flag("!--no-decay-1d", c.decay_1d,
               "no weight decay on biases and BN parameters (ImageNet recipe)");
  app.add_option("--warmup-epochs", c.warmup_epochs,
                 "linear warm-up epochs" + range<std::int64_t>(0, limits::epochs))
      ->capture_default_str();
  app.add_option("--arch", arch, "resnet18 | resnet50")
      ->check(CLI::IsMember({"resnet18", "resnet50"}))
      ->capture_default_str();
  app.add_option("--width", c.width,
                 "channels of the first ResNet stage (64 = torchvision)" +
                     range<std::int64_t>(4, limits::width))
      ->capture_default_str();
  app.add_flag("!--imagenet-stem", c.cifar_stem, "7x7 stride-2 stem with max-pool instead of CIFAR's 3x3");
  app.add_option("--projector", c.projector,
                 "hidden and output size of the 3-layer projector" +
                     range<std::int64_t>(2, limits::projector))
      ->capture_default_str();
  app.add_option("--method", method, "intl | intl_m (momentum encoder)")
      ->check(CLI::IsMember({"intl", "intl_m"}))
      ->capture_default_str();
  app.add_flag("--multi-crop", c.multi_crop,
               "6 crops (1, 1, 6/7, 5/7, 4/7, 3/7 of the image size) instead of 2 (spec 5.4)");
  app.add_option("--momentum", c.momentum0, "INTL-M EMA momentum at step 0" + range(0, 1))
      ->capture_default_str();
  const auto methods = spectral::method_names();
  app.add_option("--transform", transform, spectral::joined_method_names(" | "))
      ->check(CLI::IsMember(std::vector<std::string>(methods.begin(), methods.end())))
      ->capture_default_str();
  app.add_option("--iters", c.transform.method.iterations,
                 "IterNorm iterations T" + range(spectral::min_iterations, limits::iterations))
      ->capture_default_str();
  app.add_option("--power", c.transform.method.power,
                 "p of the power-function transform" + range(spectral::min_power, limits::power))
      ->capture_default_str();
  app.add_option("--axis", axis, "samples (reference axis 0) | features")
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
  app.add_option("--seed", c.seed, "seed of data order, augmentations and initialisation (0-2^64-1)")
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
  app.add_option("--engine", engine,
                 "who computes the transform: library (exact backward) | reference (LibTorch ops "
                 "+ autograd, as the reference code)")
      ->check(CLI::IsMember({"library", "reference"}))
      ->capture_default_str();
  app.add_flag("--amp", c.amp, "fp16 autocast with dynamic loss scaling (CUDA), as the reference");
  app.add_flag("--channels-last", c.channels_last, "NHWC memory format for the convolutions (CUDA)");
  app.add_flag("--compare-reference", c.compare_reference,
               "throughput modes: also time the reference engine (LibTorch ops + autograd) in the "
               "same process and print the ratio");
  app.add_flag("--phases", c.phases,
               "--synthetic: then time forward, loss, backward and optimizer step apart "
               "(synchronising between them)");
  app.add_flag("--loader-only", c.loader_only,
               "throughput of the ImageFolder loader alone (decode + crop, 2 views per image)");
  app.add_flag("--pipeline", c.pipeline,
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return spectral::trainer::detail::report_error(e.what(), spectral::trainer::exit_input);
  }
  c.transform.method.name = transform;  // a registered name: IsMember checked it
  c.transform.opts.axis = axis == "samples" ? spectral::axis::samples : spectral::axis::features;
  c.method = method == "intl" ? ssl_method::intl : ssl_method::intl_m;
  c.depth = arch == "resnet18" ? 18 : 50;
  c.transform.engine = engine == "library" ? spectral::trainer::transform_engine::library
                                           : spectral::trainer::transform_engine::reference;
  const auto summary = spectral::trainer::train(c, std::cout);
  for (const char* mode : {"loader", "pipeline"}) {
    if (summary.contains(mode)) {
      const auto& m = summary[mode];
      std::printf("%s: %.1f images/s\n", mode,
                  (m.contains("library") ? m["library"] : m)["images_per_s"].get<double>());
    }
  }
  if (summary.contains("synthetic")) {
    std::printf("%.1f images/s (%.1f ms/step)\n", summary["synthetic"]["images_per_s"].get<double>(),
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
  return spectral::trainer::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  return spectral::trainer::guarded_main("intl_train", [&] { return run(argc, argv); });
}
