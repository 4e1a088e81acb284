// Scaled dot-product attention, section 3.2.1 of the paper, for all heads of a batch at once:
//   Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V
// with a key padding mask, the causal mask of the decoder (section 3.2.3) and dropout on the
// attention probabilities (section 5.4, as nn.MultiheadAttention does).
//
// Heads are never transposed into their own buffers: head h of sequence b, time t lives at
//   base + b * batch_stride + t * row_stride + h * dh
// so Q, K and V can be column blocks of one fused projection (B,T,3C), and the output is written
// straight into the (B,T,C) concatenation of heads that the output projection reads (section 3.2.2).
#pragma once
#include <cstdint>

namespace tfm::kernels {

struct AttnDims {
  int64_t B, H, Tq, Tk, dh;
};
struct AttnLayout {
  int64_t batch_stride, row_stride;
};

// q (B,Tq,H*dh), k (B,Tk,H*dh), v (B,Tk,H*dh) in the layouts given -> out (B,Tq,H*dh).
// key_pad (B,Tk): nonzero marks a padding key (may be null). causal: query i sees key j iff
// j <= i + (Tk - Tq), so a query block at the end of a longer key sequence (the KV cache) works.
// probs (B,H,Tq,Tk): the softmax output, saved for the backward (may be null in inference).
// dropout_p > 0: probabilities are dropped with a counter-based mask from `seed`, recorded in
// drop_mask (B,H,Tq,Tk); the saved probs stay the pre-dropout ones.
template <class T>
void attention_forward(const AttnDims& d, const T* q, AttnLayout lq, const T* k, AttnLayout lk,
                       const T* v, AttnLayout lv, const uint8_t* key_pad, bool causal, T scale,
                       double dropout_p, uint64_t seed, T* probs, uint8_t* drop_mask, T* out,
                       AttnLayout lo);

// Gradients (+=) into dq, dk, dv, which have the layouts of q, k, v:
//   dPd = dO V^T;  dP = dPd * mask / (1 - p);  dS = P * (dP - rowsum(dP * P))
//   dQ += scale * dS K;  dK += scale * dS^T Q;  dV += Pd^T dO
// accumulate false: the (B*T, H*dh) blocks of dq, dk, dv at their layouts are written, not added to.
template <class T>
void attention_backward(const AttnDims& d, const T* q, AttnLayout lq, const T* k, AttnLayout lk,
                        const T* v, AttnLayout lv, const T* probs, const uint8_t* drop_mask,
                        double dropout_p, T scale, const T* dout, AttnLayout lo, T* dq, T* dk,
                        T* dv, bool accumulate = true);

// Decoding: one query a row against that row's cached keys and values (the KV cache of masked
// self-attention, or the encoder's memory for encoder-decoder attention).
//   q (R, H*dh), row r at q + r * q_stride; key j of row r, head h at k + r * lk.batch_stride +
//   j * lk.row_stride + h * dh (v likewise); key_pad (R, Tk) or null -> out (R, H*dh), row
//   stride out_stride. kv_rows (R) or null: row r reads the keys, values and key_pad row
//   kv_rows[r] instead of row r (beams of one sentence share its encoder memory).
// The result is attention_forward's with Tq = 1 and no dropout (for float, up to the rounding
// of fast_exp.h's exp in the softmax). It walks each row's keys in
// storage order, all heads of a key together, so the cache streams through memory once instead
// of once a head in strides; rows go to threads. A decoding step reads each cache once and does
// a few multiply-adds per value, so this, not the arithmetic, is what it costs.
template <class T>
void attention_one_query(int64_t R, int64_t H, int64_t Tk, int64_t dh, const T* q, int64_t q_stride,
                         const T* k, AttnLayout lk, const T* v, AttnLayout lv, const uint8_t* key_pad,
                         T scale, T* out, int64_t out_stride, const int64_t* kv_rows = nullptr);

}  // namespace tfm::kernels
