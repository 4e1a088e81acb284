// Counting the work of a model: parameters and matrix-product FLOPs (a multiply-add = 2 FLOPs).
// Convention (issue "Faster than PyTorch"): a training step costs 3x the forward's matmul FLOPs,
// attention's two products included, embedding lookups excluded. Causal attention is counted
// as the full T x T product, which is what the kernels compute.
#pragma once
#include <cstdint>

#include "models/config.h"

namespace tfm {

struct ModelFlops {
  double forward = 0;        // one sentence pair of the given lengths
  double per_target_token;   // forward / target length
  double training_per_target_token;  // 3x
};

ModelFlops estimate_flops(const Config& c, int64_t src_len, int64_t tgt_len);

}  // namespace tfm
