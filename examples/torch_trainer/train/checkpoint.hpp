// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// One checkpoint per epoch, written atomically (archive to a temporary file, then rename), with
/// everything the next step depends on: model, optimizer (momentum buffers), the EMA encoder,
/// the step count, the augmentation generator's state and, with mixed precision, the loss
/// scale. Tensors are stored on the device they live on and mapped to the caller's device when
/// read, so a checkpoint written on a GPU resumes there and loads on a CPU (intl_eval).

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace spectral::trainer {

struct checkpoint_state {
  std::int64_t epoch = 0;  ///< epochs completed
  std::int64_t step = 0;   ///< optimisation steps completed
  torch::Tensor loss_scale;  ///< loss_scaler::state(); undefined without mixed precision
};

inline void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                            torch::nn::Module* teacher, torch::optim::Optimizer& optimizer,
                            at::Generator& generator, const checkpoint_state& state) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model.save(model_archive);
  archive.write("model", model_archive);
  if (teacher != nullptr) {
    torch::serialize::OutputArchive teacher_archive;
    teacher->save(teacher_archive);
    archive.write("teacher", teacher_archive);
  }
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("generator", generator.get_state());
  archive.write("epoch", torch::tensor(state.epoch));
  archive.write("step", torch::tensor(state.step));
  if (state.loss_scale.defined()) {
    archive.write("loss_scale", state.loss_scale);
  }
  const auto temporary = std::filesystem::path(path.string() + ".tmp");
  archive.save_to(temporary.string());
  std::filesystem::rename(temporary, path);
}

/// @throws std::runtime_error naming the file when it is missing or not a checkpoint.
inline checkpoint_state load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                                        torch::nn::Module* teacher, torch::optim::Optimizer& optimizer,
                                        at::Generator& generator,
                                        const torch::Device& device = torch::kCPU) {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("--resume: no checkpoint at " + path.string());
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), device);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    if (teacher != nullptr) {
      torch::serialize::InputArchive teacher_archive;
      archive.read("teacher", teacher_archive);
      teacher->load(teacher_archive);
    }
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor generator_state;
    archive.read("generator", generator_state);
    generator.set_state(generator_state.cpu());  // a CPU generator, wherever the model is
    torch::Tensor epoch;
    torch::Tensor step;
    archive.read("epoch", epoch);
    archive.read("step", step);
    checkpoint_state state{epoch.item<std::int64_t>(), step.item<std::int64_t>(), {}};
    torch::Tensor loss_scale;
    if (archive.try_read("loss_scale", loss_scale)) {
      state.loss_scale = loss_scale;
    }
    return state;
  } catch (const c10::Error& e) {
    throw std::runtime_error("--resume: " + path.string() + " is not a readable checkpoint (" +
                             e.what_without_backtrace() + ")");
  }
}

}  // namespace spectral::trainer
