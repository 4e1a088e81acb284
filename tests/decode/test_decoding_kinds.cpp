// The incremental decoders with every attention score, local attention and the RNN
// encoder-decoder (issue 3): cached greedy decoding gets the log-probabilities that full
// teacher-forced recomputation gives for the same tokens.
#include <gtest/gtest.h>

#include <cmath>

#include "decode/search.h"

namespace tfm {
namespace {

class DecodingKinds : public ::testing::TestWithParam<std::string> {};

// A small model of the kind named by the test parameter, with perturbed weights.
std::unique_ptr<Seq2SeqModel> small_model(const std::string& k) {
  Config c;
  c.d_model = 24, c.heads = 3, c.d_ff = 32, c.encoder_layers = 2, c.decoder_layers = 2;
  c.src_vocab_size = c.tgt_vocab_size = 20, c.max_len = 16;
  if (k.starts_with("rnn-")) {  // rnn-<cell>-<attention>
    c.arch = "rnn", c.encoder_layers = c.decoder_layers = 2;
    c.rnn_cell = k.substr(4, k.find('-', 4) - 4);
    c.attention = k.substr(k.find('-', 4) + 1);
  } else if (k == "local1d") {  // blocks of 3 with a flange of 2: outputs cross block borders
    c.local_attention = "1d", c.local_block = 3, c.local_flange = 2;
  } else if (k == "relative") {
    c.positional = "relative", c.max_relative_distance = 3;  // outputs run past the clip distance
  } else if (k == "learned") {
    c.positional = "learned";
  } else {
    c.attention = k;
  }
  std::unique_ptr<Seq2SeqModel> model = make_model(c);
  Rng rng(3);
  model->init_parameters(rng);
  // Perturbed weights so attention is not uniform. Kept small: with the unscaled dot score and
  // weights of 0.2, logits reach a range where float32 rounding alone, amplified by a sharp
  // softmax, moves a log-probability by ~2e-5 (measured: 4.8e-7 at this size, for every kind).
  for (auto& [n, v] : model->named_parameters())
    for (int64_t i = 0; i < v->value().numel(); ++i) v->value().data<float>()[i] += 0.05f * static_cast<float>(rng.normal());
  return model;
}

TEST_P(DecodingKinds, KvCacheEqualsFullRecomputation) {
  std::unique_ptr<Seq2SeqModel> model = small_model(GetParam());
  Seq2SeqModel& m = *model;
  std::vector<std::vector<int32_t>> src = {{5, 6, 7, 8}, {9, 4}, {10, 11, 12, 13, 14, 15, 16}};
  DecodeOptions o;
  o.max_len_ratio = 1.0, o.max_len_extra = 4;
  auto hyps = greedy_search(m, src, o);
  double worst = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    auto full = score_batch(m, {src[i]}, {hyps[i].tokens});
    for (size_t t = 0; t < hyps[i].token_logprobs.size(); ++t) {
      worst = std::max(worst, std::abs(full[0][t] - hyps[i].token_logprobs[t]));
      EXPECT_NEAR(full[0][t], hyps[i].token_logprobs[t], 1e-5) << "sentence " << i << " position " << t;
    }
  }
  std::printf("[kv-cache] %-10s max |cached - full| = %.3g\n", GetParam().c_str(), worst);
  auto greedy = greedy_search(m, src, DecodeOptions{});
  auto beam = beam_search(m, src, DecodeOptions{});  // beam 1
  for (size_t i = 0; i < src.size(); ++i) EXPECT_EQ(beam[i].tokens, greedy[i].tokens) << "sentence " << i;
}

// Beam search reorders the rows at every step (and drops a sentence's rows when it ends): each
// sentence's result must be the one it gets alone, whatever the attention reads from the caches.
TEST_P(DecodingKinds, BeamFourIsTheSameAloneAndInABatch) {
  std::unique_ptr<Seq2SeqModel> model = small_model(GetParam());
  const std::vector<std::vector<int32_t>> src = {{5, 6, 7, 8}, {9, 4}, {10, 11, 12, 13, 14, 15, 16}, {3, 17}};
  DecodeOptions o;
  o.beam = 4, o.max_len_ratio = 1.0, o.max_len_extra = 4;
  const auto batched = beam_search(*model, src, o);
  for (size_t i = 0; i < src.size(); ++i) {
    const auto alone = beam_search(*model, {src[i]}, o);
    EXPECT_EQ(alone[0].tokens, batched[i].tokens) << "sentence " << i;
    EXPECT_NEAR(alone[0].score, batched[i].score, 1e-4) << "sentence " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Scores, DecodingKinds, ::testing::Values("scaled_dot", "dot", "additive", "cosine", "relative", "learned",
                                                           "local1d", "rnn-lstm-none", "rnn-gru-none", "rnn-lstm-dot",
                                                           "rnn-gru-additive", "rnn-lstm-cosine"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

}  // namespace
}  // namespace tfm
