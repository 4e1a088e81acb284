#include "nn/scored_attention.h"

#include <cmath>

#include "kernels/attention_scores.h"

namespace tfm {

AttentionKind parse_attention_kind(const std::string& name) {
  if (name == "scaled_dot") return AttentionKind::ScaledDot;
  if (name == "dot") return AttentionKind::Dot;
  if (name == "additive") return AttentionKind::Additive;
  if (name == "cosine") return AttentionKind::Cosine;
  TFM_CHECK(false, "unknown attention kind \"", name,
            "\" (expected scaled_dot, dot, additive or cosine)");
  return AttentionKind::ScaledDot;
}

const char* attention_kind_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::ScaledDot: return "scaled_dot";
    case AttentionKind::Dot: return "dot";
    case AttentionKind::Additive: return "additive";
    case AttentionKind::Cosine: return "cosine";
  }
  return "?";
}

ScoredAttention::ScoredAttention(int64_t d, int64_t h, double p, DType dt, AttentionKind k,
                                 int64_t da, double eps)
    : in_proj_weight(add_parameter("in_proj_weight", Tensor::zeros({3 * d, d}, dt))),
      in_proj_bias(add_parameter("in_proj_bias", Tensor::zeros({3 * d}, dt))),
      out_proj(d, d, dt),
      d_model(d),
      heads(h),
      d_attn(da > 0 ? da : d / h),
      dropout(p),
      cosine_eps(eps),
      kind(k) {
  TFM_CHECK(h > 0 && d % h == 0, "d_model ", d, " is not a multiple of heads ", h);
  add_child("out_proj", out_proj);
  const int64_t dh = d / h;
  if (kind == AttentionKind::Additive) {
    score_w1 = add_parameter("score.w1", Tensor::zeros({h * d_attn, dh}, dt));
    score_w2 = add_parameter("score.w2", Tensor::zeros({h * d_attn, dh}, dt));
    score_v = add_parameter("score.v", Tensor::zeros({h, d_attn}, dt));
  } else if (kind == AttentionKind::Cosine) {
    score_beta_raw = add_parameter("score.beta_raw", Tensor::full({h}, initial_beta_raw(), dt));
  }
}

double ScoredAttention::initial_beta_raw() const {
  return kernels::softplus_inverse(std::sqrt(static_cast<double>(d_model / heads)));
}

Var ScoredAttention::attend(const Var& q, const Var& k, const Var& v, const ops::AttentionArgs& a,
                            Tensor* weights) const {
  switch (kind) {
    case AttentionKind::Additive:
      return ops::additive_attention(q, k, v, score_w1, score_w2, score_v, a, weights);
    case AttentionKind::Cosine:
      return ops::cosine_attention(q, k, v, score_beta_raw, a, cosine_eps, weights);
    case AttentionKind::ScaledDot:
    case AttentionKind::Dot: {
      ops::AttentionArgs s = a;
      s.scale = kind == AttentionKind::Dot ? 1.0 : 0.0;  // 0: 1/sqrt(dh)
      if (weights) *weights = ops::dot_product_weights(q, k, s);
      return ops::attention(q, k, v, s);
    }
  }
  TFM_ASSERT(false, "attention kind ", static_cast<int>(kind));
  return Var();
}

ops::AttentionArgs ScoredAttention::self_args(int64_t B, int64_t T, const std::vector<uint8_t>* key_pad,
                                              bool causal, ForwardContext& ctx) const {
  ops::AttentionArgs a;
  a.B = B, a.Tq = T, a.Tk = T, a.H = heads, a.dh = d_model / heads;
  a.q_col = 0, a.k_col = d_model, a.v_col = 2 * d_model;  // in the (B*T, 3C) [Q | K | V]
  a.key_pad = key_pad, a.causal = causal;
  a.dropout = ctx.p(dropout), a.seed = ctx.next_seed();
  return a;
}

Var ScoredAttention::self_attention(const Var& x, int64_t B, int64_t T,
                                    const std::vector<uint8_t>* key_pad, bool causal,
                                    ForwardContext& ctx, Tensor* weights) const {
  Var qkv = ops::linear(x, in_proj_weight, in_proj_bias);  // (B*T, 3C): [Q | K | V]
  return out_proj.forward(attend(qkv, qkv, qkv, self_args(B, T, key_pad, causal, ctx), weights));
}

Var ScoredAttention::self_attention_unpadded(const Var& x, const std::vector<int64_t>& rows, int64_t B,
                                             int64_t T, const std::vector<uint8_t>* key_pad, bool causal,
                                             ForwardContext& ctx) const {
  TFM_CHECK(!grad_enabled(), "self_attention_unpadded is for inference: it records no gradient");
  const Var qkv(scatter_rows(ops::linear(x, in_proj_weight, in_proj_bias).value(), rows, B * T));
  const Var att = attend(qkv, qkv, qkv, self_args(B, T, key_pad, causal, ctx));
  return out_proj.forward(Var(gather_rows(att.value(), rows)));
}

Var ScoredAttention::cross_attention(const Var& x, const Var& memory, int64_t B, int64_t Tq,
                                     int64_t Tk, const std::vector<uint8_t>* memory_pad,
                                     ForwardContext& ctx, Tensor* weights) const {
  Var q = ops::linear(x, in_proj_weight, in_proj_bias, 0, d_model);                // (B*Tq, C)
  Var kv = ops::linear(memory, in_proj_weight, in_proj_bias, d_model, 3 * d_model);  // (B*Tk, 2C)
  ops::AttentionArgs a;
  a.B = B, a.Tq = Tq, a.Tk = Tk, a.H = heads, a.dh = d_model / heads;
  a.q_col = 0, a.k_col = 0, a.v_col = d_model;
  a.key_pad = memory_pad;
  a.dropout = ctx.p(dropout), a.seed = ctx.next_seed();
  return out_proj.forward(attend(q, kv, kv, a, weights));
}

}  // namespace tfm
