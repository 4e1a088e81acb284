// Multi-head attention with a choice of scoring function (the course notes' kinds):
//   MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O,
//   head_i = softmax_j(score(q W_i^Q, k W_i^K)) (v W_i^V)
// kind scaled_dot: q . k / sqrt(dh)                   (Vaswani et al., section 3.2.1; the default)
//      dot:        q . k                              (Luong et al., 2015)
//      additive:   v_i^T tanh(W1_i q + W2_i k)        (Bahdanau et al., 2015), per head
//      cosine:     beta_i cos(q, k), beta_i = softplus(beta_raw_i)   (Graves et al., 2014)
// The projections are stored as MultiheadAttention stores them (in_proj_weight (3C, C),
// in_proj_bias (3C), out_proj.weight (C, C), out_proj.bias (C)), so a scaled_dot ScoredAttention
// has exactly nn.MultiheadAttention's state_dict. The score's own parameters:
//   additive: score.w1 (H*d_attn, dh), score.w2 (H*d_attn, dh), score.v (H, d_attn)
//   cosine:   score.beta_raw (H), the sharpness before softplus
#pragma once
#include <string>
#include <vector>

#include "autograd/ops_scores.h"
#include "nn/layers.h"

namespace tfm {

enum class AttentionKind { ScaledDot, Dot, Additive, Cosine };

// "scaled_dot" | "dot" | "additive" | "cosine"; anything else is a tfm::Error listing these.
AttentionKind parse_attention_kind(const std::string& name);
const char* attention_kind_name(AttentionKind kind);

class ScoredAttention : public Module {
 public:
  // d_attn: the additive score's hidden width per head (0: dh). cosine_eps guards |q|, |k|.
  ScoredAttention(int64_t d_model, int64_t heads, double dropout, DType dt, AttentionKind kind,
                  int64_t d_attn = 0, double cosine_eps = 1e-8);

  // Self-attention: queries, keys and values from x (B*T, C). key_pad (B*T) marks padding
  // keys; causal hides later positions. weights, when given, receives (B, H, T, T).
  Var self_attention(const Var& x, int64_t B, int64_t T, const std::vector<uint8_t>* key_pad,
                     bool causal, ForwardContext& ctx, Tensor* weights = nullptr) const;
  // self_attention for inference on the positions `rows` of the (B*T) layout only: x (N, C) ->
  // (N, C). The projections run on the N rows; the attention itself on the padded layout (the
  // other positions' queries, keys and values zero, so `key_pad` must mask them).
  Var self_attention_unpadded(const Var& x, const std::vector<int64_t>& rows, int64_t B, int64_t T,
                              const std::vector<uint8_t>* key_pad, bool causal, ForwardContext& ctx) const;
  // Queries from x (B*Tq, C), keys and values from memory (B*Tk, C). weights: (B, H, Tq, Tk).
  Var cross_attention(const Var& x, const Var& memory, int64_t B, int64_t Tq, int64_t Tk,
                      const std::vector<uint8_t>* memory_pad, ForwardContext& ctx,
                      Tensor* weights = nullptr) const;
  // The scored attention over already-projected q, k, v (column blocks as ops::attention), before
  // the output projection: what a KV-cache decoder calls with its cached keys and values.
  Var attend(const Var& q, const Var& k, const Var& v, const ops::AttentionArgs& args,
             Tensor* weights = nullptr) const;

  // The value that makes beta = sqrt(dh) at initialisation, so cosine scores start with the
  // spread of scaled dot-product scores (cos of random vectors has std ~ 1/sqrt(dh)).
  double initial_beta_raw() const;

  Var& in_proj_weight;
  Var& in_proj_bias;
  Linear out_proj;
  Var score_w1, score_w2, score_v;  // additive only (undefined otherwise)
  Var score_beta_raw;               // cosine only
  int64_t d_model, heads, d_attn;
  double dropout, cosine_eps;
  AttentionKind kind;

 private:
  // Self-attention's arguments for attend over the (B*T, 3C) [Q | K | V] of in_proj.
  ops::AttentionArgs self_args(int64_t B, int64_t T, const std::vector<uint8_t>* key_pad, bool causal,
                               ForwardContext& ctx) const;
};

}  // namespace tfm
