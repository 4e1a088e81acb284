// The incremental decoder's fused step (one parallel region a step, buffers made once) against its
// general step: the same log-probabilities to the last bit at every step, through a reorder that
// drops a row, for post-norm and pre-norm layers, ReLU and GELU, both dot-product scores, learned
// positions, no final norm, and sizes that are not multiples of the vector width; and the folded
// encoder-decoder attention and the first projections read from tables against the general step,
// equal up to rounding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "decode/incremental.h"
#include "kernels/inference_linear.h"
#include "models/transformer.h"

namespace tfm {
namespace {

std::unique_ptr<Seq2SeqModel> model_of(const std::string& kind) {
  Config c;
  c.d_model = 128, c.heads = 4, c.d_ff = 256, c.encoder_layers = 2, c.decoder_layers = 2;
  c.src_vocab_size = c.tgt_vocab_size = 30, c.max_len = 20;
  if (kind == "pre_norm_gelu_dot") {
    c.norm_first = true, c.activation = "gelu", c.attention = "dot";
  } else if (kind == "additive") {
    c.attention = "additive";
  } else if (kind == "learned_no_final_norm_odd") {
    c.positional = "learned", c.final_norm = false, c.d_model = 132, c.d_ff = 200, c.heads = 6;
  }
  std::unique_ptr<Seq2SeqModel> model = make_model(c);
  Rng rng(11);
  model->init_parameters(rng);
  for (auto& [n, v] : model->named_parameters())
    for (int64_t i = 0; i < v->value().numel(); ++i) v->value().data<float>()[i] += 0.05f * static_cast<float>(rng.normal());
  return model;
}

class FusedStep : public ::testing::TestWithParam<std::string> {};

TEST_P(FusedStep, EqualsTheGeneralStepBitForBit) {
  const auto model = model_of(GetParam());
  const auto& m = dynamic_cast<const Transformer&>(*model);
  const Config& c = m.config();
  const std::vector<std::vector<int32_t>> src = {{5, 6, 7, 8, 2}, {9, 4, 2}, {10, 11, 12, 13, 14, 15, 2}};
  const int64_t steps = 12;
  kernels::InferenceLinears prepared(kernels::LinearPrecision::FP32);
  for (size_t n : {size_t{1}, size_t{3}}) {
    const std::vector<std::vector<int32_t>> rows(src.begin(), src.begin() + static_cast<std::ptrdiff_t>(n));
    IncrementalDecoder fused(m, make_batch(rows, c.pad_id), 1, steps), general(m, make_batch(rows, c.pad_id), 1, steps);
    general.set_fused(false);
    fused.set_fold_cross(false);  // the folded forms are equal up to rounding: the next tests
    fused.set_fold_embedding(false);
    std::vector<int32_t> tokens(n, c.bos_id);
    for (int64_t t = 0; t < steps; ++t) {
      const Tensor& a = fused.step(tokens);
      const Tensor& b = general.step(tokens);
      ASSERT_EQ(a.shape(), b.shape());
      const int64_t R = a.dim(0), V = a.dim(1);
      EXPECT_EQ(0, std::memcmp(a.data<float>(), b.data<float>(), static_cast<size_t>(R * V) * sizeof(float)))
          << GetParam() << ", " << n << " rows, step " << t;
      tokens.assign(static_cast<size_t>(R), 0);
      for (int64_t r = 0; r < R; ++r) {
        const float* p = a.data<float>() + r * V;
        tokens[r] = static_cast<int32_t>(std::max_element(p, p + V) - p);
      }
      if (t == 4 && R == 3) {  // a sentence ends: rows 2 and 0 go on, in that order
        fused.reorder({2, 0});
        general.reorder({2, 0});
        tokens = {tokens[2], tokens[0]};
      }
    }
    EXPECT_EQ(fused.fused_steps(), steps);
    EXPECT_EQ(general.fused_steps(), 0);
    EXPECT_FALSE(fused.cross_folded());
    EXPECT_FALSE(fused.embedding_folded());
  }
}

// Greedy decoding of `src` by the fused step with the folds chosen against the general step: the
// same tokens at every step, through a reorder that drops a row; returns the largest difference
// of a log-probability.
struct Folds {
  bool cross, embedding;
};
double folded_against_general(const Transformer& m, const std::vector<std::vector<int32_t>>& src, Folds on,
                              Folds* taken) {
  const int64_t steps = 12;
  const Config& c = m.config();
  IncrementalDecoder folded(m, make_batch(src, c.pad_id), 1, steps), general(m, make_batch(src, c.pad_id), 1, steps);
  general.set_fused(false);
  folded.set_fold_cross(on.cross);
  folded.set_fold_embedding(on.embedding);
  std::vector<int32_t> tokens(src.size(), c.bos_id), mine(src.size());
  double worst = 0;
  for (int64_t t = 0; t < steps; ++t) {
    const Tensor& a = folded.step(tokens);
    const Tensor& b = general.step(tokens);
    EXPECT_EQ(a.shape(), b.shape());
    const int64_t R = a.dim(0), V = a.dim(1);
    tokens.assign(static_cast<size_t>(R), 0);
    mine.assign(static_cast<size_t>(R), 0);
    for (int64_t r = 0; r < R; ++r) {
      const float *pa = a.data<float>() + r * V, *pb = b.data<float>() + r * V;
      for (int64_t v = 0; v < V; ++v) worst = std::max(worst, static_cast<double>(std::abs(pa[v] - pb[v])));
      tokens[r] = static_cast<int32_t>(std::max_element(pb, pb + V) - pb);
      mine[r] = static_cast<int32_t>(std::max_element(pa, pa + V) - pa);
    }
    EXPECT_EQ(mine, tokens) << "step " << t;
    if (t == 5 && R == 2) {  // the second sentence ends
      folded.reorder({0});
      general.reorder({0});
      tokens = {tokens[0]};
    }
  }
  EXPECT_EQ(folded.fused_steps(), steps);
  *taken = {folded.cross_folded(), folded.embedding_folded()};
  return worst;
}

// With the encoder-decoder attention's projections folded into its keys and values (short
// sources), the log-probabilities are the general step's up to float rounding, and greedy
// decoding picks the same tokens; with padding in the sources and a reorder that drops a row.
TEST_P(FusedStep, FoldedCrossAttentionEqualsTheGeneralStepUpToRounding) {
  const auto model = model_of(GetParam());
  const auto& m = dynamic_cast<const Transformer&>(*model);
  kernels::InferenceLinears prepared(kernels::LinearPrecision::FP32);
  Folds taken{};
  const double worst = folded_against_general(m, {{5, 6, 7, 2}, {9, 2}}, {true, false}, &taken);  // rows x heads x S <= C / 2
  EXPECT_TRUE(taken.cross);
  EXPECT_FALSE(taken.embedding);
  EXPECT_LE(worst, 1e-5) << GetParam();  // the KV-cache tests' bound (test_decoding.cpp)
  std::printf("[folded cross-attention] %-26s max |folded - general| log-probability = %.3g\n", GetParam().c_str(), worst);
}

// The first layer's query, key and value read from the token and position tables: the same, up
// to rounding, for post-norm layers (sinusoidal and learned positions); pre-norm layers, whose
// first projections see LayerNorm(x0), multiply as before. Both folds together as well.
TEST_P(FusedStep, FirstProjectionsFromTablesEqualTheGeneralStepUpToRounding) {
  const auto model = model_of(GetParam());
  const auto& m = dynamic_cast<const Transformer&>(*model);
  const bool post_norm = !m.config().norm_first;
  kernels::InferenceLinears prepared(kernels::LinearPrecision::FP32);
  for (const bool cross : {false, true}) {
    Folds taken{};
    const double worst =
        folded_against_general(m, {{5, 6, 7, 2}, {9, 10, 11, 12, 13, 14, 15, 2}}, {cross, true}, &taken);
    EXPECT_EQ(taken.embedding, post_norm) << GetParam();
    EXPECT_EQ(taken.cross, cross);
    EXPECT_LE(worst, 1e-5) << GetParam();
    std::printf("[first projections from tables%s] %-26s max |folded - general| log-probability = %.3g\n",
                cross ? ", cross folded" : "", GetParam().c_str(), worst);
  }
}

// The tables are made only where they are no larger than the weight they replace: a target
// vocabulary and positions of more than d_model rows keep the product.
TEST(FusedStepKinds, NoTablesLargerThanTheWeight) {
  Config c;
  c.d_model = 64, c.heads = 4, c.d_ff = 128, c.encoder_layers = 1, c.decoder_layers = 1;
  c.src_vocab_size = 30, c.max_len = 20;
  for (const int64_t vocab : {44, 45}) {  // 44 + 20 = 64 rows: tables; 45 + 20: none
    c.tgt_vocab_size = vocab;
    std::unique_ptr<Seq2SeqModel> model = make_model(c);
    Rng rng(5);
    model->init_parameters(rng);
    const auto& m = dynamic_cast<const Transformer&>(*model);
    kernels::InferenceLinears prepared(kernels::LinearPrecision::FP32);
    IncrementalDecoder dec(m, make_batch({{5, 6, 2}}, c.pad_id), 1, 3);
    dec.step({c.bos_id});
    EXPECT_EQ(dec.fused_steps(), 1);
    EXPECT_EQ(dec.embedding_folded(), vocab == 44) << vocab;
  }
}

// It is taken only where its products are the general step's: fp32 prepared weights and fewer
// than 4 rows; otherwise the general step runs.
TEST_P(FusedStep, TakenOnlyWithPreparedFp32WeightsAndFewRows) {
  const auto model = model_of(GetParam());
  const auto& m = dynamic_cast<const Transformer&>(*model);
  const Config& c = m.config();
  const std::vector<std::vector<int32_t>> one = {{5, 6, 2}}, four = {{5, 2}, {6, 2}, {7, 2}, {8, 2}};
  {
    IncrementalDecoder dec(m, make_batch(one, c.pad_id), 1, 3);
    dec.step({c.bos_id});
    EXPECT_EQ(dec.fused_steps(), 0) << "no InferenceLinears: ops::linear runs sgemm, not matrix_vector";
  }
  kernels::InferenceLinears prepared(kernels::LinearPrecision::FP32);
  IncrementalDecoder wide(m, make_batch(four, c.pad_id), 1, 3);
  wide.step(std::vector<int32_t>(4, c.bos_id));
  EXPECT_EQ(wide.fused_steps(), 0);
  IncrementalDecoder beams(m, make_batch(one, c.pad_id), 4, 3);
  beams.step(std::vector<int32_t>(4, c.bos_id));
  EXPECT_EQ(beams.fused_steps(), 0);
  IncrementalDecoder single(m, make_batch(one, c.pad_id), 1, 3);
  single.step({c.bos_id});
  EXPECT_EQ(single.fused_steps(), 1);
}

TEST(FusedStepKinds, NotTakenForOtherScores) {
  const auto model = model_of("additive");
  const auto& m = dynamic_cast<const Transformer&>(*model);
  kernels::InferenceLinears prepared(kernels::LinearPrecision::FP32);
  IncrementalDecoder dec(m, make_batch({{5, 6, 2}}, m.config().pad_id), 1, 3);
  dec.step({m.config().bos_id});
  EXPECT_EQ(dec.fused_steps(), 0);
}

INSTANTIATE_TEST_SUITE_P(Layers, FusedStep,
                         ::testing::Values("post_norm_relu", "pre_norm_gelu_dot", "learned_no_final_norm_odd"));

}  // namespace
}  // namespace tfm
