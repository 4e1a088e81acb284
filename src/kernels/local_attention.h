// Local self-attention of the Image Transformer (Parmar et al., 2018, section 3.2):
//   each query block attends, by scaled dot-product (section 3.2.1 of Vaswani et al.), only to
//   its memory block, so time and memory are O(n * M * dh) per head instead of O(n^2 * dh),
//   with M the memory block size.
//
// One pattern serves both of the paper's forms. Positions are an image of `height` x `width`
// in raster order (row-major), position p = row * width + col. Query blocks tile the image in
// blocks of block_h x block_w (the last ones cut at the border); the memory block of a query
// block is the query block extended by flange_top rows above, flange_left columns to the left
// and flange_right columns to the right, cut at the image border.
//   1D (a sequence of n): height 1, width n, block 1 x l_q, flange_left l_m, top = right = 0:
//      a query block of length l_q attends to itself and the l_m positions before it.
//   2D (an image h x w): block h_q x w_q, flange_top f_h, flange_left = flange_right = f_w.
// masked (decoding): a query also never sees a key after it in raster order (key p' > p).
//
// Heads are column blocks as in kernels/attention.h (AttnLayout): Q, K, V can be one fused
// projection. Each query block gathers its memory rows into a small (M, dh) scratch; nothing of
// size n x n exists. The probabilities saved for the backward are (B, H, nblocks, Qb*M) with
// Qb = block_h * block_w: per head nblocks * Qb * M ~ n * M elements. A block cut by the image
// border has nq <= Qb queries and nm <= M memory positions (both in raster order); its slot
// holds the (nq, nm) probabilities row-major, the rest of the slot is zero.
#pragma once
#include <cstdint>

#include "kernels/attention.h"

namespace tfm::kernels {

struct LocalPattern {
  int64_t height = 1, width = 0;           // n = height * width positions, raster order
  int64_t block_h = 1, block_w = 1;        // query block
  int64_t flange_top = 0, flange_left = 0, flange_right = 0;
  bool causal = false;                     // hide keys after the query in raster order

  int64_t length() const { return height * width; }
  int64_t blocks_down() const { return (height + block_h - 1) / block_h; }
  int64_t blocks_across() const { return (width + block_w - 1) / block_w; }
  int64_t blocks() const { return blocks_down() * blocks_across(); }
  int64_t query_block() const { return block_h * block_w; }                    // Qb
  int64_t memory_block() const {                                                // M
    return (block_h + flange_top) * (flange_left + block_w + flange_right);
  }
};

// The paper's two forms.
inline LocalPattern local_pattern_1d(int64_t n, int64_t query_block, int64_t memory_flange,
                                     bool causal) {
  return LocalPattern{1, n, 1, query_block, 0, memory_flange, 0, causal};
}
inline LocalPattern local_pattern_2d(int64_t h, int64_t w, int64_t block_h, int64_t block_w,
                                     int64_t flange_h, int64_t flange_w, bool causal) {
  return LocalPattern{h, w, block_h, block_w, flange_h, flange_w, flange_w, causal};
}

// Elements of the saved probabilities per (batch, head): nblocks * Qb * M.
inline int64_t local_probs_per_head(const LocalPattern& p) {
  return p.blocks() * p.query_block() * p.memory_block();
}
// Scratch elements each thread allocates: gathered Q, K, V (and dO, dQ, dK, dV in the
// backward) of one block, and the (Qb, M) scores. Independent of n.
int64_t local_forward_scratch(const LocalPattern& p, int64_t dh);
int64_t local_backward_scratch(const LocalPattern& p, int64_t dh);

// Whether query position i may see key position j under the pattern (no padding): the
// definition the kernels implement, for tests and for building an explicit mask.
bool local_allowed(const LocalPattern& p, int64_t i, int64_t j);

// q, k, v (B, n, H*dh) in the layouts given -> out (B, n, H*dh).
// key_pad (B, n): nonzero marks a padding key (may be null). A query whose memory holds no
// visible key gets output 0 (as attention_forward). probs (B, H, nblocks, Qb*M): saved for the
// backward (may be null in inference). dropout_p > 0: probabilities are dropped with a
// counter-based mask from `seed` (the stream of attention_forward), recorded in drop_mask
// (B, H, nblocks, Qb*M); the saved probs stay the pre-dropout ones.
template <class T>
void local_attention_forward(const LocalPattern& p, int64_t B, int64_t H, int64_t dh, const T* q,
                             AttnLayout lq, const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                             const uint8_t* key_pad, T scale, double dropout_p, uint64_t seed,
                             T* probs, uint8_t* drop_mask, T* out, AttnLayout lo);

// Gradients (+=) into dq, dk, dv (layouts of q, k, v), block by block:
//   dPd = dO V_m^T;  dP = dPd * mask / (1 - p);  dS = P * (dP - rowsum(dP * P));
//   dQ += scale * dS K_m;  dK_m += scale * dS^T Q;  dV_m += Pd^T dO
// where K_m, V_m are the memory rows of the block (memory blocks overlap: their gradients add).
template <class T>
void local_attention_backward(const LocalPattern& p, int64_t B, int64_t H, int64_t dh, const T* q,
                              AttnLayout lq, const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                              const T* probs, const uint8_t* drop_mask, double dropout_p, T scale,
                              const T* dout, AttnLayout lo, T* dq, T* dk, T* dv);

}  // namespace tfm::kernels
