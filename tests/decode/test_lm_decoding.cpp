// The decoder-only language model's KV-cache decoder against the full forward pass, for every
// self-attention kind (scores, learned and relative positions, local 1D and 2D blocks): the
// next-token log-probabilities at every position agree, and the model is causal.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "decode/lm_decoder.h"
#include "decode/sampling.h"
#include "models/language_model.h"

namespace tfm {
namespace {

Config lm_config(const std::string& kind) {
  Config c;
  c.arch = "lm";
  c.d_model = 24, c.heads = 3, c.d_ff = 32, c.decoder_layers = 2;
  c.src_vocab_size = c.tgt_vocab_size = 20, c.max_len = 16;
  if (kind == "relative") c.positional = "relative", c.max_relative_distance = 3;
  else if (kind == "learned-prenorm-tied") c.positional = "learned", c.norm_first = true, c.tie_embeddings = true;
  else if (kind == "local1d") c.local_attention = "1d", c.local_block = 3, c.local_flange = 2;
  else if (kind == "local2d")  // an image 4 wide: blocks of 2x2, one row above, one column each side
    c.local_attention = "2d", c.image_width = 4, c.local_block_h = 2, c.local_block_w = 2, c.local_flange_h = 1,
    c.local_flange_w = 1;
  else c.attention = kind;
  return c;
}

std::unique_ptr<TransformerLM> perturbed_model(const Config& c) {
  auto m = std::make_unique<TransformerLM>(c);
  Rng rng(3);
  m->init_parameters(rng);
  for (auto& [n, v] : m->named_parameters())
    for (int64_t i = 0; i < v->value().numel(); ++i) v->value().data<float>()[i] += 0.05f * static_cast<float>(rng.normal());
  return m;
}

class LmDecoding : public ::testing::TestWithParam<std::string> {};

TEST_P(LmDecoding, KvCacheEqualsFullForward) {
  const Config c = lm_config(GetParam());
  auto m = perturbed_model(c);
  // Three sequences of 12 positions (3 image rows of 4 for 2D), bos first.
  const std::vector<std::vector<int32_t>> rows = {{1, 5, 6, 7, 8, 9, 4, 10, 11, 12, 13, 14},
                                                  {1, 9, 4, 4, 4, 9, 5, 6, 7, 8, 19, 18},
                                                  {1, 10, 11, 12, 13, 14, 15, 16, 17, 3, 5, 6}};
  const int64_t T = 12, V = c.tgt_vocab_size;
  NoGradGuard no_grad;
  ForwardContext ctx;
  const Tensor full = ops::log_softmax(m->forward(make_batch(rows, c.pad_id), ctx)).value();  // (3*T, V)
  LmDecoder dec(*m, 3, T);
  std::vector<int64_t> seq_of = {0, 1, 2};  // decoder row -> sequence
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int32_t> tokens;
    for (int64_t s : seq_of) tokens.push_back(rows[s][t]);
    const Tensor& lp = dec.step(tokens);
    for (size_t r = 0; r < seq_of.size(); ++r)
      for (int64_t v = 0; v < V; ++v)
        worst = std::max(worst, std::abs(lp.item(r * V + v) - full.item((seq_of[r] * T + t) * V + v)));
    // Reordering carries each row's cache along (as beam search does): reverse the rows after
    // position 5, then drop the middle one after position 8.
    std::vector<int64_t> from;
    if (t == 5) from = {2, 1, 0};
    if (t == 8) from = {0, 2};
    if (!from.empty()) {
      dec.reorder(from);
      std::vector<int64_t> next;
      for (int64_t f : from) next.push_back(seq_of[f]);
      seq_of = next;
    }
  }
  std::printf("[lm kv-cache] %-22s max |cached - full| = %.3g\n", GetParam().c_str(), worst);
  EXPECT_LT(worst, 1e-5);
}

// Changing a token changes no log-probability before it (masked self-attention, section 3.2.3).
TEST_P(LmDecoding, IsCausal) {
  const Config c = lm_config(GetParam());
  auto m = perturbed_model(c);
  std::vector<int32_t> a = {1, 5, 6, 7, 8, 9, 4, 10, 11, 12, 13, 14}, b = a;
  b[7] = 17;
  NoGradGuard no_grad;
  ForwardContext ctx;
  const Tensor la = ops::log_softmax(m->forward(make_batch({a}, 0), ctx)).value();
  const Tensor lb = ops::log_softmax(m->forward(make_batch({b}, 0), ctx)).value();
  const int64_t V = c.tgt_vocab_size;
  for (int64_t i = 0; i < 7 * V; ++i) ASSERT_EQ(la.item(i), lb.item(i)) << "position " << i / V;
  double later = 0;
  for (int64_t i = 7 * V; i < 12 * V; ++i) later = std::max(later, std::abs(la.item(i) - lb.item(i)));
  EXPECT_GT(later, 1e-4) << "the changed token must matter from its own position on";
}

INSTANTIATE_TEST_SUITE_P(Kinds, LmDecoding,
                         ::testing::Values("scaled_dot", "dot", "additive", "cosine", "relative",
                                           "learned-prenorm-tied", "local1d", "local2d"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) ch = ch == '-' ? '_' : ch;
                           return n;
                         });

// Sampling with top-k 1 is greedy decoding; a prompt is continued, not replaced.
TEST(LmSampling, TopKOneIsGreedyAndPromptsAreKept) {
  const Config c = lm_config("scaled_dot");
  auto m = perturbed_model(c);
  SampleOptions o;
  o.top_k = 1, o.max_tokens = 8;
  const std::vector<std::vector<int32_t>> prompts = {{}, {5, 6}, {7}};
  const auto hyps = sample_sequences(*m, prompts, {}, o);
  NoGradGuard no_grad;
  ForwardContext ctx;
  for (size_t i = 0; i < prompts.size(); ++i) {
    // Recompute greedily with the full forward pass.
    std::vector<int32_t> seq = {c.bos_id};
    seq.insert(seq.end(), prompts[i].begin(), prompts[i].end());
    std::vector<int32_t> expect;
    for (int k = 0; k < o.max_tokens; ++k) {
      const Tensor lp = ops::log_softmax(m->forward(make_batch({seq}, 0), ctx)).value();
      const int64_t V = lp.dim(1), last = static_cast<int64_t>(seq.size()) - 1;
      int32_t best = 0;
      for (int64_t v = 1; v < V; ++v)
        if (lp.item(last * V + v) > lp.item(last * V + best)) best = static_cast<int32_t>(v);
      if (best == c.eos_id) break;
      expect.push_back(best);
      seq.push_back(best);
    }
    EXPECT_EQ(hyps[i].tokens, expect) << "prompt " << i;
  }
}

// The same seed gives the same samples however the rows are split into calls; another seed
// gives others.
TEST(LmSampling, ReproducibleBySeedAndStream) {
  const Config c = lm_config("scaled_dot");
  auto m = perturbed_model(c);
  SampleOptions o;
  o.max_tokens = 10, o.seed = 7, o.temperature = 1.5;
  const std::vector<std::vector<int32_t>> prompts(6);
  const auto all = sample_sequences(*m, prompts, {}, o);
  const auto first = sample_sequences(*m, {prompts.begin(), prompts.begin() + 2}, {}, o, 0);
  const auto rest = sample_sequences(*m, {prompts.begin() + 2, prompts.end()}, {}, o, 2);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(all[i].tokens, i < 2 ? first[i].tokens : rest[i - 2].tokens) << i;
  bool rows_differ = false;
  for (size_t i = 1; i < 6; ++i) rows_differ |= all[i].tokens != all[0].tokens;
  EXPECT_TRUE(rows_differ) << "each row draws from its own stream";
  o.seed = 8;
  const auto other = sample_sequences(*m, prompts, {}, o);
  bool differs = false;
  for (size_t i = 0; i < 6; ++i) differs |= other[i].tokens != all[i].tokens;
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace tfm
