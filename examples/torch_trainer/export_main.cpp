// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// intl_export: the backbone of an intl_train checkpoint as a state dict with torchvision's key
// names, in the format Python's torch.load opens:
//   sd = torch.load("backbone.pth"); torchvision.models.resnet50().load_state_dict(sd,
//   strict=False)
// reports only fc.weight and fc.bias missing (for --arch resnet50 --imagenet-stem on RGB data).

#include "cli_exit.hpp"
#include "train/weights.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

namespace {

int run(int argc, char** argv) {
  std::string checkpoint;
  std::string output;
  bool momentum_encoder = false;
  bool force = false;
  CLI::App app{"Export the backbone of an intl_train checkpoint for Python (torch.load)"};
  app.footer(spectral::trainer::exit_codes_help);
  app.add_option("--checkpoint", checkpoint, "intl_train's checkpoint.pt")->required();
  app.add_option("--output", output, "the state dict to write, e.g. backbone.pth")->required();
  app.add_flag("--momentum-encoder", momentum_encoder,
               "export the momentum encoder's backbone (--method intl_m runs) instead of the "
               "online one");
  app.add_flag("--force", force, "replace --output if it exists");
  if (const auto exit_code = spectral::trainer::parse_command_line(app, argc, argv)) {
    return *exit_code;
  }
  const auto tensors = spectral::trainer::checkpoint_backbone(checkpoint, momentum_encoder);
  spectral::trainer::write_state_dict(tensors, output, force);
  std::printf("wrote %zu tensors of %s's %s backbone to %s\n", tensors.size(), checkpoint.c_str(),
              momentum_encoder ? "momentum-encoder" : "online", output.c_str());
  return spectral::trainer::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  return spectral::trainer::guarded_main("intl_export", [&] { return run(argc, argv); });
}
