// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// One checkpoint per epoch, written atomically (archive to a new private file, then rename), with
/// everything the next step depends on: model, optimizer (momentum buffers), the EMA encoder,
/// the step count, the augmentation generator's state and, with mixed precision, the loss
/// scale. Tensors are stored on the device they live on and mapped to the caller's device when
/// read, so a checkpoint written on a GPU resumes there and loads on a CPU (intl_eval).
///
/// LibTorch's Module::load replaces each tensor whatever its shape, so a checkpoint of another
/// architecture would load silently; every tensor is compared with the model first.

#include <spectral/core/error.hpp>
#include <spectral/io/staged_file.hpp>

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spectral::trainer {

struct checkpoint_state {
  std::int64_t epoch = 0;    ///< epochs completed
  std::int64_t step = 0;     ///< optimisation steps completed
  torch::Tensor loss_scale;  ///< loss_scaler::state(); undefined without mixed precision
};

inline void save_checkpoint(const std::filesystem::path& path,
                            torch::nn::Module& model,
                            torch::nn::Module* teacher,
                            torch::optim::Optimizer& optimizer,
                            at::Generator& generator,
                            const checkpoint_state& state) {
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
  io::staged_file file(path);
  archive.save_to([&file](const void* data, std::size_t size) {
    file.write(data, size);
    return size;
  });
  file.commit();
}

namespace detail {

[[nodiscard]] inline std::string sizes_string(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes() << ' ' << t.scalar_type();
  return out.str();
}

/// Throws unless `archive` holds exactly `module`'s parameters, buffers and submodules, each
/// tensor of the model's shape and dtype; names the first mismatch as `where`.name.
inline void check_archive_fits(torch::nn::Module& module,
                               torch::serialize::InputArchive& archive,
                               const std::string& where) {
  std::vector<std::string> known = {"training"};  // an attribute every archive module has
  const auto check = [&](const std::string& name, const torch::Tensor& expected, bool buffer) {
    known.push_back(name);
    torch::Tensor stored;
    SPECTRAL_EXPECTS(archive.try_read(name, stored, buffer), where, name,
                     " is missing from the checkpoint");
    SPECTRAL_EXPECTS(
        stored.sizes() == expected.sizes() && stored.scalar_type() == expected.scalar_type(), where,
        name, " is ", sizes_string(stored), " in the checkpoint but ", sizes_string(expected),
        " in this model");
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    check(p.key(), p.value(), false);
  }
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    check(b.key(), b.value(), true);
  }
  for (const auto& child : module.named_children()) {
    known.push_back(child.key());
    torch::serialize::InputArchive child_archive;
    SPECTRAL_EXPECTS(archive.try_read(child.key(), child_archive), where, child.key(),
                     " is missing from the checkpoint");
    check_archive_fits(*child.value(), child_archive, where + child.key() + ".");
  }
  for (const auto& key : archive.keys()) {
    SPECTRAL_EXPECTS(std::find(known.begin(), known.end(), key) != known.end(), where, key,
                     " is in the checkpoint but not in this model");
  }
}

/// check_archive_fits with the message a user reads. @throws invalid_input naming `flag`, the
/// file and the first mismatch
inline void check_checkpoint_fits(
    torch::nn::Module& module,
    torch::serialize::InputArchive& archive,
    const std::string& prefix,
    std::string_view flag,
    const std::filesystem::path& path,
    std::string_view settings = "--arch, --width, --imagenet-stem, --projector and --float64") {
  try {
    check_archive_fits(module, archive, prefix);
  } catch (const invalid_input& e) {
    SPECTRAL_EXPECTS(false, flag, ": ", path.string(), " does not fit this model: ", e.what(), " (",
                     settings, " must match the run that saved it)");
  }
}

}  // namespace detail

/// @param flag the option that asked for the checkpoint, for messages (--resume, --eval-only)
/// @throws invalid_input naming the flag, the file and the first tensor that does not fit the
///         model (nothing is loaded then); std::runtime_error when it is missing or unreadable.
inline checkpoint_state load_checkpoint(const std::filesystem::path& path,
                                        torch::nn::Module& model,
                                        torch::nn::Module* teacher,
                                        torch::optim::Optimizer& optimizer,
                                        at::Generator& generator,
                                        const torch::Device& device = torch::kCPU,
                                        std::string_view flag = "--resume") {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error(std::string(flag) + ": no checkpoint at " + path.string());
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), device);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    torch::serialize::InputArchive teacher_archive;
    const bool has_teacher = archive.try_read("teacher", teacher_archive);
    SPECTRAL_EXPECTS(teacher == nullptr || has_teacher, flag, ": ", path.string(),
                     " has no momentum encoder (saved by a --method intl run; this run is intl_m)");
    // Every tensor is checked before any is loaded: a mismatch leaves the model untouched.
    detail::check_checkpoint_fits(model, model_archive, "model.", flag, path);
    if (teacher != nullptr) {
      detail::check_checkpoint_fits(*teacher, teacher_archive, "teacher.", flag, path);
    }
    model.load(model_archive);
    if (teacher != nullptr) {
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
    throw std::runtime_error(std::string(flag) + ": " + path.string() +
                             " is not a readable checkpoint (" + e.what_without_backtrace() + ")");
  }
}

}  // namespace spectral::trainer
