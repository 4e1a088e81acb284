// Relative positional self-attention of the Music Transformer (Huang et al., 2018, section 3.4),
// built on Shaw et al. (2018):
//   RelativeAttention = softmax((Q K^T + S_rel) / sqrt(d_h)) V,   S_rel[i, j] = q_i . E_r[clip(j - i)]
// with a learned embedding E_r per relative distance r = j - i (key minus query), clipped to
// [-k, k] as in Shaw et al. so that distances beyond +-k share the edge row and the layer runs on
// sequences longer than any seen in training.
//
// Table rows: row clip(r, -k, k) + k. An unmasked (encoder) table has 2k+1 rows (-k..k); a masked
// (decoder) table may have only the k+1 rows of distances -k..0 (or 2k+1, the upper ones unused).
// A table is (Hr, R, dh) with Hr = H (one table per head, as the Music Transformer learns them) or
// Hr = 1 (shared by all heads, as Shaw et al.).
//
// S_rel is never built from the (L, L, dh) tensor of Shaw et al. Huang et al.'s skewing: gather
// the window Ew of clipped rows for every distance one sequence can have (masked: -(L-1)..0, L
// rows; unmasked: -(L-1)..L-1, 2L-1 rows), compute Rel = Q Ew^T (L, W), and
//   masked:   pad a dummy column on the left (L, L+1), reshape to (L+1, L), drop the first row;
//   unmasked: pad a column on the right (L, 2L), flatten, pad L-1 zeros, reshape to (L+1, 2L-1),
//             keep rows [0, L) and columns [L-1, 2L-1).
// Both reshapes are views of one contiguous buffer: the gemm writes Rel into the padded buffer
// with a leading dimension of L+1 (resp. 2L), and S_rel is the same buffer read from offset L
// (resp. L-1) with row stride L (resp. 2L-1). Extra memory beyond Rel: the window, O(L * dh).
// The map (i, j) -> buffer position is one-to-one, so the backward un-skews by writing dS_rel
// into the view and reading dRel back with the padded layout.
#pragma once
#include <cstdint>

#include "kernels/attention.h"

namespace tfm::kernels {

struct RelAttnDims {
  int64_t B, H, L, dh;
  int64_t max_distance;  // k
  int64_t table_heads;   // Hr: H (per head) or 1 (shared)
  int64_t table_rows;    // R: 2k+1, or k+1 when causal
  bool causal;
};

// The rows a table needs: 2k+1 (distances -k..k), or k+1 (-k..0) for the masked case.
inline int64_t relative_table_rows(int64_t max_distance, bool causal) {
  return causal ? max_distance + 1 : 2 * max_distance + 1;
}
// W, the distances one sequence of length L can have: L (masked) or 2L-1 (unmasked).
inline int64_t relative_window(int64_t L, bool causal) { return causal ? L : 2 * L - 1; }
// Elements of the padded buffer the skew reshapes: L*(L+1) (masked) or L*2L + L-1 (unmasked).
inline int64_t relative_skew_buffer(int64_t L, bool causal) {
  return causal ? L * (L + 1) : 2 * L * L + L - 1;
}
// Scratch elements each thread allocates: the window Ew (W, dh), the skew buffer, and the
// (L, L) logits (forward) or dP (backward), and in the backward also dEw (W, dh). No term in
// L*L*dh: that is the memory claim, asserted by the tests.
int64_t relative_forward_scratch(int64_t L, int64_t dh, bool causal);
int64_t relative_backward_scratch(int64_t L, int64_t dh, bool causal);

// E_h (R, dh), one head's table -> Ew (W, dh), row m = E_h[clip(m - (L-1)) + k].
template <class T>
void relative_window_gather(const T* E_h, int64_t k, int64_t L, int64_t dh, bool causal, T* Ew);

// q (L, dh) with row stride ldq, E_h (R, dh) -> S (L, L) with row stride lds:
// S[i, j] = q_i . E_h[clip(j - i) + k] by the skewing above (S = alpha * S_rel + beta * S).
// Masked: entries j > i are left untouched (they are masked). work: relative_window(L) * dh +
// relative_skew_buffer(L) elements.
template <class T>
void relative_logits_skewed(const T* q, int64_t ldq, const T* E_h, int64_t k, int64_t L,
                            int64_t dh, bool causal, T alpha, T beta, T* S, int64_t lds, T* work);

// q, k, v (B, L, H*dh) in the layouts given, table (Hr, R, dh) -> out (B, L, H*dh).
// logits = scale * (Q K^T + S_rel), key_pad (B, L) nonzero = padding key (may be null), causal
// hides j > i. probs (B, H, L, L) saved for the backward (may be null); dropout as in
// attention_forward (drop_mask (B, H, L, L)).
template <class T>
void relative_attention_forward(const RelAttnDims& d, const T* q, AttnLayout lq, const T* k,
                                AttnLayout lk, const T* v, AttnLayout lv, const T* table,
                                const uint8_t* key_pad, T scale, double dropout_p, uint64_t seed,
                                T* probs, uint8_t* drop_mask, T* out, AttnLayout lo);

// Gradients (+=) into dq, dk, dv (layouts of q, k, v) and dtable (Hr, R, dh):
//   dS = softmax backward of dP as in attention_backward;
//   dQ += scale * (dS K + dRel Ew);  dK += scale * dS^T Q;  dV += Pd^T dO;
//   dEw = scale * dRel^T Q,  dE[clip(m - (L-1)) + k] += dEw[m]
// where dRel is dS un-skewed. dtable is accumulated per thread and summed in thread order, so
// the result is deterministic for a given thread count.
template <class T>
void relative_attention_backward(const RelAttnDims& d, const T* q, AttnLayout lq, const T* k,
                                 AttnLayout lk, const T* v, AttnLayout lv, const T* table,
                                 const T* probs, const uint8_t* drop_mask, double dropout_p,
                                 T scale, const T* dout, AttnLayout lo, T* dq, T* dk, T* dv,
                                 T* dtable);

// Inference on a block of queries at the end of a longer key sequence (the KV cache of
// incremental decoding), causal: query i is position Tk - Tq + i and sees keys 0..Tk-Tq+i.
// d.Tq <= d.Tk; q (B,Tq,H*dh), k and v (B,Tk,H*dh) in the layouts given, table (Hr, R, dh)
// -> out (B,Tq,H*dh). S_rel[i, j] = q_i . E[clip(j - (Tk - Tq + i)) + k] is gathered from the
// small product Q E^T (Tq, R): for one new position per step that is O(R * dh), and the skew
// (which needs the square block) has nothing to save. No probabilities are kept.
template <class T>
void relative_attention_block_forward(const AttnDims& d, int64_t max_distance, int64_t table_heads,
                                      int64_t table_rows, const T* q, AttnLayout lq, const T* k,
                                      AttnLayout lk, const T* v, AttnLayout lv, const T* table,
                                      const uint8_t* key_pad, T scale, T* out, AttnLayout lo);

}  // namespace tfm::kernels
