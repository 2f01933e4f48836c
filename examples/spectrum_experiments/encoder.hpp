// SPDX-FileCopyrightText: 2026 spectral contributors
// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The small encoders of the collapse experiments: linear (Z = X W + b) or a 2-layer MLP with a
/// ReLU (Z = relu(X W₁ + b₁) W₂ + b₂), with a hand-written backward and SGD with momentum.
/// Rows are samples, as everywhere in the library.

#include "random.hpp"

#include <spectral/core/error.hpp>
#include <spectral/core/types.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

namespace spectral::cli {

enum class encoder_kind { linear, mlp };

[[nodiscard]] inline encoder_kind parse_encoder_kind(std::string_view name) {
  SPECTRAL_EXPECTS(name == "linear" || name == "mlp", "--encoders: expected linear or mlp, got '",
                   name, "'");
  return name == "linear" ? encoder_kind::linear : encoder_kind::mlp;
}

class encoder {
 public:
  struct layer {
    row_matrix<double> weight;  ///< in × out
    Eigen::RowVectorXd bias;    ///< 1 × out
  };

  /// Activations forward keeps for backward.
  struct cache {
    row_matrix<double> input;
    row_matrix<double> hidden;  ///< relu output (MLP only)
  };

  /// ∂L/∂ of every parameter, accumulated over the views that share the encoder.
  using gradients = std::vector<layer>;

  /// Weights N(0, gain/in): gain 2 before a ReLU (He), 1 otherwise (LeCun); biases zero.
  encoder(encoder_kind kind, index_t input, index_t hidden, index_t output, random_source& rng)
      : kind_(kind) {
    const auto make = [&](index_t in, index_t out, double gain) {
      return layer{rng.normal_matrix(in, out, std::sqrt(gain / static_cast<double>(in))),
                   Eigen::RowVectorXd::Zero(out)};
    };
    if (kind == encoder_kind::linear) {
      layers_.push_back(make(input, output, 1.0));
    } else {
      layers_.push_back(make(input, hidden, 2.0));
      layers_.push_back(make(hidden, output, 1.0));
    }
    velocity_ = zero_gradients();
  }

  [[nodiscard]] encoder_kind kind() const noexcept { return kind_; }

  /// Z for the rows of x; fills `c` for backward when it is non-null.
  [[nodiscard]] row_matrix<double> forward(const row_matrix<double>& x, cache* c = nullptr) const {
    row_matrix<double> z = (x * layers_[0].weight).rowwise() + layers_[0].bias;
    if (kind_ == encoder_kind::mlp) {
      z = z.cwiseMax(0.0);
      if (c != nullptr) {
        c->hidden = z;
      }
      z = ((z * layers_[1].weight).rowwise() + layers_[1].bias).eval();
    }
    if (c != nullptr) {
      c->input = x;
    }
    return z;
  }

  /// Adds ∂L/∂θ for grad_z = ∂L/∂Z of one forward into `g`.
  void backward(const cache& c, const row_matrix<double>& grad_z, gradients& g) const {
    if (kind_ == encoder_kind::linear) {
      g[0].weight.noalias() += c.input.transpose() * grad_z;
      g[0].bias += grad_z.colwise().sum();
      return;
    }
    g[1].weight.noalias() += c.hidden.transpose() * grad_z;
    g[1].bias += grad_z.colwise().sum();
    // relu'(pre) = 1 exactly where the stored output is positive.
    const row_matrix<double> grad_hidden =
        (grad_z * layers_[1].weight.transpose())
            .cwiseProduct((c.hidden.array() > 0.0).cast<double>().matrix());
    g[0].weight.noalias() += c.input.transpose() * grad_hidden;
    g[0].bias += grad_hidden.colwise().sum();
  }

  [[nodiscard]] gradients zero_gradients() const {
    gradients g;
    for (const auto& l : layers_) {
      g.push_back({row_matrix<double>::Zero(l.weight.rows(), l.weight.cols()),
                   Eigen::RowVectorXd::Zero(l.bias.size())});
    }
    return g;
  }

  /// v ← μ v + (g + λ W);  W ← W − η v   (biases are not decayed).
  void sgd_step(const gradients& g, double learning_rate, double momentum, double weight_decay) {
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      velocity_[i].weight =
          momentum * velocity_[i].weight + g[i].weight + weight_decay * layers_[i].weight;
      velocity_[i].bias = momentum * velocity_[i].bias + g[i].bias;
      layers_[i].weight -= learning_rate * velocity_[i].weight;
      layers_[i].bias -= learning_rate * velocity_[i].bias;
    }
  }

 private:
  encoder_kind kind_;
  std::vector<layer> layers_;
  gradients velocity_;
};

[[nodiscard]] inline std::string to_string(encoder_kind kind) {
  return kind == encoder_kind::linear ? "linear" : "mlp";
}

}  // namespace spectral::cli
