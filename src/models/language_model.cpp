#include "models/language_model.h"

#include "autograd/ops.h"
#include "models/transformer.h"

namespace tfm {

namespace {
class Scope : public Module {
 public:
  using Module::add_child;
};
Scope& as_scope(Module& m) { return static_cast<Scope&>(m); }
}  // namespace

TransformerLM::TransformerLM(const Config& c, DType dt)
    : Seq2SeqModel(c, dt), tgt_embed(c.tgt_vocab_size, c.d_model, dt), generator(c.d_model, c.tgt_vocab_size, dt) {
  c.validate();
  TFM_CHECK(c.is_lm(), "config: arch \"", c.arch, "\" is not the decoder-only language model (\"lm\")");
  if (c.positional == "sinusoidal") positional = sinusoidal_table(c.max_len, c.d_model, dt);
  const LayerOptions o = layer_options(c, dt);
  add_child("tgt_embed", tgt_embed);
  if (c.tie_embeddings) generator.weight = tgt_embed.weight;  // one matrix in and out (Press & Wolf, 2017)
  if (c.positional == "learned") {
    tgt_pos_embed = std::make_unique<Embedding>(c.max_len, c.d_model, dt);
    add_child("tgt_pos_embed", *tgt_pos_embed);
  }
  add_child("decoder", decoder_scope_);
  as_scope(decoder_scope_).add_child("layers", layers_scope_);
  for (int i = 0; i < c.decoder_layers; ++i) {
    layers.push_back(std::make_unique<EncoderLayer>(o, /*causal=*/true));
    as_scope(layers_scope_).add_child(std::to_string(i), *layers.back());
  }
  if (c.final_norm) {
    norm = std::make_unique<LayerNorm>(c.d_model, c.layer_norm_eps, dt);
    as_scope(decoder_scope_).add_child("norm", *norm);
  }
  add_child("generator", generator);
}

Var TransformerLM::forward(const Batch& /*src*/, const Batch& tgt_in, ForwardContext& ctx) const {
  return forward(tgt_in, ctx);
}

Var TransformerLM::forward(const Batch& tgt_in, ForwardContext& ctx) const {
  TFM_CHECK(tgt_in.T() <= config_.max_len, "sequence of length ", tgt_in.T(), " is longer than max_len ",
            config_.max_len);
  Var x = ops::embedding(tgt_embed.weight, tgt_in.ids, embedding_scale(config_, dtype_), positional);
  if (tgt_pos_embed)
    x = ops::add(x, ops::embedding(tgt_pos_embed->weight, position_ids(tgt_in.B(), tgt_in.T(), 0), 1.0, Tensor()));
  x = ops::dropout(x, ctx.p(config_.embed_dropout), ctx.next_seed());
  for (const auto& layer : layers) x = layer->forward(x, tgt_in.B(), tgt_in.T(), &tgt_in.pad, ctx);
  if (norm) x = norm->forward(x);
  return generator.forward(x);
}

Var TransformerLM::embed_step(const Tensor& ids, int64_t t) const {
  const Tensor pe = positional.defined() ? positional.rows(t, t + 1) : Tensor();
  Var x = ops::embedding(tgt_embed.weight, ids, embedding_scale(config_, dtype_), pe);
  if (tgt_pos_embed)
    x = ops::add(x, ops::embedding(tgt_pos_embed->weight, position_ids(ids.dim(0), 1, t), 1.0, Tensor()));
  return x;
}

void TransformerLM::init_parameters(Rng& rng) { init_transformer_parameters(*this, config_, rng); }

}  // namespace tfm
