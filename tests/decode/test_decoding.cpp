// Decoding: the KV cache against full recomputation, beam 1 against greedy, beams on a fixture.
#include <gtest/gtest.h>

#include <cmath>

#include "../models/parity_util.h"
#include "decode/incremental.h"
#include "decode/search.h"

namespace tfm {
namespace {

class Decoding : public ::testing::TestWithParam<std::string> {};

// Greedy tokens decoded with the cache must get, from full teacher-forced recomputation of the
// same prefix, the same log-probabilities (within 1e-5) and the same argmax.
TEST_P(Decoding, KvCacheEqualsFullRecomputation) {
  const std::string dir = testing::fixture_dir(GetParam());
  auto model = testing::load_fixture_model(dir);
  auto src = testing::read_id_lines(dir + "/src.ids");
  DecodeOptions o;
  o.max_len_ratio = 1.0, o.max_len_extra = 5;
  auto hyps = greedy_search(*model, src, o);
  double worst = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    const auto& h = hyps[i];
    ASSERT_FALSE(h.token_logprobs.empty());
    // Rescore the decoded tokens (the eos too when finished) by the full model.
    auto full = score_batch(*model, {src[i]}, {h.tokens});
    const size_t n = h.token_logprobs.size();
    for (size_t t = 0; t < n; ++t) {
      worst = std::max(worst, std::abs(full[0][t] - h.token_logprobs[t]));
      EXPECT_NEAR(full[0][t], h.token_logprobs[t], 1e-5) << "sentence " << i << " position " << t;
    }
  }
  std::printf("[kv-cache] %-24s max |cached - full| = %.3g\n", GetParam().c_str(), worst);
}

TEST_P(Decoding, BeamOneEqualsGreedy) {
  const std::string dir = testing::fixture_dir(GetParam());
  auto model = testing::load_fixture_model(dir);
  auto src = testing::read_id_lines(dir + "/src.ids");
  DecodeOptions o;
  auto greedy = greedy_search(*model, src, o);
  auto beam = beam_search(*model, src, o);
  for (size_t i = 0; i < src.size(); ++i) {
    EXPECT_EQ(greedy[i].tokens, beam[i].tokens) << "sentence " << i;
    EXPECT_EQ(greedy[i].finished, beam[i].finished);
    EXPECT_NEAR(greedy[i].score, beam[i].score, 1e-6);
  }
}

// A wider beam never finds a worse (length-normalised) hypothesis than greedy here, and a
// sentence decoded alone equals the same sentence decoded in a batch.
TEST_P(Decoding, BeamFourIsBatchIndependentAndNoWorseThanGreedy) {
  const std::string dir = testing::fixture_dir(GetParam());
  auto model = testing::load_fixture_model(dir);
  auto src = testing::read_id_lines(dir + "/src.ids");
  DecodeOptions o;
  o.beam = 4, o.alpha = 0.0;
  auto batched = beam_search(*model, src, o);
  for (size_t i = 0; i < src.size(); ++i) {
    auto single = beam_search(*model, {src[i]}, o);
    EXPECT_EQ(single[0].tokens, batched[i].tokens) << "sentence " << i;
    EXPECT_NEAR(single[0].score, batched[i].score, 1e-4);
    // the reported score is the sum of the reported token log-probabilities
    double s = 0;
    for (float v : batched[i].token_logprobs) s += v;
    EXPECT_NEAR(s, batched[i].score, 1e-3);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Decoding,
                         ::testing::Values("post_norm", "pre_norm", "odd_sizes", "enc1_dec3_heads6"));

}  // namespace
}  // namespace tfm
