#include "nn/relative_attention.h"

#include <cmath>

#include "kernels/relative_attention.h"

namespace tfm {

namespace {
int64_t checked_head_dim(int64_t d, int64_t h, int64_t k) {
  TFM_CHECK(h > 0 && d % h == 0, "heads must divide d_model (", d, "), got ", h);
  TFM_CHECK(k >= 0, "max_relative_distance must be >= 0, got ", k);
  return d / h;
}
}  // namespace

RelativeSelfAttention::RelativeSelfAttention(int64_t d, int64_t h, int64_t k, bool c, double p,
                                             DType dt, bool shared_heads)
    : in_proj_weight(add_parameter("in_proj_weight", Tensor::zeros({3 * d, d}, dt))),
      in_proj_bias(add_parameter("in_proj_bias", Tensor::zeros({3 * d}, dt))),
      out_proj(d, d, dt),
      relative_embeddings(add_parameter(
          "relative_embeddings",
          Tensor::zeros({shared_heads ? 1 : h, kernels::relative_table_rows(k, c), checked_head_dim(d, h, k)}, dt))),
      d_model(d),
      heads(h),
      max_distance(k),
      causal(c),
      dropout(p) {
  add_child("out_proj", out_proj);
}

Var RelativeSelfAttention::forward(const Var& x, int64_t B, int64_t T,
                                   const std::vector<uint8_t>* key_pad, ForwardContext& ctx,
                                   ops::RelativeAttentionMemory* memory) const {
  Var qkv = ops::linear(x, in_proj_weight, in_proj_bias);  // (B*T, 3C): [Q | K | V]
  ops::RelativeAttentionArgs a;
  a.B = B, a.L = T, a.H = heads, a.dh = d_model / heads;
  a.q_col = 0, a.k_col = d_model, a.v_col = 2 * d_model;
  a.max_distance = max_distance, a.key_pad = key_pad, a.causal = causal;
  a.dropout = ctx.p(dropout), a.seed = ctx.next_seed();
  a.memory = memory;
  return out_proj.forward(ops::relative_attention(qkv, qkv, qkv, relative_embeddings, a));
}

void RelativeSelfAttention::init_relative_embeddings(Rng& rng) {
  Tensor& t = relative_embeddings.value();
  Tensor init = Tensor::empty(t.shape(), DType::F64);
  const double sd = 1.0 / std::sqrt(static_cast<double>(d_model / heads));
  for (int64_t i = 0; i < init.numel(); ++i) init.data<double>()[i] = sd * rng.normal();
  t.copy_from(init.to(t.dtype()));
}

}  // namespace tfm
