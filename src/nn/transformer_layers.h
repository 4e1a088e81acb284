// The encoder and decoder layers of section 3.1, with nn.TransformerEncoderLayer's and
// nn.TransformerDecoderLayer's parameter names and dropout sites.
//   post-norm (the paper):  x = LayerNorm(x + Dropout(Sublayer(x)))
//   pre-norm (norm_first):  x = x + Dropout(Sublayer(LayerNorm(x)))   (Xiong et al., 2020)
#pragma once
#include <vector>

#include "nn/attention.h"
#include "nn/layers.h"

namespace tfm {

struct LayerOptions {
  int64_t d_model, heads, d_ff;
  double dropout, eps;
  std::string activation;
  bool norm_first;
  DType dtype;
};

class EncoderLayer : public Module {
 public:
  explicit EncoderLayer(const LayerOptions& o);
  // x (B*T, C) -> (B*T, C); pad (B*T) marks padding positions of the source.
  Var forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* pad, ForwardContext& ctx) const;
  MultiheadAttention self_attn;
  FeedForward ff;
  LayerNorm norm1, norm2;
  bool norm_first;
  double dropout;
};

class DecoderLayer : public Module {
 public:
  explicit DecoderLayer(const LayerOptions& o);
  // x (B*T, C), memory (B*S, C) -> (B*T, C). Self-attention is causal (section 3.2.3).
  Var forward(const Var& x, const Var& memory, int64_t B, int64_t T, int64_t S,
              const std::vector<uint8_t>* tgt_pad, const std::vector<uint8_t>* src_pad,
              ForwardContext& ctx) const;
  MultiheadAttention self_attn, multihead_attn;
  FeedForward ff;
  LayerNorm norm1, norm2, norm3;
  bool norm_first;
  double dropout;
};

}  // namespace tfm
