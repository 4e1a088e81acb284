// The attention scoring functions of the course notes as differentiable ops, over the kernels
// of kernels/attention_scores.h. Same conventions as ops::attention (autograd/ops.h): q (B*Tq,
// >= q_col + H*dh), k and v (B*Tk, ...), head h reads columns col + h*dh; the AttentionArgs
// carry sizes, masks and dropout (their `scale` is ignored by the additive and cosine kinds).
// -> (B*Tq, H*dh), the concatenation of heads.
//
// `weights`, when given, receives the attention weights (B, H, Tq, Tk): the softmax output
// before dropout, zero at masked keys. For inspection and tests; it costs nothing extra.
#pragma once
#include "autograd/ops.h"

namespace tfm::ops {

// Luong's dot score q . k: scaled dot-product attention with scale 1 (no 1/sqrt(dh)).
Var dot_attention(const Var& q, const Var& k, const Var& v, AttentionArgs args);

// Bahdanau's additive score v^T tanh(W1 q + W2 k), per head; w1, w2 (H*da, dh), wv (H, da).
Var additive_attention(const Var& q, const Var& k, const Var& v, const Var& w1, const Var& w2,
                       const Var& wv, const AttentionArgs& args, Tensor* weights = nullptr);

// Graves' content-based score beta * cos(q, k), beta = softplus(beta_raw) per head, beta_raw (H);
// |x| is guarded by max(|x|, eps) so a zero vector scores 0 instead of NaN.
Var cosine_attention(const Var& q, const Var& k, const Var& v, const Var& beta_raw,
                     const AttentionArgs& args, double eps = 1e-8, Tensor* weights = nullptr);

// The weights softmax(scale * Q K^T) (B, H, Tq, Tk) of ops::attention (scale 0: 1/sqrt(dh)),
// for inspecting the scaled-dot and dot kinds, whose op keeps its probabilities to itself.
// No tape, no dropout.
Tensor dot_product_weights(const Var& q, const Var& k, const AttentionArgs& args);

}  // namespace tfm::ops
