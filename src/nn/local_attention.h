// Local multi-head self-attention of the Image Transformer (Parmar et al., 2018, section 3.2):
// the heads of section 3.2.2 of Vaswani et al., each attending only within local memory blocks
// (kernels/local_attention.h), so a layer costs O(n * M * d) instead of O(n^2 * d).
//   1D: query blocks of query_block positions, each attending to itself and the memory_flange
//       positions before it.
//   2D: the sequence is an image of T / image_width rows of image_width positions in raster
//       order; query blocks of block_h x block_w, memory = the block plus flange_h rows above and
//       flange_w columns left and right.
//   masked: also hide positions after the query in raster order (the decoder).
// Parameters are nn.MultiheadAttention's (in_proj_weight (3C, C), in_proj_bias (3C),
// out_proj.weight (C, C), out_proj.bias (C)): a local layer's state_dict is a full one's, so
// weights move between the two kinds. Like the other layers, parameters start at zero; the
// model initialises them.
#pragma once
#include <vector>

#include "autograd/ops_local.h"
#include "nn/layers.h"

namespace tfm {

struct LocalAttentionOptions {
  bool two_d = false;
  bool masked = false;
  // 1D
  int64_t query_block = 0;    // l_q
  int64_t memory_flange = 0;  // l_m
  // 2D
  int64_t image_width = 0;    // positions per raster row
  int64_t block_h = 0, block_w = 0;
  int64_t flange_h = 0, flange_w = 0;
};

class LocalSelfAttention : public Module {
 public:
  // dropout: on the attention probabilities in training, as nn.MultiheadAttention's.
  LocalSelfAttention(int64_t d_model, int64_t heads, const LocalAttentionOptions& options,
                     double dropout, DType dt);

  // x (B*T, C) -> (B*T, C). key_pad (B*T) marks padding keys. In 2D, T must be a multiple of
  // image_width. memory, when given, receives what the attention op saved and allocates.
  Var forward(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* key_pad,
              ForwardContext& ctx, ops::LocalAttentionMemory* memory = nullptr) const;

  // The pattern this layer uses for a sequence of T positions.
  kernels::LocalPattern pattern(int64_t T) const;

  Var& in_proj_weight;
  Var& in_proj_bias;
  Linear out_proj;
  int64_t d_model, heads;
  double dropout;
  LocalAttentionOptions options;
};

}  // namespace tfm
