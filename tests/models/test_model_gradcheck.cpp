// A whole small model, post-norm and pre-norm, in float64: the loss's gradient with respect to
// every parameter tensor against central finite differences (tests/autograd/gradcheck.h).
#include <gtest/gtest.h>

#include "../autograd/gradcheck.h"
#include "autograd/ops.h"
#include "models/transformer.h"

namespace tfm {
namespace {

Config tiny_config(bool norm_first, bool tie, const std::string& activation,
                   const std::string& attention = "scaled_dot") {
  Config c;
  c.d_model = 8, c.heads = 2, c.encoder_layers = 1, c.decoder_layers = 2, c.d_ff = 12;
  c.src_vocab_size = c.tgt_vocab_size = 9, c.max_len = 8;
  c.norm_first = norm_first, c.tie_embeddings = tie, c.activation = activation;
  c.dropout = 0.1, c.embed_dropout = 0.1;
  c.attention = attention;
  return c;
}

void check_model(const Config& c) {
  std::unique_ptr<Seq2SeqModel> model = make_model(c, DType::F64);
  Seq2SeqModel& m = *model;
  Rng rng(5);
  m.init_parameters(rng);
  // Random LayerNorm gains and biases too, so their gradients are not special.
  for (auto& [n, v] : m.named_parameters())
    for (int64_t i = 0; i < v->value().numel(); ++i) v->value().data<double>()[i] += 0.1 * rng.normal();
  Batch src = make_batch({{4, 5, 6, 2}, {7, 2}}, 0);
  Batch tgt_in = make_batch({{1, 8, 4}, {1, 5}}, 0);
  std::vector<int32_t> targets = {8, 4, 2, 5, 2, 0};
  std::vector<Var> params;
  for (Var* p : m.parameters()) params.push_back(*p);
  auto loss = [&] {
    Rng dropout_rng(11);  // the same dropout masks on every evaluation
    ForwardContext ctx{true, &dropout_rng};
    return ops::cross_entropy(m.forward(src, tgt_in, ctx), targets, 0, 0.1);
  };
  auto r = testing::gradcheck(params, loss, 1e-6, 16);
  std::printf("[gradcheck] whole model (%s norm_first=%d tie=%d %s %s %s %s %s): %lld elements, max |err| %.3g\n",
              c.arch.c_str(), c.norm_first, c.tie_embeddings, c.activation.c_str(), c.attention.c_str(),
              c.positional.c_str(), c.local_attention.c_str(), c.rnn_cell.c_str(),
              static_cast<long long>(r.checked), r.max_abs_err);
  EXPECT_GT(r.checked, 100);
}

TEST(ModelGradcheck, PostNormWithDropout) { check_model(tiny_config(false, false, "relu")); }
TEST(ModelGradcheck, PreNormTiedGelu) { check_model(tiny_config(true, true, "gelu")); }
// The scoring functions of the course notes in every attention of the model (issue 3).
TEST(ModelGradcheck, DotAttentionLuong) { check_model(tiny_config(false, false, "relu", "dot")); }
TEST(ModelGradcheck, AdditiveAttentionBahdanau) { check_model(tiny_config(false, false, "relu", "additive")); }
TEST(ModelGradcheck, CosineAttentionGraves) { check_model(tiny_config(true, false, "relu", "cosine")); }
// Relative positions (Music Transformer) in every self-attention, distances clipped at 2 so the
// 4-token source and 3-token target exercise the clipping.
TEST(ModelGradcheck, RelativePositionsPostNorm) {
  Config c = tiny_config(false, false, "relu");
  c.positional = "relative", c.max_relative_distance = 2;
  check_model(c);
}
TEST(ModelGradcheck, LearnedPositions) {
  Config c = tiny_config(false, true, "relu");
  c.positional = "learned";
  check_model(c);
}
TEST(ModelGradcheck, RelativePositionsPreNorm) {
  Config c = tiny_config(true, true, "gelu");
  c.positional = "relative", c.max_relative_distance = 2;
  check_model(c);
}

}  // namespace
}  // namespace tfm

namespace tfm {
namespace {

// Local self-attention (Image Transformer) in the encoder (unmasked) and the decoder (masked):
// 1D blocks of 2 with a flange of 1, so the 4-token source and 3-token target span blocks.
TEST(ModelGradcheck, LocalAttention1d) {
  Config c = tiny_config(false, false, "relu");
  c.local_attention = "1d", c.local_block = 2, c.local_flange = 1;
  check_model(c);
}

// The decoder-only language model: the source batch is ignored.
TEST(ModelGradcheck, LanguageModel) {
  Config c = tiny_config(false, false, "relu");
  c.arch = "lm";
  check_model(c);
}
TEST(ModelGradcheck, LanguageModelPreNormTiedRelative) {
  Config c = tiny_config(true, true, "gelu");
  c.arch = "lm", c.positional = "relative", c.max_relative_distance = 2;
  check_model(c);
}
TEST(ModelGradcheck, LanguageModelLocal1d) {
  Config c = tiny_config(false, false, "relu");
  c.arch = "lm", c.local_attention = "1d", c.local_block = 2, c.local_flange = 1;
  check_model(c);
}

// The RNN encoder-decoder (dropout on), each cell, without attention and with each score.
Config rnn_config(const std::string& cell, const std::string& attention) {
  Config c = tiny_config(false, false, "relu", attention);
  c.arch = "rnn", c.rnn_cell = cell, c.encoder_layers = c.decoder_layers = 2;
  return c;
}
TEST(ModelGradcheck, RnnLstmNoAttention) { check_model(rnn_config("lstm", "none")); }
TEST(ModelGradcheck, RnnGruNoAttention) { check_model(rnn_config("gru", "none")); }
TEST(ModelGradcheck, RnnLstmDotAttention) { check_model(rnn_config("lstm", "dot")); }
TEST(ModelGradcheck, RnnGruAdditiveAttention) { check_model(rnn_config("gru", "additive")); }
TEST(ModelGradcheck, RnnLstmCosineAttention) { check_model(rnn_config("lstm", "cosine")); }
TEST(ModelGradcheck, RnnGruScaledDotTied) {
  Config c = rnn_config("gru", "scaled_dot");
  c.tie_embeddings = true;
  check_model(c);
}

}  // namespace
}  // namespace tfm
