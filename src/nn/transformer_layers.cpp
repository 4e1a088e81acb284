#include "nn/transformer_layers.h"

namespace tfm {

EncoderLayer::EncoderLayer(const LayerOptions& o)
    : self_attn(o.d_model, o.heads, o.dropout, o.dtype, o.attention),
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
  Var h = sublayer_connection(x, norm1, norm_first, dropout, ctx, [&](const Var& in) {
    return self_attn.self_attention(in, B, T, pad, /*causal=*/false, ctx);
  });
  return sublayer_connection(h, norm2, norm_first, dropout, ctx,
                             [&](const Var& in) { return ff.forward(in, ctx); });
}

DecoderLayer::DecoderLayer(const LayerOptions& o)
    : self_attn(o.d_model, o.heads, o.dropout, o.dtype, o.attention),
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
      x, [&](const Var& in) { return self_attn.self_attention(in, B, T, tgt_pad, /*causal=*/true, ctx); },
      [&](const Var& in) { return multihead_attn.cross_attention(in, memory, B, T, S, src_pad, ctx); }, ctx);
}

}  // namespace tfm
