// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
// intl_eval's pieces on a tiny ImageFolder of real JPEGs (written with TurboJPEG into a temporary
// folder): the centre-crop decoder against LibTorch's antialiased resize, split files, linear
// evaluation of a pretrained backbone (frozen, finite top-1/top-5, files written) and an exact
// --resume in both modes.

// LibTorch before Catch2: glog (via c10) defines its own CHECK, which must not replace Catch's.
// clang-format off
#include <torch/torch.h>
// clang-format on

#include "common/temp_folder.hpp"
#include "trainer/jpeg_files.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <data/center_crop.hpp>
#include <data/split_file.hpp>
#include <models/projector.hpp>
#include <train/checkpoint.hpp>
#include <train/linear_eval.hpp>
#include <turbojpeg.h>

namespace {

namespace fs = std::filesystem;
namespace st = spectral::trainer;
using Catch::Matchers::ContainsSubstring;
using spectral_test::write_bytes;

using temp_dir = spectral_test::temp_folder;

/// Packed RGB: a smooth pattern whose colour balance depends on the class, varied per image.
std::vector<std::uint8_t> pattern(int width, int height, int label, int variant) {
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width * height * 3));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double u = (x + 0.5) / width;
      const double v = (y + 0.5) / height;
      const double wave = std::sin(6.0 * u + 0.7 * variant) * std::cos(4.0 * v - 0.3 * variant);
      for (int ch = 0; ch < 3; ++ch) {
        const double base = ch == label ? 190.0 : 70.0;
        const double value = base + 50.0 * wave + 20.0 * (ch == 2 ? u : v);
        rgb[static_cast<std::size_t>((y * width + x) * 3 + ch)] =
            static_cast<std::uint8_t>(std::lround(std::clamp(value, 0.0, 255.0)));
      }
    }
  }
  return rgb;
}

/// prefix + k + "_" + i + suffix, built without `const char* + std::string&&`, which trips a
/// GCC 12 -Wrestrict false positive at -O3.
std::string numbered(const char* prefix, int k, int i, const char* suffix) {
  std::string name(prefix);
  name += std::to_string(k);
  if (i >= 0) {
    name += '_';
    name += std::to_string(i);
  }
  name += suffix;
  return name;
}

/// `root/{train,val}/class_k/…JPEG`: 3 classes, 48×40 images, one corrupt validation file.
void make_tree(const fs::path& root, int train_per_class = 6, int val_per_class = 3) {
  for (int k = 0; k < 3; ++k) {
    const std::string cls = numbered("class_", k, -1, "");
    for (int i = 0; i < train_per_class; ++i) {
      write_bytes(root / "train" / cls / numbered("t", k, i, ".JPEG"),
                  spectral_test::encode_jpeg(pattern(48, 40, k, i), 48, 40, 0));
    }
    for (int i = 0; i < val_per_class; ++i) {
      write_bytes(root / "val" / cls / numbered("v", k, i, ".JPEG"),
                  spectral_test::encode_jpeg(pattern(48, 40, k, 100 + i), 48, 40, 0));
    }
  }
  write_bytes(root / "val" / "class_0" / "zz_broken.JPEG", {0xFF, 0xD8, 0x00, 0x13, 0x37});
}

/// An intl_train checkpoint (train/checkpoint.hpp) of a width-8 ResNet-18 encoder.
st::resnet_options tiny_backbone() {
  st::resnet_options o = st::resnet_options::reference(18, /*cifar=*/true);
  o.width = 8;
  return o;
}

void write_pretrained(const fs::path& path) {
  torch::manual_seed(123);
  st::Encoder encoder(tiny_backbone(), 16, 16);
  {
    // Non-trivial BN statistics, so a frozen backbone in eval mode is visibly the loaded one.
    torch::NoGradGuard no_grad;
    for (auto& item : encoder->backbone()->named_buffers()) {
      if (item.key().find("running_mean") != std::string::npos) {
        item.value().uniform_(-0.2, 0.2);
      }
    }
  }
  torch::optim::SGD optimizer(encoder->parameters(), torch::optim::SGDOptions(0.1));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  st::save_checkpoint(path, *encoder, nullptr, optimizer, generator, {3, 30, {}});
}

st::eval_config tiny_config(const fs::path& data, const fs::path& out, const fs::path& pretrained) {
  st::eval_config c;
  c.data = data;
  c.out = out;
  c.pretrained = pretrained;
  c.depth = 18;
  c.width = 8;
  c.cifar_stem = true;
  c.epochs = 2;
  c.batch = 4;
  c.lr_classifier = 8.0;  // × 4/256: an lr of 0.125, so two epochs move the head visibly
  c.lr_backbone = 0.5;
  c.image_size = 32;
  c.loader_threads = 2;
  c.threads = 1;
  c.progress = false;
  return c;
}

/// The Classifier stored in an eval_checkpoint.pt.
st::Classifier load_classifier(const fs::path& path, std::int64_t classes) {
  st::Classifier model(tiny_backbone(), classes);
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  model->load(model_archive);
  return model;
}

double max_abs_difference(torch::nn::Module& a, torch::nn::Module& b) {
  const auto pa = a.named_parameters();
  const auto pb = b.named_parameters();
  const auto ba = a.named_buffers();
  const auto bb = b.named_buffers();
  REQUIRE(pa.size() == pb.size());
  REQUIRE(ba.size() == bb.size());
  double worst = 0.0;
  for (const auto& item : pa) {
    worst = std::max(worst, (item.value() - pb[item.key()]).abs().max().item<double>());
  }
  for (const auto& item : ba) {
    worst = std::max(worst, (item.value().to(torch::kFloat64) - bb[item.key()].to(torch::kFloat64))
                                .abs()
                                .max()
                                .item<double>());
  }
  return worst;
}

std::vector<nlohmann::json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

/// Independent reference: the whole JPEG decoded by TurboJPEG, resized by LibTorch's antialiased
/// bilinear interpolation (PIL's algorithm in floats), then centre-cropped; CHW uint8.
torch::Tensor reference_center_crop(const std::vector<unsigned char>& jpeg,
                                    int width,
                                    int height,
                                    std::int64_t resize,
                                    std::int64_t crop) {
  tjhandle tj = tjInitDecompress();
  REQUIRE(tj != nullptr);
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(width * height * 3));
  const int rc = tjDecompress2(tj, jpeg.data(), static_cast<unsigned long>(jpeg.size()), rgb.data(),
                               width, width * 3, height, TJPF_RGB, 0);
  tjDestroy(tj);
  REQUIRE(rc == 0);
  const auto image = torch::from_blob(rgb.data(), {height, width, 3}, torch::kUInt8)
                         .permute({2, 0, 1})
                         .unsqueeze(0)
                         .to(torch::kFloat64);
  const std::int64_t short_side = std::min(width, height);
  const std::int64_t rw = width <= height ? resize : resize * width / short_side;
  const std::int64_t rh = width <= height ? resize * height / short_side : resize;
  const auto resized =
      torch::nn::functional::interpolate(image, torch::nn::functional::InterpolateFuncOptions()
                                                    .size(std::vector<std::int64_t>{rh, rw})
                                                    .mode(torch::kBilinear)
                                                    .align_corners(false)
                                                    .antialias(true));
  const auto top = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(rh - crop) / 2.0));
  const auto left = static_cast<std::int64_t>(std::nearbyint(static_cast<double>(rw - crop) / 2.0));
  return resized.squeeze(0).narrow(1, top, crop).narrow(2, left, crop).round().clamp(0, 255);
}

torch::Tensor as_tensor(const st::decoded_crop& crop) {
  return torch::from_blob(const_cast<std::uint8_t*>(crop.pixels.data()), {3, crop.size, crop.size},
                          torch::kUInt8)
      .to(torch::kFloat64);
}

}  // namespace

TEST_CASE("decode_center_crop: Resize + CenterCrop shape, reference pixels, determinism",
          "[linear_eval][center_crop]") {
  const auto jpeg = spectral_test::encode_jpeg(pattern(48, 40, 1, 3), 48, 40, 0);
  const st::center_crop_options options = st::center_crop_for(32);
  CHECK(options.resize_size == 37);  // round(256 · 32 / 224)
  CHECK(options.crop_size == 32);
  const auto a = st::decode_center_crop(jpeg, options);
  const auto b = st::decode_center_crop(jpeg, options);
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->size == 32);
  CHECK(a->pixels.size() == 3U * 32U * 32U);
  CHECK(a->width == 48);
  CHECK(a->height == 40);
  CHECK(a->scale_denom == 1);
  CHECK(a->pixels == b->pixels);
  const auto ours = as_tensor(*a);
  CHECK(ours.std().item<double>() > 10.0);  // not a flat image
  const auto reference = reference_center_crop(jpeg, 48, 40, 37, 32);
  const auto difference = (ours - reference).abs();
  CAPTURE(difference.max().item<double>(), difference.mean().item<double>());
  CHECK(difference.max().item<double>() <= 2.0);
  CHECK(difference.mean().item<double>() <= 0.5);

  SECTION("an image 8x larger than the resize goes through the DCT-scaled decode") {
    const auto large = spectral_test::encode_jpeg(pattern(400, 320, 2, 1), 400, 320, 0);
    const auto crop = st::decode_center_crop(large, options);
    REQUIRE(crop.has_value());
    CHECK(crop->scale_denom == 8);
    const auto big_difference =
        (as_tensor(*crop) - reference_center_crop(large, 400, 320, 37, 32)).abs();
    CAPTURE(big_difference.max().item<double>(), big_difference.mean().item<double>());
    CHECK(big_difference.mean().item<double>() <= 3.0);
    CHECK(big_difference.max().item<double>() <= 16.0);
  }
  SECTION("bad bytes and bad sizes") {
    CHECK_FALSE(st::decode_center_crop({0xFF, 0xD8, 0xFF}, options).has_value());
    CHECK_FALSE(st::decode_center_crop({}, options).has_value());
    CHECK_THROWS_AS(st::decode_center_crop(jpeg, {16, 32, st::crop_filter::bilinear}),
                    spectral::invalid_input);
    // The decoder still works after a failure (fresh per-thread handle).
    const auto again = st::decode_center_crop(jpeg, options);
    REQUIRE(again.has_value());
    CHECK(again->pixels == a->pixels);
  }
}

TEST_CASE("decode_center_crops: any thread count gives the same batch; corrupt files listed",
          "[linear_eval][center_crop]") {
  temp_dir tmp;
  make_tree(tmp.path);
  const st::image_folder val = st::scan_image_folder(tmp.path / "val");
  REQUIRE(val.files.size() == 10U);
  const auto options = st::center_crop_for(32);
  const auto one = st::decode_center_crops(val, 0, 10, options, 1);
  const auto three = st::decode_center_crops(val, 0, 10, options, 3);
  REQUIRE(one.images.sizes().vec() == std::vector<std::int64_t>{9, 3, 32, 32});
  CHECK(torch::equal(one.images, three.images));
  CHECK(torch::equal(one.labels, three.labels));
  REQUIRE(one.skipped.size() == 1U);
  CHECK(one.skipped[0].filename() == "zz_broken.JPEG");
  CHECK(one.labels.sum().item<std::int64_t>() == 0 + 3 * 1 + 3 * 2);
  CHECK(one.images.to(torch::kFloat64).std().item<double>() > 10.0);
  CHECK_THROWS_AS(st::decode_center_crops(val, 5, 11, options, 1), spectral::invalid_input);
}

TEST_CASE("select_split: exactly the named files, class from the folder; missing names throw",
          "[linear_eval][split]") {
  temp_dir tmp;
  make_tree(tmp.path);
  const st::image_folder train = st::scan_image_folder(tmp.path / "train");
  REQUIRE(train.files.size() == 18U);
  const fs::path split = tmp.path / "1percent.txt";
  {
    std::ofstream out(split, std::ios::binary);
    out << "t2_4.JPEG\r\n\n  t0_1.JPEG  \nclass_0/t0_5.JPEG\nt2_4.JPEG\n";
  }
  CHECK(st::read_split_file(split) ==
        std::vector<std::string>{"t2_4.JPEG", "t0_1.JPEG", "t0_5.JPEG"});
  const st::image_folder subset = st::select_split(train, split);
  REQUIRE(subset.files.size() == 3U);
  CHECK(subset.files[0].filename() == "t0_1.JPEG");
  CHECK(subset.files[1].filename() == "t0_5.JPEG");
  CHECK(subset.files[2].filename() == "t2_4.JPEG");
  CHECK(subset.labels == std::vector<std::int64_t>{0, 0, 2});
  CHECK(subset.classes == train.classes);
  CHECK(subset.files[2] == tmp.path / "train" / "class_2" / "t2_4.JPEG");

  const fs::path bad = tmp.path / "bad.txt";
  {
    std::ofstream out(bad);
    out << "t1_0.JPEG\nn01440764_10026.JPEG\nalso_missing.JPEG\n";
  }
  REQUIRE_THROWS_AS(st::select_split(train, bad), spectral::invalid_input);
  CHECK_THROWS_WITH(st::select_split(train, bad), ContainsSubstring(bad.string()) &&
                                                      ContainsSubstring("n01440764_10026.JPEG") &&
                                                      !ContainsSubstring("also_missing"));
  const fs::path empty = tmp.path / "empty.txt";
  std::ofstream(empty) << "\n \n";
  CHECK_THROWS_WITH(st::select_split(train, empty), ContainsSubstring(empty.string()));
  CHECK_THROWS_WITH(st::select_split(train, tmp.path / "nope.txt"), ContainsSubstring("nope.txt"));
}

TEST_CASE("run_eval linear: frozen pretrained backbone, finite top-1/top-5, files written",
          "[linear_eval]") {
  temp_dir tmp;
  make_tree(tmp.path);
  const fs::path pretrained = tmp.path / "checkpoint.pt";
  write_pretrained(pretrained);
  const st::eval_config c = tiny_config(tmp.path, tmp.path / "out", pretrained);
  std::ostringstream log;
  const nlohmann::json summary = st::run_eval(c, log);
  CAPTURE(log.str());
  REQUIRE(summary.contains("final"));
  const auto& final_record = summary["final"];
  const double top1 = final_record["val_top1"].get<double>();
  const double top5 = final_record["val_top5"].get<double>();
  CHECK(std::isfinite(top1));
  CHECK(top1 >= 0.0);
  CHECK(top1 <= 100.0);
  CHECK(top5 >= top1);
  CHECK(top5 <= 100.0);
  CHECK(std::isfinite(final_record["loss"].get<double>()));
  CHECK(final_record["loss"].get<double>() > 0.0);
  CHECK(final_record["epoch"].get<std::int64_t>() == 2);
  CHECK(summary["completed"].get<bool>());
  CHECK(summary["config"]["train_images"].get<std::int64_t>() == 18);
  // 9 of the 10 validation files decode; the corrupt one is reported.
  REQUIRE(summary["skipped_val_files"].size() == 1U);
  CHECK_THAT(summary["skipped_val_files"][0].get<std::string>(), ContainsSubstring("zz_broken"));
  CHECK_THAT(log.str(), ContainsSubstring("zz_broken.JPEG"));

  const auto metrics = read_jsonl(c.out / "metrics.jsonl");
  REQUIRE(metrics.size() == 2U);
  CHECK(metrics[0]["epoch"].get<std::int64_t>() == 1);
  for (const char* key : {"loss", "train_top1", "val_top1", "val_top5"}) {
    CHECK(metrics[1].contains(key));
  }
  CHECK(fs::exists(c.out / "summary.json"));
  for (const auto& entry : fs::directory_iterator(c.out)) {  // every file renamed into place
    CHECK(entry.path().filename().string().find(".partial") == std::string::npos);
  }

  // The backbone in the eval checkpoint is the pretrained one, untouched (BN stats included);
  // the head moved away from its zero bias.
  st::Classifier trained = load_classifier(c.out / "eval_checkpoint.pt", 3);
  st::Encoder encoder(tiny_backbone(), 16, 16);
  {
    torch::serialize::InputArchive archive;
    archive.load_from(pretrained.string());
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    encoder->load(model_archive);
  }
  CHECK(encoder->backbone()->named_buffers()["bn1.running_mean"].abs().sum().item<double>() > 0.0);
  CHECK(max_abs_difference(*trained->backbone(), *encoder->backbone()) == 0.0);
  CHECK(trained->fc()->bias.abs().sum().item<double>() > 0.0);
  CHECK(trained->fc()->weight.isfinite().all().item<bool>());
}

TEST_CASE("run_eval: 2 epochs straight equal 1 epoch + --resume 1 epoch", "[linear_eval][resume]") {
  temp_dir tmp;
  make_tree(tmp.path);
  const fs::path pretrained = tmp.path / "checkpoint.pt";
  write_pretrained(pretrained);
  const fs::path split = tmp.path / "10percent.txt";
  std::ofstream(split) << "t0_0.JPEG\nt0_1.JPEG\nt0_2.JPEG\nt1_0.JPEG\nt1_3.JPEG\nt2_1.JPEG\n"
                          "t2_2.JPEG\nt2_5.JPEG\nt1_5.JPEG\n";
  const bool finetune = GENERATE(false, true);
  CAPTURE(finetune);
  st::eval_config straight = tiny_config(tmp.path, tmp.path / "straight", pretrained);
  if (finetune) {
    straight.mode = st::eval_mode::finetune;
    straight.train_split = split;
  }
  st::eval_config resumed = straight;
  resumed.out = tmp.path / "resumed";
  std::ostringstream log;
  const nlohmann::json a = st::run_eval(straight, log);
  resumed.epochs = 1;
  const nlohmann::json first = st::run_eval(resumed, log);
  CHECK(first["epochs_completed"].get<std::int64_t>() == 1);
  resumed.epochs = 2;
  resumed.resume = true;
  const nlohmann::json b = st::run_eval(resumed, log);
  CAPTURE(log.str());
  CHECK(b["epochs_completed"].get<std::int64_t>() == 2);
  if (finetune) {
    CHECK(a["config"]["train_images"].get<std::int64_t>() == 9);
  }

  st::Classifier model_a = load_classifier(straight.out / "eval_checkpoint.pt", 3);
  st::Classifier model_b = load_classifier(resumed.out / "eval_checkpoint.pt", 3);
  CHECK(max_abs_difference(*model_a, *model_b) <= 1e-6);
  CHECK(a["final"]["val_top1"].get<double>() == b["final"]["val_top1"].get<double>());
  CHECK(a["final"]["loss"].get<double>() == b["final"]["loss"].get<double>());
  CHECK(read_jsonl(resumed.out / "metrics.jsonl").size() == 2U);

  // Not equal by accident of nothing training: the head (and, fine-tuning, the backbone) moved
  // from the 1-epoch state, and the pretrained weights differ from the fine-tuned ones.
  CHECK(model_a->fc()->bias.abs().sum().item<double>() > 0.0);
  st::eval_config one_epoch = straight;
  one_epoch.out = tmp.path / "one";
  one_epoch.epochs = 1;
  (void)st::run_eval(one_epoch, log);
  st::Classifier after_one = load_classifier(one_epoch.out / "eval_checkpoint.pt", 3);
  CHECK((model_a->fc()->weight - after_one->fc()->weight).abs().max().item<double>() > 1e-6);
  const double backbone_moved = max_abs_difference(*model_a->backbone(), *after_one->backbone());
  if (finetune) {
    CHECK(backbone_moved > 1e-6);
  } else {
    CHECK(backbone_moved == 0.0);
  }
}

TEST_CASE("run_eval: bad input throws naming it", "[linear_eval]") {
  temp_dir tmp;
  make_tree(tmp.path, 2, 1);
  const fs::path pretrained = tmp.path / "checkpoint.pt";
  write_pretrained(pretrained);
  std::ostringstream log;
  st::eval_config c = tiny_config(tmp.path, tmp.path / "out", tmp.path / "missing.pt");
  CHECK_THROWS_WITH(st::run_eval(c, log),
                    ContainsSubstring("--pretrained") && ContainsSubstring("missing.pt"));
  c.pretrained.clear();
  CHECK_THROWS_WITH(st::run_eval(c, log), ContainsSubstring("--random-init"));
  c.pretrained = pretrained;
  c.width = 16;  // the checkpoint holds width 8
  CHECK_THROWS_WITH(st::run_eval(c, log), ContainsSubstring("checkpoint.pt") &&
                                              ContainsSubstring("does not fit this model") &&
                                              ContainsSubstring("backbone.conv1.weight"));
  c.width = 8;
  c.data = tmp.path / "no_such_data";
  CHECK_THROWS_WITH(st::run_eval(c, log), ContainsSubstring("no_such_data"));
  c.data = tmp.path;
  c.resume = true;
  CHECK_THROWS_WITH(st::run_eval(c, log), ContainsSubstring("eval_checkpoint.pt"));
  c.resume = false;
  c.random_init = true;
  CHECK_THROWS_AS(st::run_eval(c, log), spectral::invalid_input);  // both given
  c.pretrained.clear();
  c.epochs = 1;
  const auto summary = st::run_eval(c, log);  // the random-init baseline runs
  CHECK(summary["final"]["val_top5"].get<double>() >= summary["final"]["val_top1"].get<double>());
}
