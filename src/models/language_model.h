// A decoder-only Transformer language model: the decoder of figure 1 without the encoder-decoder
// attention, i.e. N layers of masked self-attention and feed-forward over the target sequence
// alone (Liu et al., 2018), the form the Image Transformer and the Music Transformer generate
// with. p(y) = prod_t p(y_t | y_<t); input [bos] + y, targets y + [eos].
// Every self-attention kind of the encoder-decoder works here too: the four scores, relative
// positions (Music Transformer) and local 1D/2D blocks (Image Transformer).
// Parameter names (as nn.TransformerEncoder used with a causal mask):
//   tgt_embed.weight, [tgt_pos_embed.weight], decoder.layers.N.{self_attn.*, linear1.*, linear2.*,
//   norm1.*, norm2.*}, [decoder.norm.*], generator.{weight,bias}
#pragma once
#include <memory>
#include <vector>

#include "models/seq2seq.h"
#include "nn/layers.h"
#include "nn/transformer_layers.h"

namespace tfm {

class TransformerLM : public Seq2SeqModel {
 public:
  explicit TransformerLM(const Config& c, DType dt = DType::F32);

  // src is ignored (a language model has no source); tgt_in (B,T) -> logits (B*T, V).
  Var forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const override;
  // tgt_in (B,T) -> logits (B*T, V).
  Var forward(const Batch& tgt_in, ForwardContext& ctx) const;
  // Embeddings of position t for every row of ids (R,1): the incremental decoder's input.
  Var embed_step(const Tensor& ids, int64_t t) const;
  // As Transformer::init_parameters.
  void init_parameters(Rng& rng) override;

  Embedding tgt_embed;
  std::unique_ptr<Embedding> tgt_pos_embed;  // positional = learned
  std::vector<std::unique_ptr<EncoderLayer>> layers;  // causal self-attention
  std::unique_ptr<LayerNorm> norm;                    // null without final_norm
  Linear generator;
  Tensor positional;  // sinusoidal table, undefined otherwise

 private:
  Module decoder_scope_, layers_scope_;
};

}  // namespace tfm
