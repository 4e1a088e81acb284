// The encoder and decoder layers of section 3.1, with nn.TransformerEncoderLayer's and
// nn.TransformerDecoderLayer's parameter names and dropout sites.
//   post-norm (the paper):  x = LayerNorm(x + Dropout(Sublayer(x)))
//   pre-norm (norm_first):  x = x + Dropout(Sublayer(LayerNorm(x)))   (Xiong et al., 2020)
#pragma once
#include <memory>
#include <vector>

#include "nn/local_attention.h"
#include "nn/relative_attention.h"
#include "nn/scored_attention.h"
#include "nn/layers.h"

namespace tfm {

// One residual sub-layer connection, post-norm or pre-norm. `sublayer` maps the (possibly
// normalised) input to the sub-layer's output; dropout is applied to that output (section 5.4).
template <class F>
Var sublayer_connection(const Var& x, const LayerNorm& norm, bool norm_first, double dropout,
                        ForwardContext& ctx, F&& sublayer) {
  if (norm_first) {
    Var y = sublayer(norm.forward(x));
    return ops::add(x, ops::dropout(y, ctx.p(dropout), ctx.next_seed()));
  }
  Var y = sublayer(x);
  return norm.forward_residual(x, ops::dropout(y, ctx.p(dropout), ctx.next_seed()));
}

struct LayerOptions {
  int64_t d_model, heads, d_ff;
  double dropout, eps;
  std::string activation;
  bool norm_first;
  DType dtype;
  AttentionKind attention = AttentionKind::ScaledDot;  // the score of every attention (issue 3)
  // Relative positions (Music Transformer): self-attention adds learned embeddings of the
  // distance, clipped at max_relative_distance; 0 means absolute positions, added at the input.
  int64_t max_relative_distance = 0;
  // Local self-attention (Image Transformer) when use_local; `masked` is set per layer.
  bool use_local = false;
  LocalAttentionOptions local;
};


// A layer's self-attention: the configured score over content alone, relative self-attention
// (Huang et al., 2018), whose scores also see the clipped distance between positions, or local
// self-attention (Parmar et al., 2018) within memory blocks. Each is stored under the scope
// "self_attn" with nn.MultiheadAttention's names (plus the relative table).
class SelfAttention : public Module {
 public:
  SelfAttention(const LayerOptions& o, bool causal);
  Var forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* pad, ForwardContext& ctx) const;
  // forward for inference at the positions `rows` of the (B*T) layout only (x: (N, C) -> (N, C)),
  // the padding masked: scored attention projects the N rows alone; relative and local attention
  // run on the padded layout with zeros at the other positions.
  Var forward_unpadded(const Var& x, const std::vector<int64_t>& rows, int64_t B, int64_t T,
                       const std::vector<uint8_t>* pad, ForwardContext& ctx) const;
  std::unique_ptr<ScoredAttention> scored;        // null when relative
  std::unique_ptr<RelativeSelfAttention> relative;  // null otherwise
  std::unique_ptr<LocalSelfAttention> local;        // null otherwise
  bool causal;
  // The projections, whichever kind holds them (the KV-cache decoder reads them).
  const Var& in_proj_weight() const {
    return relative ? relative->in_proj_weight : local ? local->in_proj_weight : scored->in_proj_weight;
  }
  const Var& in_proj_bias() const {
    return relative ? relative->in_proj_bias : local ? local->in_proj_bias : scored->in_proj_bias;
  }
  const Linear& out_proj() const { return relative ? relative->out_proj : local ? local->out_proj : scored->out_proj; }
};

// Self-attention and feed-forward: the encoder's layer, and with causal self-attention the layer
// of a decoder-only model (nn.TransformerEncoderLayer with a causal mask).
class EncoderLayer : public Module {
 public:
  explicit EncoderLayer(const LayerOptions& o, bool causal = false);
  // x (B*T, C) -> (B*T, C); pad (B*T) marks padding positions.
  Var forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* pad, ForwardContext& ctx) const;
  // The layer with its self-attention supplied by the caller (see DecoderLayer::run).
  template <class SelfAttentionFn>
  Var run(const Var& x, SelfAttentionFn&& self_attention, ForwardContext& ctx) const {
    Var h = sublayer_connection(x, norm1, norm_first, dropout, ctx, self_attention);
    return sublayer_connection(h, norm2, norm_first, dropout, ctx,
                               [&](const Var& in) { return ff.forward(in, ctx); });
  }
  SelfAttention self_attn;
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
  // The layer with its two attentions supplied by the caller (each maps the sub-layer input
  // (B*T, C) to its output): forward() passes the full-sequence ones, the incremental decoder
  // passes ones that read the KV cache. The residual and norm wiring lives only here.
  template <class SelfAttention, class CrossAttention>
  Var run(const Var& x, SelfAttention&& self_attention, CrossAttention&& cross_attention,
          ForwardContext& ctx) const {
    Var h = sublayer_connection(x, norm1, norm_first, dropout, ctx, self_attention);
    h = sublayer_connection(h, norm2, norm_first, dropout, ctx, cross_attention);
    return sublayer_connection(h, norm3, norm_first, dropout, ctx,
                               [&](const Var& in) { return ff.forward(in, ctx); });
  }
  SelfAttention self_attn;
  ScoredAttention multihead_attn;
  FeedForward ff;
  LayerNorm norm1, norm2, norm3;
  bool norm_first;
  double dropout;
};

}  // namespace tfm
