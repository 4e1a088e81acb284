#include "nn/transformer_layers.h"

namespace tfm {

SelfAttention::SelfAttention(const LayerOptions& o, bool causal_) : causal(causal_) {
  if (o.use_local) {
    LocalAttentionOptions lo = o.local;
    lo.masked = causal;
    local = std::make_unique<LocalSelfAttention>(o.d_model, o.heads, lo, o.dropout, o.dtype);
    add_child("", *local);
  } else if (o.max_relative_distance > 0) {
    relative = std::make_unique<RelativeSelfAttention>(o.d_model, o.heads, o.max_relative_distance, causal,
                                                       o.dropout, o.dtype);
    add_child("", *relative);
  } else {
    scored = std::make_unique<ScoredAttention>(o.d_model, o.heads, o.dropout, o.dtype, o.attention);
    add_child("", *scored);
  }
}

Var SelfAttention::forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* pad,
                           ForwardContext& ctx) const {
  if (local) return local->forward(x, B, T, pad, ctx);
  return relative ? relative->forward(x, B, T, pad, ctx) : scored->self_attention(x, B, T, pad, causal, ctx);
}

Var SelfAttention::forward_unpadded(const Var& x, const std::vector<int64_t>& rows, int64_t B, int64_t T,
                                   const std::vector<uint8_t>* pad, ForwardContext& ctx) const {
  TFM_CHECK(!grad_enabled(), "forward_unpadded is for inference: it records no gradient");
  if (scored) return scored->self_attention_unpadded(x, rows, B, T, pad, causal, ctx);
  return Var(gather_rows(forward(Var(scatter_rows(x.value(), rows, B * T)), B, T, pad, ctx).value(), rows));
}

EncoderLayer::EncoderLayer(const LayerOptions& o, bool causal)
    : self_attn(o, causal),
      ff(o.d_model, o.d_ff, o.activation, o.dropout, o.dtype),
      norm1(o.d_model, o.eps, o.dtype),
      norm2(o.d_model, o.eps, o.dtype),
      norm_first(o.norm_first),
      dropout(o.dropout) {
  add_child("self_attn", self_attn);
  add_child("", ff);
  add_child("norm1", norm1);
  add_child("norm2", norm2);
}

Var EncoderLayer::forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* pad,
                          ForwardContext& ctx) const {
  return run(x, [&](const Var& in) { return self_attn.forward(in, B, T, pad, ctx); }, ctx);
}

DecoderLayer::DecoderLayer(const LayerOptions& o)
    : self_attn(o, /*causal=*/true),
      multihead_attn(o.d_model, o.heads, o.dropout, o.dtype, o.attention),
      ff(o.d_model, o.d_ff, o.activation, o.dropout, o.dtype),
      norm1(o.d_model, o.eps, o.dtype),
      norm2(o.d_model, o.eps, o.dtype),
      norm3(o.d_model, o.eps, o.dtype),
      norm_first(o.norm_first),
      dropout(o.dropout) {
  add_child("self_attn", self_attn);
  add_child("multihead_attn", multihead_attn);
  add_child("", ff);
  add_child("norm1", norm1);
  add_child("norm2", norm2);
  add_child("norm3", norm3);
}

Var DecoderLayer::forward(const Var& x, const Var& memory, int64_t B, int64_t T, int64_t S,
                          const std::vector<uint8_t>* tgt_pad, const std::vector<uint8_t>* src_pad,
                          ForwardContext& ctx) const {
  return run(
      x, [&](const Var& in) { return self_attn.forward(in, B, T, tgt_pad, ctx); },
      [&](const Var& in) { return multihead_attn.cross_attention(in, memory, B, T, S, src_pad, ctx); }, ctx);
}

}  // namespace tfm
