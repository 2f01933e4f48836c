// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0

// `spectral experiment real`: the collapse study on Fashion-MNIST. Views are random crops of a
// training image plus independent pixel noise; the spectrum is tracked on centre crops of test
// images, and each learned embedding is scored by a linear probe (train → test accuracy).

#include "common/fashion_mnist.hpp"
#include "encoder.hpp"
#include "experiments.hpp"
#include "linear_probe.hpp"
#include "method_dispatch.hpp"
#include "progress.hpp"
#include "random.hpp"
#include "ssl_objective.hpp"
#include "ssl_training.hpp"
#include "training_report.hpp"

#include <spectral/spectral.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

namespace spectral::cli {

namespace {

/// Crops and standardises images into rows of crop² values.
struct image_views {
  const examples::idx_images* images;
  index_t crop;
  double noise;
  index_t batch;
  double mean;  ///< of the [0, 1] pixels of the training set
  double std;

  /// Pixel rows of image i, cropped at (top, left), plus N(0, noise²) when rng is given.
  void crop_into(std::size_t i,
                 index_t top,
                 index_t left,
                 random_source* rng,
                 row_matrix<double>& out,
                 index_t row) const {
    const std::uint8_t* image = images->image(i);
    const auto width = static_cast<index_t>(images->cols);
    for (index_t y = 0; y < crop; ++y) {
      for (index_t x = 0; x < crop; ++x) {
        double value = image[(top + y) * width + left + x] / 255.0;
        if (rng != nullptr) {
          value += noise * rng->normal();
        }
        out(row, y * crop + x) = (value - mean) / std;
      }
    }
  }

  void operator()(random_source& rng, row_matrix<double>& x1, row_matrix<double>& x2) const {
    const index_t slack = static_cast<index_t>(images->rows) - crop + 1;
    x1.resize(batch, crop * crop);
    x2.resize(batch, crop * crop);
    for (index_t r = 0; r < batch; ++r) {
      const auto i = static_cast<std::size_t>(rng.below(static_cast<index_t>(images->count)));
      crop_into(i, rng.below(slack), rng.below(slack), &rng, x1, r);
      crop_into(i, rng.below(slack), rng.below(slack), &rng, x2, r);
    }
  }

  /// Centre crops of the first `count` images, no noise.
  [[nodiscard]] row_matrix<double> centre(const examples::idx_images& source, index_t count) const {
    const image_views view{&source, crop, 0.0, batch, mean, std};
    const index_t offset = (static_cast<index_t>(source.rows) - crop) / 2;
    row_matrix<double> out(count, crop * crop);
    for (index_t r = 0; r < count; ++r) {
      view.crop_into(static_cast<std::size_t>(r), offset, offset, nullptr, out, r);
    }
    return out;
  }
};

std::vector<std::uint8_t> first_labels(const std::vector<std::uint8_t>& labels, index_t count) {
  return {labels.begin(), labels.begin() + count};
}

}  // namespace

void run_real(const real_args& args) {
  const examples::fashion_mnist_split train = examples::load_fashion_mnist(args.data, "train");
  const examples::fashion_mnist_split test = examples::load_fashion_mnist(args.data, "t10k");
  SPECTRAL_EXPECTS(args.probe_train <= static_cast<long>(train.images.count),
                   "--probe-train: at most ", train.images.count, " images, got ",
                   args.probe_train);
  SPECTRAL_EXPECTS(args.probe_test <= static_cast<long>(test.images.count) &&
                       args.eval_samples <= static_cast<long>(test.images.count),
                   "--probe-test, --eval-samples: at most ", test.images.count, " images");
  SPECTRAL_EXPECTS(args.batch > args.dim,
                   "--batch: the features axis needs N > D, got N=", args.batch, ", D=", args.dim);
  const std::filesystem::path folder = prepare_output_folder(args.common.out);

  double sum = 0;
  double squares = 0;
  for (const std::uint8_t p : train.images.pixels) {
    sum += p / 255.0;
    squares += (p / 255.0) * (p / 255.0);
  }
  const double count = static_cast<double>(train.images.pixels.size());
  const double mean = sum / count;
  const image_views views{&train.images, args.crop, args.noise,
                          args.batch,    mean,      std::sqrt(squares / count - mean * mean)};
  const row_matrix<double> eval_inputs = views.centre(test.images, args.eval_samples);
  const row_matrix<double> probe_train_inputs = views.centre(train.images, args.probe_train);
  const row_matrix<double> probe_test_inputs = views.centre(test.images, args.probe_test);
  const auto probe_train_labels = first_labels(train.labels, args.probe_train);
  const auto probe_test_labels = first_labels(test.labels, args.probe_test);
  const auto probe = [&](const encoder& enc) {
    return linear_probe_accuracy(enc.forward(probe_train_inputs), probe_train_labels,
                                 enc.forward(probe_test_inputs), probe_test_labels, args.ridge);
  };

  const options opts{.axis = axis::features};
  const std::vector<st_instance> instances =
      collapse_instances(args.powers, args.iterations, opts, args.intl_betas, args.dim);
  const training_settings settings{args.steps, args.learning_rate, args.momentum, 0.0,
                                   args.log_every};
  const index_t input = args.crop * args.crop;

  // Reference points for the probe: the pixels themselves and each encoder before training.
  csv_table baselines({"baseline", "encoder", "run", "probe_accuracy"});
  const double pixel_accuracy = linear_probe_accuracy(
      probe_train_inputs, probe_train_labels, probe_test_inputs, probe_test_labels, args.ridge);
  baselines.add({std::string("pixels"), std::string("none"), 0L, pixel_accuracy});

  std::map<std::string, double> untrained_accuracy;  // summed over runs
  training_report report("real", args.dim);
  progress_line progress("real",
                         static_cast<long>(args.encoders.size() * instances.size()) * args.runs);
  long done = 0;
  for (const std::string& encoder_name : args.encoders) {
    const encoder_kind kind = parse_encoder_kind(encoder_name);
    for (int run = 0; run < args.runs; ++run) {
      const std::uint64_t seed = args.common.seed + static_cast<std::uint64_t>(run);
      {
        random_source init_rng(seed, kind == encoder_kind::linear ? 2 : 3);
        const encoder untrained(kind, input, args.hidden, args.dim, init_rng);
        const double accuracy = probe(untrained);
        untrained_accuracy[encoder_name] += accuracy;
        baselines.add({std::string("untrained"), encoder_name, static_cast<long>(run), accuracy});
      }
      for (const st_instance& instance : instances) {
        progress.update(done,
                        encoder_name + " " + instance.label() + " run " + std::to_string(run));
        random_source init_rng(seed, kind == encoder_kind::linear ? 2 : 3);
        random_source data_rng(seed, 4);
        encoder enc(kind, input, args.hidden, args.dim, init_rng);
        training_outcome outcome =
            train_ssl(enc, instance.loss, views, eval_inputs, settings, data_rng);
        report.add(encoder_name, instance, run, seed, std::move(outcome), probe(enc));
        ++done;
      }
    }
  }
  progress.finish();

  const collapse_args thresholds;
  report.write(folder, thresholds.collapsed_below, thresholds.full_from);
  baselines.write(folder / "baselines.csv");
  report.plot(folder, "Fashion-MNIST (" + std::to_string(args.crop) + "x" +
                          std::to_string(args.crop) + " crops, noise " + format_number(args.noise) +
                          ")");
  std::printf(
      "real: Fashion-MNIST from %s, D=%ld, N=%ld, %d steps, %d run(s), seeds %llu.., "
      "probe %ld train / %ld test images, INTL-T%d beta %g (trade_off_beta(%ld))\n",
      args.data.c_str(), args.dim, args.batch, args.steps, args.runs,
      static_cast<unsigned long long>(args.common.seed), args.probe_train, args.probe_test,
      args.iterations, intl_beta(-1, args.dim), args.dim);
  report.print_table(thresholds.collapsed_below, thresholds.full_from);
  std::printf("probe baselines: raw pixels %.4f", pixel_accuracy);
  for (const auto& [encoder_name, accuracy] : untrained_accuracy) {
    std::printf(", untrained %s encoder %.4f (mean over runs)", encoder_name.c_str(),
                accuracy / args.runs);
  }
  std::printf("\nwrote %s\n", folder.string().c_str());
}

}  // namespace spectral::cli
