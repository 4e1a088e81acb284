// Relative positional self-attention (Music Transformer; kernels/relative_attention.h) as a
// differentiable op: gradients flow to q, k, v and the relative embedding table.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/var.h"

namespace tfm::ops {

// What the op keeps for its backward and what its kernels allocate, in elements, so tests can
// hold the memory claim: O(L*dh + H*L*L) per sequence, never O(L*L*dh).
struct RelativeAttentionMemory {
  int64_t saved_probs = 0;        // B*H*L*L softmax probabilities (0 when no tape is kept)
  int64_t saved_drop_mask = 0;    // B*H*L*L bytes when dropout > 0
  int64_t forward_scratch = 0;    // per thread, elements of T
  int64_t backward_scratch = 0;   // per thread, elements of T (plus one table-sized dE)
};

// q, k, v (B*L, >= col + H*dh): head h of each reads columns col + h*dh (one fused (B*L, 3C)
// projection works, as for ops::attention). table (Hr, R, dh): Hr = H (per head) or 1 (shared),
// R = 2k+1, or k+1 when causal (see kernels/relative_attention.h). -> (B*L, H*dh)
struct RelativeAttentionArgs {
  int64_t B = 0, L = 0, H = 0, dh = 0;
  int64_t q_col = 0, k_col = 0, v_col = 0;
  int64_t max_distance = 0;  // k: distances beyond +-k share the edge row
  const std::vector<uint8_t>* key_pad = nullptr;  // B*L bytes, nonzero = padding key
  bool causal = false;
  double dropout = 0;
  uint64_t seed = 0;
  double scale = 0;  // 0: 1 / sqrt(dh)
  RelativeAttentionMemory* memory = nullptr;  // when set, receives what the op saved/allocates
};
Var relative_attention(const Var& q, const Var& k, const Var& v, const Var& table,
                       const RelativeAttentionArgs& args);

}  // namespace tfm::ops
