#include "models/rnn_seq2seq.h"

#include <cmath>

#include "autograd/ops.h"
#include "kernels/attention_scores.h"

namespace tfm {

namespace {
class Scope : public Module {
 public:
  using Module::add_child;
};
Scope& as_scope(Module& m) { return static_cast<Scope&>(m); }

std::unique_ptr<RecurrentLayer> make_layer(bool lstm, int64_t C, DType dt) {
  if (lstm) return std::make_unique<LSTM>(C, C, dt);
  return std::make_unique<GRU>(C, C, dt);
}
}  // namespace

std::vector<int32_t> batch_lengths(const Batch& b) {
  std::vector<int32_t> len(b.B(), 0);
  for (int64_t r = 0; r < b.B(); ++r)
    for (int64_t t = 0; t < b.T(); ++t) len[r] += b.pad[r * b.T() + t] ? 0 : 1;
  return len;
}

RnnSeq2Seq::RnnSeq2Seq(const Config& c, DType dt)
    : Seq2SeqModel(c, dt),
      src_embed(c.src_vocab_size, c.d_model, dt),
      tgt_embed(c.tgt_vocab_size, c.d_model, dt),
      generator(c.d_model, c.tgt_vocab_size, dt),
      lstm_(c.rnn_cell == "lstm") {
  c.validate();
  TFM_CHECK(c.is_rnn(), "config: arch \"", c.arch, "\" is not the RNN encoder-decoder (\"rnn\")");
  TFM_CHECK(c.encoder_layers == c.decoder_layers, "config: arch rnn starts each decoder layer from the encoder ",
            "layer of the same depth, so encoder_layers must equal decoder_layers, got ", c.encoder_layers, " and ",
            c.decoder_layers);
  add_child("src_embed", src_embed);
  if (c.tie_embeddings) generator.weight = tgt_embed.weight = src_embed.weight;
  add_child("tgt_embed", tgt_embed);
  add_child("encoder", encoder_scope_);
  add_child("decoder", decoder_scope_);
  as_scope(encoder_scope_).add_child("layers", enc_layers_scope_);
  as_scope(decoder_scope_).add_child("layers", dec_layers_scope_);
  for (int i = 0; i < c.encoder_layers; ++i) {
    encoder_layers.push_back(make_layer(lstm_, c.d_model, dt));
    as_scope(enc_layers_scope_).add_child(std::to_string(i), *encoder_layers.back());
    decoder_layers.push_back(make_layer(lstm_, c.d_model, dt));
    as_scope(dec_layers_scope_).add_child(std::to_string(i), *decoder_layers.back());
  }
  if (c.attention != "none") {
    attention = std::make_unique<ScoredAttention>(c.d_model, c.heads, c.dropout, dt, parse_attention_kind(c.attention));
    combine_context = std::make_unique<Linear>(c.d_model, c.d_model, dt);
    combine_state = std::make_unique<Linear>(c.d_model, c.d_model, dt, /*bias=*/false);
    add_child("attention", *attention);
    add_child("combine_context", *combine_context);
    add_child("combine_state", *combine_state);
  }
  add_child("generator", generator);
}

ops::RecurrentResult RnnSeq2Seq::run_layer(const RecurrentLayer& layer, const Var& x,
                                           const std::vector<int32_t>& lengths,
                                           const ops::RecurrentState& initial) const {
  if (lstm_) return ops::lstm(x, lengths, layer.weights(), initial);
  return ops::gru(x, lengths, layer.weights(), initial.h);
}

ops::RecurrentState RnnSeq2Seq::step_layer(const RecurrentLayer& layer, const Var& x,
                                           const ops::RecurrentState& state) const {
  if (lstm_) return ops::lstm_step(x, state, layer.weights());
  return {ops::gru_step(x, state.h, layer.weights()), Var()};
}

RnnSeq2Seq::Encoded RnnSeq2Seq::encode(const Batch& src, ForwardContext& ctx) const {
  const int64_t B = src.B(), S = src.T(), C = config_.d_model;
  const std::vector<int32_t> lengths = batch_lengths(src);
  Var x = ops::embedding(src_embed.weight, src.ids, 1.0, Tensor());
  x = ops::reshape(ops::dropout(x, ctx.p(config_.dropout), ctx.next_seed()), {B, S, C});
  Encoded e;
  for (size_t l = 0; l < encoder_layers.size(); ++l) {
    ops::RecurrentResult r = run_layer(*encoder_layers[l], x, lengths, {});
    e.final.push_back(r.final);
    x = l + 1 < encoder_layers.size() ? ops::dropout(r.out, ctx.p(config_.dropout), ctx.next_seed()) : r.out;
  }
  e.states = ops::reshape(x, {B * S, C});
  return e;
}

Var RnnSeq2Seq::output(const Var& h, const Var& states, int64_t B, int64_t T, int64_t S,
                       const std::vector<uint8_t>* src_pad, ForwardContext& ctx) const {
  Var top = h;
  if (attention) {
    Var context = attention->cross_attention(h, states, B, T, S, src_pad, ctx);
    top = ops::tanh(ops::add(combine_context->forward(context), combine_state->forward(h)));
  }
  return generator.forward(ops::dropout(top, ctx.p(config_.dropout), ctx.next_seed()));
}

Var RnnSeq2Seq::forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const {
  TFM_ASSERT(src.B() == tgt_in.B(), "batch sizes differ: ", src.B(), " vs ", tgt_in.B());
  const int64_t B = tgt_in.B(), T = tgt_in.T(), C = config_.d_model;
  TFM_CHECK(src.T() <= config_.max_len && T <= config_.max_len, "sequence of length ", std::max(src.T(), T),
            " is longer than max_len ", config_.max_len);
  Encoded e = encode(src, ctx);
  const std::vector<int32_t> lengths = batch_lengths(tgt_in);
  Var y = ops::embedding(tgt_embed.weight, tgt_in.ids, 1.0, Tensor());
  y = ops::reshape(ops::dropout(y, ctx.p(config_.dropout), ctx.next_seed()), {B, T, C});
  for (size_t l = 0; l < decoder_layers.size(); ++l) {
    ops::RecurrentResult r = run_layer(*decoder_layers[l], y, lengths, e.final[l]);
    y = l + 1 < decoder_layers.size() ? ops::dropout(r.out, ctx.p(config_.dropout), ctx.next_seed()) : r.out;
  }
  return output(ops::reshape(y, {B * T, C}), e.states, B, T, src.T(), &src.pad, ctx);
}

void RnnSeq2Seq::init_parameters(Rng& rng) {
  for (auto& l : encoder_layers) l->reset_parameters(rng);
  for (auto& l : decoder_layers) l->reset_parameters(rng);
  std::vector<const Node*> done;
  for (auto& l : encoder_layers)
    for (Var* p : l->parameters()) done.push_back(p->node().get());
  for (auto& l : decoder_layers)
    for (Var* p : l->parameters()) done.push_back(p->node().get());
  for (auto& [name, v] : named_parameters()) {
    if (std::find(done.begin(), done.end(), v->node().get()) != done.end()) continue;
    done.push_back(v->node().get());
    Tensor& t = v->value();
    Tensor init = Tensor::empty(t.shape(), DType::F64);
    double* p = init.data<double>();
    if (name.find("_embed.") != std::string::npos) {
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = 0.1 * (2 * rng.uniform() - 1);
    } else if (t.ndim() == 2) {
      const double a = std::sqrt(6.0 / static_cast<double>(t.dim(0) + t.dim(1)));
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = a * (2 * rng.uniform() - 1);
    } else if (name.ends_with("score.beta_raw")) {
      const double raw = kernels::softplus_inverse(std::sqrt(static_cast<double>(config_.d_model / config_.heads)));
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = raw;
    } else {
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = 0.0;
    }
    t.copy_from(init.to(t.dtype()));
  }
}

}  // namespace tfm
