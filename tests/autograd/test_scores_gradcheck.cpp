// The scored attentions of autograd/ops_scores.h against central finite differences in float64:
// every input and every learned parameter, with padding and causal masks, self (fused QKV) and
// cross attention, with and without dropout.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops_scores.h"
#include "gradcheck.h"

namespace tfm {
namespace {

using testing::gradcheck;
using testing::probe;
using testing::report;
using testing::random_param;
using testing::random_tensor;

ops::AttentionArgs args(int64_t B, int64_t Tq, int64_t Tk, int64_t H, int64_t dh) {
  ops::AttentionArgs a;
  a.B = B, a.Tq = Tq, a.Tk = Tk, a.H = H, a.dh = dh;
  return a;
}

TEST(AutogradGradcheck, DotAttentionSelfCausalWithPadding) {
  Rng rng(21);
  const int64_t B = 2, T = 4, H = 2, dh = 3, C = H * dh;
  Var qkv = random_param({B * T, 3 * C}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 1, 0, 0, 0, 0};
  auto a = args(B, T, T, H, dh);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C, a.key_pad = &pad, a.causal = true;
  report("dot_attention (self, causal)", gradcheck({qkv}, [&] { return probe(ops::dot_attention(qkv, qkv, qkv, a)); }));
}

TEST(AutogradGradcheck, AdditiveAttentionSelfFusedQkvCausalWithPadding) {
  Rng rng(22);
  const int64_t B = 2, T = 4, H = 2, dh = 3, da = 4, C = H * dh;
  Var qkv = random_param({B * T, 3 * C}, rng);
  Var w1 = random_param({H * da, dh}, rng, 0.7), w2 = random_param({H * da, dh}, rng, 0.7);
  Var wv = random_param({H, da}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 1, 0, 0, 1, 1};
  auto a = args(B, T, T, H, dh);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C, a.key_pad = &pad, a.causal = true;
  report("additive_attention (self, causal)", gradcheck({qkv, w1, w2, wv}, [&] {
           return probe(ops::additive_attention(qkv, qkv, qkv, w1, w2, wv, a));
         }));
}

TEST(AutogradGradcheck, AdditiveAttentionCrossWithPaddingAndDropout) {
  Rng rng(23);
  const int64_t B = 2, Tq = 3, Tk = 5, H = 3, dh = 2, da = 3, C = H * dh;
  Var q = random_param({B * Tq, C}, rng), kv = random_param({B * Tk, 2 * C}, rng);
  Var w1 = random_param({H * da, dh}, rng), w2 = random_param({H * da, dh}, rng);
  Var wv = random_param({H, da}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 0, 1, 0, 0, 0, 1, 1};
  auto a = args(B, Tq, Tk, H, dh);
  a.k_col = 0, a.v_col = C, a.key_pad = &pad, a.dropout = 0.25, a.seed = 78;
  report("additive_attention (cross, dropout)", gradcheck({q, kv, w1, w2, wv}, [&] {
           return probe(ops::additive_attention(q, kv, kv, w1, w2, wv, a));
         }));
}

TEST(AutogradGradcheck, CosineAttentionSelfFusedQkvCausalWithPadding) {
  Rng rng(24);
  const int64_t B = 2, T = 4, H = 2, dh = 3, C = H * dh;
  Var qkv = random_param({B * T, 3 * C}, rng);
  Var beta_raw = Var(Tensor::from_vector<double>({1.3, -0.4}, {H}), true);
  std::vector<uint8_t> pad = {0, 0, 1, 0, 0, 0, 0, 1};
  auto a = args(B, T, T, H, dh);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C, a.key_pad = &pad, a.causal = true;
  report("cosine_attention (self, causal)", gradcheck({qkv, beta_raw}, [&] {
           return probe(ops::cosine_attention(qkv, qkv, qkv, beta_raw, a));
         }));
}

TEST(AutogradGradcheck, CosineAttentionCrossWithPaddingAndDropout) {
  Rng rng(25);
  const int64_t B = 2, Tq = 3, Tk = 5, H = 3, dh = 2, C = H * dh;
  Var q = random_param({B * Tq, C}, rng), kv = random_param({B * Tk, 2 * C}, rng);
  Var beta_raw = Var(Tensor::from_vector<double>({2.0, 0.5, -1.0}, {H}), true);
  std::vector<uint8_t> pad = {0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
  auto a = args(B, Tq, Tk, H, dh);
  a.k_col = 0, a.v_col = C, a.key_pad = &pad, a.dropout = 0.25, a.seed = 79;
  report("cosine_attention (cross, dropout)", gradcheck({q, kv, beta_raw}, [&] {
           return probe(ops::cosine_attention(q, kv, kv, beta_raw, a));
         }));
}

// A zero key (and a zero query) must give finite scores and gradients: the eps guard.
TEST(AutogradGradcheck, CosineAttentionZeroVectorsStayFinite) {
  Rng rng(26);
  const int64_t B = 1, Tq = 2, Tk = 3, H = 1, dh = 3;
  Var q = random_param({B * Tq, dh}, rng), kk = random_param({B * Tk, dh}, rng);
  Var v = random_param({B * Tk, dh}, rng);
  for (int64_t c = 0; c < dh; ++c) q.value().data<double>()[c] = 0, kk.value().data<double>()[dh + c] = 0;
  Var beta_raw = Var(Tensor::from_vector<double>({0.7}, {H}), true);
  Tensor w;
  Var y = ops::cosine_attention(q, kk, v, beta_raw, args(B, Tq, Tk, H, dh), 1e-8, &w);
  for (int64_t i = 0; i < y.value().numel(); ++i) EXPECT_TRUE(std::isfinite(y.value().item(i)));
  // The zero query scores 0 against every key: uniform weights.
  for (int64_t j = 0; j < Tk; ++j) EXPECT_NEAR(w.item(j), 1.0 / Tk, 1e-12);
  probe(y).backward();
  for (const Var* x : {&q, &kk, &v, &beta_raw})
    for (int64_t i = 0; i < x->grad().numel(); ++i) EXPECT_TRUE(std::isfinite(x->grad().item(i)));
  // Away from the zero rows the gradient check holds (perturbing a zero row by h sits at the
  // guard's kink, where the gradient is one-sided).
  Var q2 = random_param({B * Tq, dh}, rng);
  report("cosine_attention (zero key)", gradcheck({q2, v, beta_raw}, [&] {
           return probe(ops::cosine_attention(q2, kk, v, beta_raw, args(B, Tq, Tk, H, dh)));
         }));
}

// Weights are a distribution over unmasked keys; dot_product_weights matches the op's scale.
TEST(AutogradGradcheck, ScoredWeightsAreDistributionsOverVisibleKeys) {
  Rng rng(27);
  const int64_t B = 2, T = 4, H = 2, dh = 3, da = 2, C = H * dh;
  Var qkv = random_param({B * T, 3 * C}, rng);
  Var w1 = random_param({H * da, dh}, rng), w2 = random_param({H * da, dh}, rng), wv = random_param({H, da}, rng);
  Var beta_raw = Var(Tensor::from_vector<double>({1.0, 2.0}, {H}), true);
  std::vector<uint8_t> pad = {0, 0, 0, 1, 0, 1, 0, 0};
  auto a = args(B, T, T, H, dh);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C, a.key_pad = &pad, a.causal = true;
  Tensor wa, wc;
  ops::additive_attention(qkv, qkv, qkv, w1, w2, wv, a, &wa);
  ops::cosine_attention(qkv, qkv, qkv, beta_raw, a, 1e-8, &wc);
  Tensor wd = ops::dot_product_weights(qkv, qkv, a);
  for (const Tensor* w : {&wa, &wc, &wd})
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < T; ++i) {
          double s = 0;
          for (int64_t j = 0; j < T; ++j) {
            const double p = w->item(((b * H + h) * T + i) * T + j);
            if (pad[b * T + j] || j > i) {
              EXPECT_EQ(p, 0.0) << "b " << b << " i " << i << " j " << j;
            }
            s += p;
          }
          EXPECT_NEAR(s, 1.0, 1e-12);
        }
}

// A query block at the end of a longer key sequence (what a KV-cache decoder computes) equals the
// last rows of the full causal attention: the causal rule j <= i + (Tk - Tq).
TEST(AutogradScores, QueryBlockAtTheEndEqualsTheLastRowsOfFullCausalAttention) {
  Rng rng(28);
  const int64_t B = 2, T = 5, Tq = 2, H = 2, dh = 3, da = 2, C = H * dh;
  Var qkv = random_param({B * T, 3 * C}, rng);
  Var w1 = random_param({H * da, dh}, rng), w2 = random_param({H * da, dh}, rng), wv = random_param({H, da}, rng);
  Var beta_raw = Var(Tensor::from_vector<double>({1.0, 2.0}, {H}), true);
  // The last Tq query rows of each sequence, as their own (B*Tq, C) tensor.
  Tensor q_last = Tensor::empty({B * Tq, C}, DType::F64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < Tq; ++t)
      for (int64_t c = 0; c < C; ++c)
        q_last.data<double>()[(b * Tq + t) * C + c] = qkv.value().data<double>()[(b * T + T - Tq + t) * 3 * C + c];
  Var q(q_last);
  auto full = args(B, T, T, H, dh);
  full.q_col = 0, full.k_col = C, full.v_col = 2 * C, full.causal = true;
  auto block = args(B, Tq, T, H, dh);
  block.k_col = C, block.v_col = 2 * C, block.causal = true;
  NoGradGuard g;
  const Tensor ya = ops::additive_attention(qkv, qkv, qkv, w1, w2, wv, full).value();
  const Tensor yb = ops::additive_attention(q, qkv, qkv, w1, w2, wv, block).value();
  const Tensor ca = ops::cosine_attention(qkv, qkv, qkv, beta_raw, full).value();
  const Tensor cb = ops::cosine_attention(q, qkv, qkv, beta_raw, block).value();
  double worst = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < Tq; ++t)
      for (int64_t c = 0; c < C; ++c) {
        const int64_t i = (b * T + T - Tq + t) * C + c, j = (b * Tq + t) * C + c;
        worst = std::max({worst, std::abs(ya.item(i) - yb.item(j)), std::abs(ca.item(i) - cb.item(j))});
      }
  std::printf("[scores] query block vs full causal: max |diff| %.3g\n", worst);
  EXPECT_LE(worst, 1e-12);
}

}  // namespace
}  // namespace tfm
