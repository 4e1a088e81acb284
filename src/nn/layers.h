// The basic layers: Linear, Embedding, LayerNorm, the position-wise feed-forward network and the
// sinusoidal positional encoding.
#pragma once
#include <string>

#include "autograd/ops.h"
#include "nn/module.h"

namespace tfm {

// y = x W^T + b, W (out, in) as nn.Linear stores it.
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, DType dt, bool bias = true);
  Var forward(const Var& x) const { return ops::linear(x, weight, bias); }
  Var& weight;
  Var bias;  // undefined without bias
};

// A lookup table (V, C), nn.Embedding's "weight".
class Embedding : public Module {
 public:
  Embedding(int64_t vocab, int64_t dim, DType dt);
  Var& weight;
};

// Layer normalisation with gain "weight" and bias "bias" (nn.LayerNorm's names).
class LayerNorm : public Module {
 public:
  LayerNorm(int64_t dim, double eps, DType dt);
  Var forward(const Var& x) const { return ops::layer_norm(x, weight, bias, eps); }
  // LayerNorm(x + y): the post-norm residual connection of section 3.1.
  Var forward_residual(const Var& x, const Var& y) const {
    return ops::residual_layer_norm(x, y, weight, bias, eps);
  }
  Var& weight;
  Var& bias;
  double eps;
};

// Section 3.3, position-wise feed-forward network: FFN(x) = max(0, x W1 + b1) W2 + b2,
// applied to each position separately. GELU (Hendrycks & Gimpel) is an option. Dropout on the
// hidden layer, as nn.TransformerEncoderLayer does. Its parameters sit on the enclosing layer in
// PyTorch ("linear1.weight"), so it is registered into its parent's scope.
class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t d_ff, const std::string& activation, double dropout, DType dt);
  Var forward(const Var& x, ForwardContext& ctx) const;
  Linear linear1, linear2;
  bool gelu;
  double dropout;
};

// Section 3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)),
// computed in double and rounded once, as the reference does. (max_len, d).
Tensor sinusoidal_table(int64_t max_len, int64_t d, DType dt);

}  // namespace tfm
