#include "nn/attention.h"

namespace tfm {

MultiheadAttention::MultiheadAttention(int64_t d, int64_t h, double p, DType dt)
    : in_proj_weight(add_parameter("in_proj_weight", Tensor::zeros({3 * d, d}, dt))),
      in_proj_bias(add_parameter("in_proj_bias", Tensor::zeros({3 * d}, dt))),
      out_proj(d, d, dt),
      d_model(d),
      heads(h),
      dropout(p) {
  add_child("out_proj", out_proj);
}

Var MultiheadAttention::self_attention(const Var& x, int64_t B, int64_t T,
                                       const std::vector<uint8_t>* key_pad, bool causal,
                                       ForwardContext& ctx) const {
  Var qkv = ops::linear(x, in_proj_weight, in_proj_bias);  // (B*T, 3C): [Q | K | V]
  ops::AttentionArgs a;
  a.B = B, a.Tq = T, a.Tk = T, a.H = heads, a.dh = d_model / heads;
  a.q_col = 0, a.k_col = d_model, a.v_col = 2 * d_model;
  a.key_pad = key_pad, a.causal = causal;
  a.dropout = ctx.p(dropout), a.seed = ctx.next_seed();
  return out_proj.forward(ops::attention(qkv, qkv, qkv, a));
}

Var MultiheadAttention::cross_attention(const Var& x, const Var& memory, int64_t B, int64_t Tq,
                                        int64_t Tk, const std::vector<uint8_t>* memory_pad,
                                        ForwardContext& ctx) const {
  Var q = ops::linear(x, in_proj_weight, in_proj_bias, 0, d_model);                // (B*Tq, C)
  Var kv = ops::linear(memory, in_proj_weight, in_proj_bias, d_model, 3 * d_model);  // (B*Tk, 2C)
  ops::AttentionArgs a;
  a.B = B, a.Tq = Tq, a.Tk = Tk, a.H = heads, a.dh = d_model / heads;
  a.q_col = 0, a.k_col = 0, a.v_col = d_model;
  a.key_pad = memory_pad;
  a.dropout = ctx.p(dropout), a.seed = ctx.next_seed();
  return out_proj.forward(ops::attention(q, kv, kv, a));
}

}  // namespace tfm
