// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Backbone weights out of and into the trainer. Out: intl_export writes a checkpoint's
/// backbone as a state dict with torchvision's key names, in the file format Python's
/// torch.load reads (torch::pickle_save). In: intl_eval reads intl_train's checkpoints, files
/// converted by scripts/convert_checkpoint.py, and, where this LibTorch's unpickler reads them,
/// torch.save files of the reference code (`state_dict` with `module.backbone.*` keys) or of
/// torchvision (plain keys).

#include "models/resnet.hpp"

#include <spectral/core/error.hpp>
#include <spectral/io/staged_file.hpp>

#include <c10/util/Exception.h>
#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spectral::trainer {

/// Tensors by dotted name (a state dict), sorted by name.
using named_tensor_map = std::map<std::string, torch::Tensor>;

namespace detail {

/// Every tensor under `archive` (parameters and buffers of it and its submodules), named as a
/// state dict names them; other attributes (a module's `training` flag) are skipped.
inline void collect_tensors(torch::serialize::InputArchive& archive,
                            const std::string& prefix,
                            named_tensor_map& out) {
  for (const std::string& key : archive.keys()) {
    torch::Tensor tensor;
    torch::serialize::InputArchive child;
    if (archive.try_read(key, tensor)) {
      out.emplace(prefix + key, tensor);
    } else if (archive.try_read(key, child)) {
      collect_tensors(child, prefix + key + ".", out);
    }
  }
}

/// LibTorch's message without the source location and backtrace of its later lines.
[[nodiscard]] inline std::string first_line(const c10::Error& e) {
  const std::string text = e.what_without_backtrace();
  return text.substr(0, text.find('\n'));
}

/// The tensors of `part`/backbone of an intl_train archive, or std::nullopt without one.
[[nodiscard]] inline std::optional<named_tensor_map> archive_backbone(
    torch::serialize::InputArchive& archive, const char* part) {
  torch::serialize::InputArchive model;
  torch::serialize::InputArchive backbone;
  if (!archive.try_read(part, model) || !model.try_read("backbone", backbone)) {
    return std::nullopt;
  }
  named_tensor_map tensors;
  collect_tensors(backbone, "", tensors);
  return tensors;
}

[[nodiscard]] inline std::string shape_string(const torch::Tensor& t) {
  std::ostringstream text;
  text << t.sizes() << ' ' << t.scalar_type();
  return text.str();
}

/// The backbone's entries of a torch.save'd state dict: `module.backbone.*` (the reference's
/// DDP checkpoints), `backbone.*`, or plain torchvision keys without the classifier `fc.*`.
[[nodiscard]] inline named_tensor_map backbone_entries(
    const c10::Dict<c10::IValue, c10::IValue>& dict, const std::filesystem::path& path) {
  named_tensor_map all;
  for (const auto& entry : dict) {
    if (entry.key().isString() && entry.value().isTensor()) {
      all.emplace(entry.key().toStringRef(), entry.value().toTensor());
    }
  }
  for (const std::string_view prefix : {"module.backbone.", "backbone."}) {
    named_tensor_map selected;
    for (const auto& [name, tensor] : all) {
      if (name.rfind(prefix, 0) == 0) {
        selected.emplace(name.substr(prefix.size()), tensor);
      }
    }
    if (!selected.empty()) {
      return selected;
    }
  }
  named_tensor_map selected;
  for (const auto& [name, tensor] : all) {
    if (name.rfind("fc.", 0) != 0) {
      selected.emplace(name, tensor);
    }
  }
  SPECTRAL_EXPECTS(!selected.empty(), "--pretrained: ", path.string(),
                   " holds no tensors of a backbone (no state_dict with module.backbone.*, "
                   "backbone.* or torchvision keys)");
  return selected;
}

}  // namespace detail

/**
 * @brief The backbone of an intl_train checkpoint: `model.backbone` (the online encoder) or,
 *        with `momentum_encoder`, `teacher.backbone` (INTL-M runs).
 * @throws invalid_input naming the file when it is missing, unreadable or has no such backbone
 */
[[nodiscard]] inline named_tensor_map checkpoint_backbone(const std::filesystem::path& path,
                                                          bool momentum_encoder = false) {
  SPECTRAL_EXPECTS(std::filesystem::is_regular_file(path), "--checkpoint: no checkpoint at ",
                   path.string());
  const char* const part = momentum_encoder ? "teacher" : "model";
  named_tensor_map tensors;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), torch::Device(torch::kCPU));
    std::optional<named_tensor_map> found = detail::archive_backbone(archive, part);
    SPECTRAL_EXPECTS(found.has_value(), "--checkpoint: ", path.string(), " has no ", part,
                     "/backbone",
                     momentum_encoder ? " (a momentum encoder exists only in --method intl_m runs)"
                                      : " (not an intl_train checkpoint)");
    tensors = std::move(*found);
  } catch (const c10::Error& e) {
    SPECTRAL_EXPECTS(false, "--checkpoint: ", path.string(), " is not a readable checkpoint (",
                     detail::first_line(e), ")");
  }
  SPECTRAL_EXPECTS(!tensors.empty(), "--checkpoint: ", path.string(), " holds an empty backbone");
  return tensors;
}

/**
 * @brief Writes `tensors` as a state dict (a dict of str → Tensor, contiguous, on the CPU)
 *        that Python's torch.load opens; the file appears whole or not at all.
 * @param replace allow replacing an existing file (else refused)
 * @throws invalid_input naming --output when it exists (without `replace`) or its folder is
 *         not writable
 */
inline void write_state_dict(const named_tensor_map& tensors,
                             const std::filesystem::path& output,
                             bool replace = false) {
  std::error_code ec;
  SPECTRAL_EXPECTS(replace || !std::filesystem::exists(std::filesystem::symlink_status(output, ec)),
                   "--output: ", output.string(), " exists (give --force to replace it)");
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, tensor] : tensors) {
    dict.insert(name, tensor.detach().cpu().contiguous());
  }
  const std::vector<char> bytes = torch::pickle_save(dict);
  io::staged_file file(output);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

/**
 * @brief The backbone weights of a file given to --pretrained: an intl_train checkpoint (or
 *        intl_eval's own, or a converted file: `model.backbone` in LibTorch's archive format),
 *        else a torch.save file this LibTorch can unpickle (see detail::backbone_entries).
 * @throws invalid_input naming the file, and the converter when LibTorch cannot read it
 */
[[nodiscard]] inline named_tensor_map pretrained_backbone(const std::filesystem::path& path) {
  SPECTRAL_EXPECTS(std::filesystem::is_regular_file(path), "--pretrained: no checkpoint at ",
                   path.string());
  bool archive_read = false;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), torch::Device(torch::kCPU));
    archive_read = true;
    std::optional<named_tensor_map> found = detail::archive_backbone(archive, "model");
    SPECTRAL_EXPECTS(found.has_value(), "--pretrained: ", path.string(),
                     " is not an intl_train checkpoint (it has no model/backbone)");
    return std::move(*found);
  } catch (const c10::Error&) {
    if (archive_read) {
      throw;
    }
  }
  // Not LibTorch's archive: a torch.save file (the reference's .pth.tar, a torchvision state
  // dict, intl_export's output).
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    SPECTRAL_EXPECTS(false, "--pretrained: ", path.string(),
                     " is neither an intl_train checkpoint nor a torch.save file this LibTorch "
                     "can read (",
                     detail::first_line(e), "); convert it with scripts/convert_checkpoint.py");
  }
  SPECTRAL_EXPECTS(value.isGenericDict(), "--pretrained: ", path.string(),
                   " holds no dict (a torch.save'd state dict or checkpoint was expected)");
  c10::Dict<c10::IValue, c10::IValue> dict = value.toGenericDict();
  for (const char* key : {"state_dict", "model"}) {
    const auto found = dict.find(c10::IValue(std::string(key)));
    if (found != dict.end() && found->value().isGenericDict()) {
      dict = found->value().toGenericDict();
      break;
    }
  }
  return detail::backbone_entries(dict, path);
}

/**
 * @brief Copies `tensors` into `backbone`, after checking that they are exactly its
 *        parameters and buffers, each of the model's shape (floating tensors are converted to
 *        the model's dtype); nothing is copied when a check fails.
 * @throws invalid_input naming the file and the first tensor that does not fit
 */
inline void load_backbone(ResNet& backbone,
                          const named_tensor_map& tensors,
                          const std::filesystem::path& path) {
  // In the model's order (conv1 first), so that the first mismatch named is the earliest.
  std::vector<std::pair<std::string, torch::Tensor>> expected;
  for (const auto& p : backbone->named_parameters()) {
    expected.emplace_back(p.key(), p.value());
  }
  for (const auto& b : backbone->named_buffers()) {
    expected.emplace_back(b.key(), b.value());
  }
  const auto in_model = [&](const std::string& name) {
    return std::any_of(expected.begin(), expected.end(),
                       [&](const auto& entry) { return entry.first == name; });
  };
  const char* const settings =
      " (--arch, --width and --imagenet-stem must match the run that "
      "saved it)";
  for (const auto& [name, target] : expected) {
    const auto found = tensors.find(name);
    SPECTRAL_EXPECTS(found != tensors.end(), "--pretrained: ", path.string(),
                     " does not fit this model: backbone.", name, " is missing from it", settings);
    const torch::Tensor& stored = found->second;
    const bool same_kind = stored.is_floating_point() == target.is_floating_point();
    SPECTRAL_EXPECTS(stored.sizes() == target.sizes() && same_kind, "--pretrained: ", path.string(),
                     " does not fit this model: backbone.", name, " is ",
                     detail::shape_string(stored), " in the file but ",
                     detail::shape_string(target), " in this model", settings);
  }
  for (const auto& [name, stored] : tensors) {
    SPECTRAL_EXPECTS(in_model(name), "--pretrained: ", path.string(),
                     " does not fit this model: backbone.", name,
                     " is in the file but not in this model", settings);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : expected) {
    target.copy_(tensors.at(name));
  }
}

}  // namespace spectral::trainer
