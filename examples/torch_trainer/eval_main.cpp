// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// intl_eval: ImageNet-style evaluation of an intl_train encoder on an ImageFolder tree, as the
// reference's evaluate.py: linear evaluation of the frozen backbone (spec §6.3) or
// semi-supervised fine-tuning on a split file's subset (spec §6.4). CPU, LibTorch.

#include "train/linear_eval.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  using spectral::trainer::eval_mode;
  using spectral::trainer::eval_schedule;
  spectral::trainer::eval_config c;
  std::string mode = "linear";
  std::string arch = "resnet18";
  std::string schedule = "step";
  std::string pretrained;
  std::string split;

  CLI::App app{"Linear evaluation / semi-supervised fine-tuning of an INTL encoder (LibTorch, CPU)"};
  app.add_option("--mode", mode, "linear (frozen backbone, spec 6.3) | finetune (spec 6.4)")
      ->check(CLI::IsMember({"linear", "finetune"}))
      ->capture_default_str();
  app.add_option("--data", c.data, "ImageFolder root with train/<class>/*.JPEG and val/<class>/*.JPEG")
      ->required();
  app.add_option("--out", c.out, "output folder: eval_checkpoint.pt, metrics.jsonl, summary.json")
      ->capture_default_str();
  app.add_option("--pretrained", pretrained, "intl_train's checkpoint.pt (its model/backbone)");
  app.add_flag("--random-init", c.random_init, "no pretrained weights (the baseline)");
  app.add_option("--train-split", split,
                 "file naming the labelled training images, one per line (1percent.txt)");
  app.add_option("--arch", arch, "resnet18 | resnet50")
      ->check(CLI::IsMember({"resnet18", "resnet50"}))
      ->capture_default_str();
  app.add_option("--width", c.width, "channels of the first ResNet stage (64 = torchvision)")
      ->capture_default_str();
  app.add_flag("!--imagenet-stem", c.cifar_stem,
               "7x7 stride-2 stem with max-pool instead of CIFAR's 3x3 (as intl_train)");
  app.add_option("--epochs", c.epochs, "epochs (0: 100 linear, 20 finetune)")->capture_default_str();
  app.add_option("--batch", c.batch, "batch size")->capture_default_str();
  app.add_option("--lr-classifier", c.lr_classifier,
                 "head learning rate x batch/256 (0.4 for multi-crop+EMA checkpoints)")
      ->capture_default_str();
  app.add_option("--lr-backbone", c.lr_backbone, "finetune: backbone learning rate x batch/256")
      ->capture_default_str();
  app.add_option("--wd", c.weight_decay, "weight decay")->capture_default_str();
  app.add_option("--schedule", schedule, "step (milestones x gamma) | cos")
      ->check(CLI::IsMember({"step", "cos"}))
      ->capture_default_str();
  app.add_option("--milestones", c.milestones, "step schedule: epochs where lr is multiplied by gamma")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--gamma", c.gamma, "step schedule factor")->capture_default_str();
  app.add_option("--image-size", c.image_size,
                 "training crop; validation resizes to 256*size/224 and centre-crops size")
      ->capture_default_str();
  app.add_option("--loader-threads", c.loader_threads, "JPEG decoding threads")->capture_default_str();
  app.add_option("--threads", c.threads, "intra-op threads (0: every core)")->capture_default_str();
  app.add_option("--seed", c.seed, "seed of initialisation, crops, flips and data order")
      ->capture_default_str();
  app.add_flag("--resume", c.resume, "continue from <out>/eval_checkpoint.pt");
  app.add_flag("!--no-progress", c.progress, "no progress bar");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "intl_eval: error: %s\n", e.what());
    return 2;
  }
  c.mode = mode == "linear" ? eval_mode::linear : eval_mode::finetune;
  c.schedule = schedule == "step" ? eval_schedule::step : eval_schedule::cosine;
  c.depth = arch == "resnet18" ? 18 : 50;
  c.pretrained = pretrained;
  c.train_split = split;

  try {
    const auto summary = spectral::trainer::run_eval(c, std::cout);
    if (summary.contains("final")) {
      const auto& f = summary["final"];
      const auto& b = summary["best"];
      std::printf("val top-1 %.2f%%, top-5 %.2f%% after %lld epochs (best top-1 %.2f%% at epoch "
                  "%lld); results in %s\n",
                  f["val_top1"].get<double>(), f["val_top5"].get<double>(),
                  static_cast<long long>(summary["epochs_completed"].get<std::int64_t>()),
                  b["val_top1"].get<double>(), static_cast<long long>(b["epoch"].get<std::int64_t>()),
                  c.out.string().c_str());
    }
    return 0;
  } catch (const spectral::invalid_input& e) {
    std::fprintf(stderr, "intl_eval: error: %s\n", e.what());
    return 2;
  } catch (const spectral::numerical_error& e) {
    std::fprintf(stderr, "intl_eval: error: %s\n", e.what());
    return 3;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "intl_eval: error: %s\n", e.what());
    return 2;
  }
}
