// The KV cache of one self-attention layer and its one-position step, shared by the
// encoder-decoder's and the decoder-only model's incremental decoders: the keys and values of
// earlier positions are kept, not recomputed (every score kind, relative positions, and local
// attention, whose query sees only the cached positions of its memory block).
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/var.h"
#include "nn/transformer_layers.h"

namespace tfm {

struct KvCache {
  Tensor k, v;  // (rows, max_steps, C); rows past the live ones (after a reorder drops some) are unused
  KvCache() = default;
  KvCache(int64_t rows, int64_t max_steps, int64_t C, DType dt);
  int64_t max_steps() const { return k.dim(1); }
  // Keeps rows `from` (see StepDecoder::reorder); only the first `steps` positions are copied,
  // into a second buffer kept for the next reorder (beam search reorders at every step).
  void reorder(const std::vector<int64_t>& from, int64_t steps);

 private:
  Tensor spare_k_, spare_v_;
};

// Gathers rows of a (rows, ...) tensor: out[i] = in[from[i]], the first `keep` elements of each row.
Tensor gather_rows(const Tensor& in, const std::vector<int64_t>& from, int64_t keep);

// The self-attention sub-layer of `sa` for the query at position t of every row: in (R, C) is the
// sub-layer input; this position's keys and values are appended to the cache, then the query
// attends to positions 0..t (within its local memory block for local attention). -> (R, C).
Var cached_self_attention(const SelfAttention& sa, KvCache& cache, const Var& in, int64_t t, int64_t heads);

}  // namespace tfm
