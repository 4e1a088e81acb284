// Section 3.2.2, multi-head attention:
//   MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,  head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
// stored as nn.MultiheadAttention stores it: in_proj_weight (3C, C) = [W^Q; W^K; W^V] for all
// heads, in_proj_bias (3C), out_proj.weight (C, C), out_proj.bias (C).
#pragma once
#include <vector>

#include "nn/layers.h"

namespace tfm {

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t d_model, int64_t heads, double dropout, DType dt);

  // Self-attention (section 3.2.3): queries, keys and values all from x (B*T, C), one fused
  // projection. key_pad (B*T) marks padding keys; causal hides later positions (the decoder).
  Var self_attention(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* key_pad,
                     bool causal, ForwardContext& ctx) const;
  // Encoder-decoder attention: queries from the decoder x (B*Tq, C), keys and values from the
  // encoder output memory (B*Tk, C).
  Var cross_attention(const Var& x, const Var& memory, int64_t B, int64_t Tq, int64_t Tk,
                      const std::vector<uint8_t>* memory_pad, ForwardContext& ctx) const;

  Var& in_proj_weight;
  Var& in_proj_bias;
  Linear out_proj;
  int64_t d_model, heads;
  double dropout;
};

}  // namespace tfm
