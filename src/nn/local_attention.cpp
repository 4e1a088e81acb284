#include "nn/local_attention.h"

namespace tfm {

namespace {
LocalAttentionOptions checked(int64_t d, int64_t h, const LocalAttentionOptions& o) {
  TFM_CHECK(h > 0 && d % h == 0, "heads must divide d_model (", d, "), got ", h);
  if (o.two_d) {
    TFM_CHECK(o.image_width > 0 && o.block_h > 0 && o.block_w > 0 && o.flange_h >= 0 && o.flange_w >= 0,
              "2D local attention needs image_width, block_h, block_w > 0 and flanges >= 0, got "
              "image_width ", o.image_width, ", block ", o.block_h, "x", o.block_w, ", flange ",
              o.flange_h, "x", o.flange_w);
  } else {
    TFM_CHECK(o.query_block > 0 && o.memory_flange >= 0,
              "1D local attention needs query_block > 0 and memory_flange >= 0, got query_block ",
              o.query_block, ", memory_flange ", o.memory_flange);
  }
  return o;
}
}  // namespace

LocalSelfAttention::LocalSelfAttention(int64_t d, int64_t h, const LocalAttentionOptions& o,
                                       double p, DType dt)
    : in_proj_weight(add_parameter("in_proj_weight", Tensor::zeros({3 * d, d}, dt))),
      in_proj_bias(add_parameter("in_proj_bias", Tensor::zeros({3 * d}, dt))),
      out_proj(d, d, dt),
      d_model(d),
      heads(h),
      dropout(p),
      options(checked(d, h, o)) {
  add_child("out_proj", out_proj);
}

kernels::LocalPattern LocalSelfAttention::pattern(int64_t T) const {
  const LocalAttentionOptions& o = options;
  if (!o.two_d) return kernels::local_pattern_1d(T, o.query_block, o.memory_flange, o.masked);
  TFM_CHECK(T % o.image_width == 0, "2D local attention: a sequence of ", T,
            " positions is not whole rows of image_width ", o.image_width);
  return kernels::local_pattern_2d(T / o.image_width, o.image_width, o.block_h, o.block_w,
                                   o.flange_h, o.flange_w, o.masked);
}

Var LocalSelfAttention::forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* key_pad,
                                ForwardContext& ctx,
                                ops::LocalAttentionMemory* memory) const {
  Var qkv = ops::linear(x, in_proj_weight, in_proj_bias);  // (B*T, 3C): [Q | K | V]
  ops::LocalAttentionArgs a;
  a.B = B, a.H = heads, a.dh = d_model / heads;
  a.q_col = 0, a.k_col = d_model, a.v_col = 2 * d_model;
  a.pattern = pattern(T), a.key_pad = key_pad, a.memory = memory;
  a.dropout = ctx.p(dropout), a.seed = ctx.next_seed();
  return out_proj.forward(ops::local_attention(qkv, qkv, qkv, a));
}

}  // namespace tfm
