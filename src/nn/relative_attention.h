// Relative positional multi-head self-attention (Music Transformer, Huang et al., 2018, section
// 3.4; Shaw et al., 2018): the heads of section 3.2.2 with logits
//   (Q K^T + S_rel) / sqrt(d_h),   S_rel[i, j] = q_i . E_r[clip(j - i, -k, k)]
// computed by the skewing procedure (kernels/relative_attention.h).
//
// Parameters, named as nn.MultiheadAttention's plus the table:
//   in_proj_weight (3C, C), in_proj_bias (3C), out_proj.weight (C, C), out_proj.bias (C),
//   relative_embeddings (H, R, dh)  with R = 2k+1 (encoder) or k+1 (causal: distances -k..0).
// One table per head, as Huang et al. learn them: a head that attends by content and one that
// attends by position can each have the distance profile it needs, at H*R*dh = R*C parameters
// per layer (tiny next to the projections). Shaw et al. share one table across heads; pass
// shared_heads = true for that (table (1, R, dh)).
#pragma once
#include <vector>

#include "autograd/ops_relative.h"
#include "nn/layers.h"

namespace tfm {

class RelativeSelfAttention : public Module {
 public:
  RelativeSelfAttention(int64_t d_model, int64_t heads, int64_t max_distance, bool causal,
                        double dropout, DType dt, bool shared_heads = false);

  // x (B*T, C) -> (B*T, C). key_pad (B*T) marks padding keys; the mask is causal iff the layer
  // was built causal (its table has rows for distances -k..0 only). Any T works: distances
  // beyond +-max_distance use the edge rows.
  Var forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* key_pad,
              ForwardContext& ctx, ops::RelativeAttentionMemory* memory = nullptr) const;

  // N(0, 1/dh) (std 1/sqrt(dh)) for the table, as the reference initialises embeddings by width. (A generic init that
  // zeroes every non-matrix parameter also works: the table's gradient is not zero at zero.)
  void init_relative_embeddings(Rng& rng);

  Var& in_proj_weight;
  Var& in_proj_bias;
  Linear out_proj;
  Var& relative_embeddings;
  int64_t d_model, heads, max_distance;
  bool causal;
  double dropout;
};

}  // namespace tfm
