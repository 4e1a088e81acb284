// The Transformer of "Attention Is All You Need" (Vaswani et al., 2017), figure 1: an encoder
// stack and a decoder stack of N identical layers, learned embeddings scaled by sqrt(d_model)
// plus sinusoidal positions (sections 3.4, 3.5), and a final linear layer whose softmax gives
// the next-token distribution. Parameter names follow torch_reference.py's Seq2SeqTransformer.
#pragma once
#include <memory>
#include <vector>

#include "models/config.h"
#include "nn/transformer_layers.h"

namespace tfm {

// One padded batch of id sequences: ids (B,T) I32 and pad flags (B*T).
struct Batch {
  Tensor ids;
  std::vector<uint8_t> pad;
  int64_t B() const { return ids.dim(0); }
  int64_t T() const { return ids.dim(1); }
};
// Right-pads the rows with pad_id.
Batch make_batch(const std::vector<std::vector<int32_t>>& rows, int32_t pad_id);

class Transformer : public Module {
 public:
  explicit Transformer(const Config& c, DType dt = DType::F32);

  const Config& config() const { return config_; }
  DType dtype() const { return dtype_; }

  // Teacher-forced forward: src (B,S), tgt_in (B,T) -> logits (B*T, V) before the softmax.
  Var forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const;
  // The encoder: src (B,S) -> memory (B*S, C).
  Var encode(const Batch& src, ForwardContext& ctx) const;
  // The decoder and the generator: tgt_in (B,T), memory (B*S, C) -> logits (B*T, V).
  Var decode(const Batch& tgt_in, const Var& memory, const Batch& src, ForwardContext& ctx) const;
  // Embeddings of one target position t for every row of ids (R,1): the incremental decoder's input.
  Var embed_target_step(const Tensor& ids, int64_t t) const;

  // Initial values: Xavier-uniform for every matrix (as nn.Transformer._reset_parameters),
  // zero biases, unit LayerNorm gains, embeddings N(0, d_model^-1/2) (they are scaled up by
  // sqrt(d_model), so the sum has unit scale like the positions).
  void init_parameters(Rng& rng);

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
  Config config_;
  DType dtype_;
  Module transformer_scope_, encoder_scope_, decoder_scope_, enc_layers_scope_, dec_layers_scope_;
};

}  // namespace tfm
