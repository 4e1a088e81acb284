#include "models/transformer.h"

#include <algorithm>
#include <cmath>

#include "kernels/attention_scores.h"

namespace tfm {

namespace {
// Modules used only to give parameters their PyTorch scope ("transformer.encoder.layers").
class Scope : public Module {
 public:
  using Module::add_child;
};
Scope& as_scope(Module& m) { return static_cast<Scope&>(m); }
}  // namespace

std::vector<int64_t> unpadded_positions(const Batch& b) {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < b.pad.size(); ++i)
    if (!b.pad[i]) rows.push_back(static_cast<int64_t>(i));
  return rows;
}

bool skips_padding(const Batch& b, const std::vector<int64_t>& rows) {
  return !rows.empty() && rows.size() < b.pad.size();
}

Batch make_batch(const std::vector<std::vector<int32_t>>& rows, int32_t pad_id) {
  int64_t T = 0;
  for (const auto& r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(r.size()));
  Batch b;
  b.ids = Tensor::full({static_cast<int64_t>(rows.size()), T}, pad_id, DType::I32);
  b.pad.assign(rows.size() * T, 1);
  int32_t* p = b.ids.data<int32_t>();
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t t = 0; t < rows[i].size(); ++t) {
      p[i * T + t] = rows[i][t];
      b.pad[i * T + t] = 0;
    }
  return b;
}

Transformer::Transformer(const Config& c, DType dt)
    : Seq2SeqModel(c, dt),  // the base first, as C++ constructs it whatever the list's order
      src_embed(c.src_vocab_size, c.d_model, dt),
      tgt_embed(c.tgt_vocab_size, c.d_model, dt),
      generator(c.d_model, c.tgt_vocab_size, dt) {
  c.validate();
  TFM_CHECK(c.arch == "transformer", "config: arch \"", c.arch, "\" is not the encoder-decoder Transformer");
  // With relative positions the embeddings carry no position: self-attention sees distances.
  if (c.positional == "sinusoidal") positional = sinusoidal_table(c.max_len, c.d_model, dt);
  const LayerOptions o = layer_options(c, dt);
  add_child("src_embed", src_embed);
  if (c.tie_embeddings) {
    // Section 3.4: "we share the same weight matrix between the two embedding layers and the
    // pre-softmax linear transformation". One parameter, stored under all three names.
    tgt_embed.weight = src_embed.weight;
    generator.weight = src_embed.weight;
  }
  add_child("tgt_embed", tgt_embed);
  if (c.positional == "learned") {
    src_pos_embed = std::make_unique<Embedding>(c.max_len, c.d_model, dt);
    tgt_pos_embed = std::make_unique<Embedding>(c.max_len, c.d_model, dt);
    add_child("src_pos_embed", *src_pos_embed);
    add_child("tgt_pos_embed", *tgt_pos_embed);
  }
  add_child("transformer", transformer_scope_);
  as_scope(transformer_scope_).add_child("encoder", encoder_scope_);
  as_scope(transformer_scope_).add_child("decoder", decoder_scope_);
  as_scope(encoder_scope_).add_child("layers", enc_layers_scope_);
  as_scope(decoder_scope_).add_child("layers", dec_layers_scope_);
  for (int i = 0; i < c.encoder_layers; ++i) {
    encoder_layers.push_back(std::make_unique<EncoderLayer>(o));
    as_scope(enc_layers_scope_).add_child(std::to_string(i), *encoder_layers.back());
  }
  for (int i = 0; i < c.decoder_layers; ++i) {
    decoder_layers.push_back(std::make_unique<DecoderLayer>(o));
    as_scope(dec_layers_scope_).add_child(std::to_string(i), *decoder_layers.back());
  }
  if (c.final_norm) {
    encoder_norm = std::make_unique<LayerNorm>(c.d_model, c.layer_norm_eps, dt);
    decoder_norm = std::make_unique<LayerNorm>(c.d_model, c.layer_norm_eps, dt);
    as_scope(encoder_scope_).add_child("norm", *encoder_norm);
    as_scope(decoder_scope_).add_child("norm", *decoder_norm);
  }
  add_child("generator", generator);
}

LayerOptions layer_options(const Config& c, DType dt) {
  LayerOptions o{c.d_model, c.heads, c.d_ff, c.dropout, c.layer_norm_eps, c.activation,
                 c.norm_first, dt, parse_attention_kind(c.attention),
                 c.positional == "relative" ? c.max_relative_distance : 0, false, LocalAttentionOptions{}};
  if (c.local_attention != "none") {
    o.use_local = true;
    o.local.two_d = c.local_attention == "2d";
    o.local.query_block = c.local_block;
    o.local.memory_flange = c.local_flange;
    o.local.image_width = c.image_width;
    o.local.block_h = c.local_block_h;
    o.local.block_w = c.local_block_w;
    o.local.flange_h = c.local_flange_h;
    o.local.flange_w = c.local_flange_w;
  }
  return o;
}

// Section 3.4: "we multiply those weights by sqrt(d_model)"; the reference multiplies by the
// float32 value of sqrt(d_model), so we round it the same way.
double embedding_scale(const Config& c, DType dt) {
  const double s = std::sqrt(static_cast<double>(c.d_model));
  return dt == DType::F32 ? static_cast<float>(s) : s;
}

Tensor position_ids(int64_t rows, int64_t T, int64_t first) {
  Tensor ids = Tensor::empty({rows, T}, DType::I32);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < T; ++t) ids.data<int32_t>()[r * T + t] = static_cast<int32_t>(first + t);
  return ids;
}

Var Transformer::embed(const Embedding& table, const Embedding* positions, const Batch& b,
                       ForwardContext& ctx) const {
  TFM_CHECK(b.T() <= config_.max_len, "sequence of length ", b.T(), " is longer than max_len ",
            config_.max_len);
  Var x = ops::embedding(table.weight, b.ids, embedding_scale(config_, dtype_), positional);
  if (positions) x = ops::add(x, ops::embedding(positions->weight, position_ids(b.B(), b.T(), 0), 1.0, Tensor()));
  return ops::dropout(x, ctx.p(config_.embed_dropout), ctx.next_seed());
}

Var Transformer::embed_target_step(const Tensor& ids, int64_t t) const {
  const Tensor pe = positional.defined() ? positional.rows(t, t + 1) : Tensor();
  Var x = ops::embedding(tgt_embed.weight, ids, embedding_scale(config_, dtype_), pe);
  if (tgt_pos_embed)
    x = ops::add(x, ops::embedding(tgt_pos_embed->weight, position_ids(ids.dim(0), 1, t), 1.0, Tensor()));
  return x;
}

Var Transformer::encode(const Batch& src, ForwardContext& ctx) const {
  Var x = embed(src_embed, src_pos_embed.get(), src, ctx);
  for (const auto& layer : encoder_layers) x = layer->forward(x, src.B(), src.T(), &src.pad, ctx);
  return encoder_norm ? encoder_norm->forward(x) : x;
}

Var Transformer::encode_unpadded(const Batch& src, const std::vector<int64_t>& rows, ForwardContext& ctx) const {
  TFM_CHECK(!grad_enabled(), "encode_unpadded is for inference: it records no gradient");
  Var x(gather_rows(embed(src_embed, src_pos_embed.get(), src, ctx).value(), rows));
  for (const auto& layer : encoder_layers)
    x = layer->run(
        x, [&](const Var& in) { return layer->self_attn.forward_unpadded(in, rows, src.B(), src.T(), &src.pad, ctx); },
        ctx);
  return encoder_norm ? encoder_norm->forward(x) : x;
}

Var Transformer::decode(const Batch& tgt_in, const Var& memory, const Batch& src,
                        ForwardContext& ctx) const {
  Var x = embed(tgt_embed, tgt_pos_embed.get(), tgt_in, ctx);
  for (const auto& layer : decoder_layers)
    x = layer->forward(x, memory, tgt_in.B(), tgt_in.T(), src.T(), &tgt_in.pad, &src.pad, ctx);
  if (decoder_norm) x = decoder_norm->forward(x);
  return generator.forward(x);
}

Var Transformer::forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const {
  TFM_ASSERT(src.B() == tgt_in.B(), "batch sizes differ: ", src.B(), " vs ", tgt_in.B());
  // Inference (scoring, validation): the encoder skips the source padding, whose rows of the
  // memory are masked as keys anyway; they become zeros.
  const std::vector<int64_t> rows = grad_enabled() ? std::vector<int64_t>() : unpadded_positions(src);
  if (skips_padding(src, rows))
    return decode(tgt_in, Var(scatter_rows(encode_unpadded(src, rows, ctx).value(), rows, src.B() * src.T())), src,
                  ctx);
  return decode(tgt_in, encode(src, ctx), src, ctx);
}

void Transformer::init_parameters(Rng& rng) { init_transformer_parameters(*this, config_, rng); }

void init_transformer_parameters(const Module& m, const Config& config_, Rng& rng) {
  std::vector<const Node*> done;  // a tied matrix is initialised under its first name only
  for (auto& [name, v] : m.named_parameters()) {
    if (std::find(done.begin(), done.end(), v->node().get()) != done.end()) continue;
    done.push_back(v->node().get());
    Tensor& t = v->value();
    Tensor init = Tensor::empty(t.shape(), DType::F64);
    double* p = init.data<double>();
    const bool is_embedding = name.find("_embed.") != std::string::npos;
    if (name.find("pos_embed.") != std::string::npos) {
      // Unit-free like the sinusoids they replace: the RMS of a sin/cos table is 1/sqrt(2).
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = rng.normal() / std::sqrt(2.0);
    } else if (is_embedding) {
      const double sd = 1.0 / std::sqrt(static_cast<double>(config_.d_model));
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = sd * rng.normal();
    } else if (t.ndim() == 2) {
      const double a = std::sqrt(6.0 / static_cast<double>(t.dim(0) + t.dim(1)));
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = a * (2 * rng.uniform() - 1);
    } else if (name.ends_with("relative_embeddings")) {
      const double sd = 1.0 / std::sqrt(static_cast<double>(config_.d_model / config_.heads));
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = sd * rng.normal();
    } else if (name.ends_with("score.beta_raw")) {
      // Cosine attention's sharpness starts at sqrt(dh), the scale dot-product attention has.
      const double raw = kernels::softplus_inverse(std::sqrt(static_cast<double>(config_.d_model / config_.heads)));
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = raw;
    } else if (name.find("norm") != std::string::npos && name.ends_with("weight")) {
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = 1.0;
    } else {
      for (int64_t i = 0; i < init.numel(); ++i) p[i] = 0.0;
    }
    t.copy_from(init.to(t.dtype()));
  }
}

}  // namespace tfm
