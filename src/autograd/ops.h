// The differentiable ops. Each is forward + backward in one place (ops.cpp), over the kernels of
// src/kernels/, and works in float32 and float64 (the gradient checks run in double).
// Activations are 2-D (N, C) with N = B*T rows; the ops that need B and T take them.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/var.h"

namespace tfm::ops {

// y (N, rows) = x (N,C) W[row_begin:row_end]^T + b[row_begin:row_end]   (b may be undefined)
// A row range lets one stored matrix (in_proj_weight, (3C, C)) serve Q, K and V separately.
Var linear(const Var& x, const Var& W, const Var& b, int64_t row_begin = 0, int64_t row_end = -1);

Var relu(const Var& x);
Var gelu(const Var& x);
Var tanh(const Var& x);
// The same values in another shape of equal size (e.g. (B*T, C) <-> (B, T, C)).
Var reshape(const Var& x, const Shape& shape);
Var add(const Var& a, const Var& b);
Var scale(const Var& x, double alpha);
// Inverted dropout (identity when p == 0); the mask is a function of (seed, element index).
Var dropout(const Var& x, double p, uint64_t seed);
// dropout(relu(x), p, seed) in one pass, same values and gradients; no relu output is kept.
Var relu_dropout(const Var& x, double p, uint64_t seed);

// LayerNorm over the last dimension of x (N,C) with gamma, beta (C).
Var layer_norm(const Var& x, const Var& gamma, const Var& beta, double eps);
// LayerNorm(a + b): the post-norm sub-layer connection "LayerNorm(x + Sublayer(x))" (sec. 3.1).
Var residual_layer_norm(const Var& a, const Var& b, const Var& gamma, const Var& beta, double eps);

// ids (B,T) I32, table (V,C) -> (B*T, C) = table[ids] * scale + pe[:T]  (pe (>=T, C) or undefined)
Var embedding(const Var& table, const Tensor& ids, double scale, const Tensor& pe);

// Multi-head scaled dot-product attention over column blocks (see kernels/attention.h):
// q (B*Tq, >= q_col + H*dh), k and v (B*Tk, ...); head h reads columns col + h*dh.
// key_pad: B*Tk bytes, nonzero = padding key (empty: none). -> (B*Tq, H*dh)
struct AttentionArgs {
  int64_t B = 0, Tq = 0, Tk = 0, H = 0, dh = 0;
  int64_t q_col = 0, k_col = 0, v_col = 0;
  const std::vector<uint8_t>* key_pad = nullptr;
  bool causal = false;
  double dropout = 0;
  uint64_t seed = 0;
  double scale = 0;  // 0: 1 / sqrt(dh)
};
Var attention(const Var& q, const Var& k, const Var& v, const AttentionArgs& args);

// Mean label-smoothed cross-entropy of logits (N,V) against targets (N), skipping `ignore`
// (PyTorch's CrossEntropyLoss(label_smoothing, ignore_index)). A scalar; 0 if every row is ignored.
Var cross_entropy(const Var& logits, const std::vector<int32_t>& targets, int32_t ignore,
                  double label_smoothing);
// Row-wise log-softmax of x (N,V).
Var log_softmax(const Var& x);
// sum(x * w): a scalar probe for gradient checks and tests (w has x's shape and dtype).
Var weighted_sum(const Var& x, const Tensor& w);

}  // namespace tfm::ops
