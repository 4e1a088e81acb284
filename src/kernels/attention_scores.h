// The scoring functions of the course notes beside scaled dot-product attention, for all heads
// of a batch at once, over the column-block layouts of kernels/attention.h:
//   Attention(Q, K, V) = softmax_j(score(q_i, k_j)) V
//   dot (Luong et al., 2015):       score = q . k                  -> attention_forward, scale 1
//   additive (Bahdanau et al., 2015): score = v^T tanh(W1 q + W2 k)  -> additive_attention_*
//   cosine (Graves et al., 2014, NTM): score = beta * cos(q, k)      -> cosine_attention_*
// Scaled dot-product (q . k / sqrt(dh)) and dot are kernels/attention.h with scale 1/sqrt(dh)
// and 1; they are not repeated here.
//
// Masks, softmax, dropout on the probabilities and O = P V are as in kernels/attention.h:
// key_pad (B,Tk) nonzero marks a padding key (may be null); causal: query i sees key j iff
// j <= i + (Tk - Tq); a row with every key masked gets zero probabilities and a zero output.
// probs (B,H,Tq,Tk) are the pre-dropout softmax output; drop_mask (B,H,Tq,Tk) the keep bits.
#pragma once
#include <cstdint>

#include "kernels/attention.h"

namespace tfm::kernels {

// Additive. Per head h: W1_h, W2_h (da, dh) and v_h (da), stored w1, w2 (H*da, dh), wv (H*da).
// W1 q and W2 k are computed once per position (two GEMMs), then the pairwise tanh:
//   qa (B,H,Tq,da) = Q W1_h^T,  ka (B,H,Tk,da) = K W2_h^T,
//   S_ij = sum_a v_a tanh(qa_ia + ka_ja)        (masked pairs are never evaluated)
// qa, ka and probs are saved for the backward (qa, ka, probs may be null in inference).
template <class T>
void additive_attention_forward(const AttnDims& d, int64_t da, const T* q, AttnLayout lq,
                                const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                                const T* w1, const T* w2, const T* wv, const uint8_t* key_pad,
                                bool causal, double dropout_p, uint64_t seed, T* qa, T* ka,
                                T* probs, uint8_t* drop_mask, T* out, AttnLayout lo);

// Gradients (+=) into dq, dk, dv (layouts of q, k, v), dw1, dw2, dwv (layouts of w1, w2, wv).
// dS as in attention_backward; with t = tanh(qa_ia + ka_ja), g = dS_ij v_a (1 - t^2):
//   dv_a += sum_ij dS_ij t;  dqa_ia = sum_j g;  dka_ja = sum_i g   (tanh recomputed, so at most
//   O((Tq + Tk) da) per head is held, never the (Tq, Tk, da) tensor)
//   dQ += dqa W1_h;  dK += dka W2_h;  dW1_h += sum_b dqa^T Q;  dW2_h += sum_b dka^T K
// Parameter gradients are summed over the batch in a fixed order (deterministic).
template <class T>
void additive_attention_backward(const AttnDims& d, int64_t da, const T* q, AttnLayout lq,
                                 const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                                 const T* w1, const T* w2, const T* wv, const T* qa, const T* ka,
                                 const T* probs, const uint8_t* drop_mask, double dropout_p,
                                 const T* dout, AttnLayout lo, T* dq, T* dk, T* dv, T* dw1,
                                 T* dw2, T* dwv);

// Cosine (content-based addressing of the Neural Turing Machine), per head h:
//   beta_h = softplus(beta_raw_h) = log(1 + exp(beta_raw_h)) > 0,   beta_raw (H)
//   q^ = q / max(|q|, eps),  k^ = k / max(|k|, eps)    (eps guards zero vectors, as F.normalize)
//   S_ij = beta_h q^_i . k^_j
// qn (B,H,Tq) and kn (B,H,Tk) receive max(|q|, eps), max(|k|, eps) for the backward (may be null).
template <class T>
void cosine_attention_forward(const AttnDims& d, const T* q, AttnLayout lq, const T* k,
                              AttnLayout lk, const T* v, AttnLayout lv, const T* beta_raw, T eps,
                              const uint8_t* key_pad, bool causal, double dropout_p, uint64_t seed,
                              T* qn, T* kn, T* probs, uint8_t* drop_mask, T* out, AttnLayout lo);

// Gradients (+=) into dq, dk, dv and dbeta_raw (H). With G = dS k^ (Tq,dh):
//   dq^ = beta G;  dk^ = beta dS^T q^;  dbeta = sum_i q^_i . G_i;  dbeta_raw += sigmoid(raw) dbeta
//   dq = (dq^ - q^ (q^ . dq^)) / |q|  when |q| > eps, else dq^ / eps  (the same for k)
template <class T>
void cosine_attention_backward(const AttnDims& d, const T* q, AttnLayout lq, const T* k,
                               AttnLayout lk, const T* v, AttnLayout lv, const T* beta_raw,
                               T eps, const T* qn, const T* kn, const T* probs,
                               const uint8_t* drop_mask, double dropout_p, const T* dout,
                               AttnLayout lo, T* dq, T* dk, T* dv, T* dbeta_raw);

// softplus(x) = log(1 + exp(x)), computed without overflow; its inverse for initialisation.
double softplus(double x);
double softplus_inverse(double y);

}  // namespace tfm::kernels
