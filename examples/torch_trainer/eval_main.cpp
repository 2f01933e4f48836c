// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// intl_eval: ImageNet-style evaluation of an intl_train encoder (or a converted reference
// checkpoint) on an ImageFolder tree, as the reference's evaluate.py, whose ImageNet defaults
// it takes (ResNet-50, ImageNet stem): linear evaluation of the frozen backbone
// (docs/trainer.md#linear-evaluation) or semi-supervised fine-tuning on a split file's subset
// (docs/trainer.md#semi-supervised), on the CPU or a GPU. Every setting is range-checked before
// any work; failures are one line on stderr with the exit codes of cli_exit.hpp.

#include "cli_exit.hpp"
#include "train/linear_eval.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

namespace {

int run(int argc, char** argv) {
  using spectral::trainer::range;
  namespace limits = spectral::trainer::eval_limits;
  using spectral::trainer::eval_mode;
  using spectral::trainer::eval_schedule;
  spectral::trainer::eval_config c;
  std::string mode = "linear";
  std::string arch = c.depth == 50 ? "resnet50" : "resnet18";
  std::string schedule = "step";
  std::string pretrained;
  std::string split;

  CLI::App app{"Linear evaluation / semi-supervised fine-tuning of an INTL encoder (LibTorch)"};
  app.footer(spectral::trainer::exit_codes_help);
  app.add_option("--mode", mode,
                 "linear (frozen backbone, docs/trainer.md#linear-evaluation) | finetune (whole "
                 "network, docs/trainer.md#semi-supervised)")
      ->check(CLI::IsMember({"linear", "finetune"}))
      ->capture_default_str();
  app.add_option("--data", c.data,
                 "ImageFolder root with train/<class>/*.JPEG and val/<class>/*.JPEG")
      ->required();
  app.add_option("--out", c.out, "output folder: eval_checkpoint.pt, metrics.jsonl, summary.json")
      ->capture_default_str();
  app.add_option("--pretrained", pretrained,
                 "intl_train's checkpoint.pt (its model/backbone), a file of "
                 "scripts/convert_checkpoint.py (the reference's .pth.tar checkpoints), or a "
                 "torch.save state dict this LibTorch reads");
  app.add_flag("--random-init", c.random_init, "no pretrained weights (the baseline)");
  app.add_option("--train-split", split,
                 "file naming the labelled training images, one per line (1percent.txt); "
                 "finetune needs at least --batch of them");
  app.add_option("--arch", arch, "resnet18 | resnet50")
      ->check(CLI::IsMember({"resnet18", "resnet50"}))
      ->capture_default_str();
  app.add_option("--width", c.width,
                 "channels of the first ResNet stage (64 = torchvision)" +
                     range<std::int64_t>(4, limits::width))
      ->capture_default_str();
  app.add_flag("--cifar-stem,!--imagenet-stem", c.cifar_stem,
               "CIFAR's 3x3 stride-1 stem without max-pool, or the 7x7 stride-2 stem with "
               "max-pool (as the run that trained the backbone)");
  app.add_option("--epochs", c.epochs,
                 "epochs (0: 100 linear, 20 finetune)" + range<std::int64_t>(0, limits::epochs))
      ->capture_default_str();
  app.add_option("--batch", c.batch,
                 "batch size" + range<std::int64_t>(1, limits::batch) + "; finetune at least 2")
      ->capture_default_str();
  app.add_option(
         "--lr-classifier", c.lr_classifier,
         "head learning rate x batch/256 (0.4 for multi-crop+EMA checkpoints; > 0, at most " +
             std::to_string(static_cast<int>(limits::lr)) + ")")
      ->capture_default_str();
  app.add_option("--lr-backbone", c.lr_backbone,
                 "finetune: backbone learning rate x batch/256" + range(0.0, limits::lr))
      ->capture_default_str();
  app.add_option("--wd", c.weight_decay, "weight decay" + range(0.0, limits::weight_decay))
      ->capture_default_str();
  app.add_option("--schedule", schedule, "step (milestones x gamma) | cos")
      ->check(CLI::IsMember({"step", "cos"}))
      ->capture_default_str();
  app.add_option("--milestones", c.milestones,
                 "step schedule: epochs where lr is multiplied by gamma (each" +
                     range<std::int64_t>(1, limits::epochs) + ", at most " +
                     std::to_string(limits::milestones) + ")")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--gamma", c.gamma, "step schedule factor, in (0, 1]")->capture_default_str();
  app.add_option("--image-size", c.image_size,
                 "training crop; validation resizes to 256*size/224 and centre-crops size" +
                     range<std::int64_t>(8, limits::image_size))
      ->capture_default_str();
  app.add_option("--loader-threads", c.loader_threads,
                 "JPEG decoding threads" + range(1, limits::loader_threads))
      ->capture_default_str();
  app.add_option("--threads", c.threads,
                 "intra-op threads (0: every core)" + range(0, limits::threads))
      ->capture_default_str();
  app.add_option("--seed", c.seed, "seed of initialisation, crops, flips and data order (0-2^64-1)")
      ->check(spectral::trainer::unsigned_text())
      ->capture_default_str();
  app.add_option("--device", c.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_flag("--amp", c.amp, "fp16 autocast with dynamic loss scaling (CUDA)");
  app.add_flag("--channels-last", c.channels_last,
               "NHWC memory format for the convolutions (CUDA)");
  app.add_flag("--resume", c.resume, "continue from <out>/eval_checkpoint.pt");
  app.add_flag("!--no-progress", c.progress, "no progress bar");

  if (const auto exit_code = spectral::trainer::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }
  c.mode = mode == "linear" ? eval_mode::linear : eval_mode::finetune;
  c.schedule = schedule == "step" ? eval_schedule::step : eval_schedule::cosine;
  c.depth = arch == "resnet18" ? 18 : 50;
  c.pretrained = pretrained;
  c.train_split = split;

  const auto summary = spectral::trainer::run_eval(c, std::cout);
  if (summary.contains("final")) {
    const auto& f = summary["final"];
    const auto& b = summary["best"];
    std::printf(
        "val top-1 %.2f%%, top-5 %.2f%% after %lld epochs (best top-1 %.2f%% at epoch "
        "%lld); results in %s\n",
        f["val_top1"].get<double>(), f["val_top5"].get<double>(),
        static_cast<long long>(summary["epochs_completed"].get<std::int64_t>()),
        b["val_top1"].get<double>(), static_cast<long long>(b["epoch"].get<std::int64_t>()),
        c.out.string().c_str());
  }
  return spectral::trainer::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  return spectral::trainer::guarded_main("intl_eval", [&] { return run(argc, argv); });
}
