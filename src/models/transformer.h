// The Transformer of "Attention Is All You Need" (Vaswani et al., 2017), figure 1: an encoder
// stack and a decoder stack of N identical layers, learned embeddings scaled by sqrt(d_model)
// plus sinusoidal positions (sections 3.4, 3.5), and a final linear layer whose softmax gives
// the next-token distribution. Parameter names follow torch_reference.py's Seq2SeqTransformer.
#pragma once
#include <memory>
#include <vector>

#include "models/config.h"
#include "models/seq2seq.h"
#include "nn/transformer_layers.h"

namespace tfm {

class Transformer : public Seq2SeqModel {
 public:
  explicit Transformer(const Config& c, DType dt = DType::F32);

  // Teacher-forced forward: src (B,S), tgt_in (B,T) -> logits (B*T, V) before the softmax. With
  // no gradient recorded, the encoder runs as encode_unpadded.
  Var forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const override;
  // The encoder: src (B,S) -> memory (B*S, C).
  Var encode(const Batch& src, ForwardContext& ctx) const;
  // The encoder for inference (no gradient recorded), at the source positions that are not
  // padding only (`rows`: unpadded_positions(src)): (N, C), in that order. Every product and position-wise
  // step runs on those N rows; only the attention of scored self-attention (the whole layer for
  // relative and local attention) sees the padded (B*S) layout, with zeros at the padding, which
  // is masked as keys. Equal to encode()'s rows at those positions up to the rounding of
  // products of a different row count; it saves the padding's share of the work (a fifth of the
  // encoder for a batch of mixed lengths).
  Var encode_unpadded(const Batch& src, const std::vector<int64_t>& rows, ForwardContext& ctx) const;
  // The decoder and the generator: tgt_in (B,T), memory (B*S, C) -> logits (B*T, V).
  Var decode(const Batch& tgt_in, const Var& memory, const Batch& src, ForwardContext& ctx) const;
  // Embeddings of one target position t for every row of ids (R,1): the incremental decoder's input.
  Var embed_target_step(const Tensor& ids, int64_t t) const;

  // Initial values: Xavier-uniform for every matrix (as nn.Transformer._reset_parameters),
  // zero biases, unit LayerNorm gains, embeddings N(0, d_model^-1/2) (they are scaled up by
  // sqrt(d_model), so the sum has unit scale like the positions).
  void init_parameters(Rng& rng) override;

  Embedding src_embed, tgt_embed;
  // positional = learned: trained position embeddings (max_len, C), one table per side
  // (Gehring et al., 2017; the paper's section 3.5 reports them on par with sinusoids).
  std::unique_ptr<Embedding> src_pos_embed, tgt_pos_embed;
  std::vector<std::unique_ptr<EncoderLayer>> encoder_layers;
  std::vector<std::unique_ptr<DecoderLayer>> decoder_layers;
  std::unique_ptr<LayerNorm> encoder_norm, decoder_norm;  // null without final_norm
  Linear generator;
  Tensor positional;  // (max_len, C), not a parameter; undefined with relative positions

 private:
  Var embed(const Embedding& table, const Embedding* positions, const Batch& b, ForwardContext& ctx) const;
  Module transformer_scope_, encoder_scope_, decoder_scope_, enc_layers_scope_, dec_layers_scope_;
};

// The project's initial values for the parameters of a Transformer-family model (also the
// decoder-only one), by name: see Transformer::init_parameters.
void init_transformer_parameters(const Module& m, const Config& c, Rng& rng);

// The layer options a Config gives.
LayerOptions layer_options(const Config& c, DType dt);
// Section 3.4: embeddings are multiplied by sqrt(d_model), rounded as the reference rounds it.
double embedding_scale(const Config& c, DType dt);
// Position ids (rows, T): t in column t, offset by `first`.
Tensor position_ids(int64_t rows, int64_t T, int64_t first);

}  // namespace tfm
