// Local self-attention of the Image Transformer (Parmar et al., 2018; kernels/local_attention.h)
// as a differentiable op: query blocks attend only to their memory blocks, 1D or 2D, masked or
// not. Gradients flow to q, k and v.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/var.h"
#include "kernels/local_attention.h"

namespace tfm::ops {

// What the op keeps for its backward and what its kernels allocate, in elements, so tests can
// hold the memory claim: saved B*H*nblocks*Qb*M ~ B*H*n*M, never n*n; scratch independent of n.
struct LocalAttentionMemory {
  int64_t saved_probs = 0;       // B*H*nblocks*Qb*M probabilities (0 when no tape is kept)
  int64_t saved_drop_mask = 0;   // B*H*nblocks*Qb*M bytes when dropout > 0
  int64_t forward_scratch = 0;   // per thread, elements of T
  int64_t backward_scratch = 0;  // per thread, elements of T
};

// q, k, v (B*n, >= col + H*dh) with n = pattern.length(): head h reads columns col + h*dh (one
// fused (B*n, 3C) projection works, as for ops::attention). -> (B*n, H*dh).
struct LocalAttentionArgs {
  int64_t B = 0, H = 0, dh = 0;
  int64_t q_col = 0, k_col = 0, v_col = 0;
  kernels::LocalPattern pattern;                   // local_pattern_1d / local_pattern_2d
  const std::vector<uint8_t>* key_pad = nullptr;   // B*n bytes, nonzero = padding key
  double dropout = 0;                              // on the probabilities, as ops::attention
  uint64_t seed = 0;
  double scale = 0;                                // 0: 1 / sqrt(dh)
  LocalAttentionMemory* memory = nullptr;          // when set, receives what the op saved/allocates
};
Var local_attention(const Var& q, const Var& k, const Var& v, const LocalAttentionArgs& args);

}  // namespace tfm::ops
