// Every op of autograd/ops.h against central finite differences in float64.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "gradcheck.h"

namespace tfm {
namespace {

using testing::gradcheck;
using testing::probe;
using testing::report;
using testing::random_param;
using testing::random_tensor;

TEST(AutogradGradcheck, Linear) {
  Rng rng(1);
  Var x = random_param({5, 7}, rng), W = random_param({6, 7}, rng), b = random_param({6}, rng);
  report("linear", gradcheck({x, W, b}, [&] { return probe(ops::linear(x, W, b)); }));
}

TEST(AutogradGradcheck, LinearRowRangeTouchesOnlyItsRows) {
  Rng rng(2);
  Var x = random_param({4, 5}, rng), W = random_param({9, 5}, rng), b = random_param({9}, rng);
  report("linear[3:6]", gradcheck({x, W, b}, [&] { return probe(ops::linear(x, W, b, 3, 6)); }));
  for (int64_t i = 0; i < 9 * 5; ++i)
    if (i / 5 < 3 || i / 5 >= 6) {
      EXPECT_EQ(W.grad().item(i), 0.0) << "row " << i / 5;
    }
}

TEST(AutogradGradcheck, Relu) {
  Rng rng(3);
  Var x = random_param({6, 5}, rng);
  report("relu", gradcheck({x}, [&] { return probe(ops::relu(x)); }));
}

TEST(AutogradGradcheck, Tanh) {
  Rng rng(41);
  Var x = random_param({6, 5}, rng);
  report("tanh", gradcheck({x}, [&] { return probe(ops::tanh(x)); }));
  // The forward is tanh itself.
  Var y = ops::tanh(x);
  for (int64_t i = 0; i < x.value().numel(); ++i) EXPECT_DOUBLE_EQ(y.value().item(i), std::tanh(x.value().item(i)));
}

TEST(AutogradGradcheck, Gelu) {
  Rng rng(4);
  Var x = random_param({6, 5}, rng);
  report("gelu", gradcheck({x}, [&] { return probe(ops::gelu(x)); }));
}

TEST(AutogradGradcheck, AddAndScale) {
  Rng rng(5);
  Var a = random_param({3, 4}, rng), b = random_param({3, 4}, rng);
  report("add+scale", gradcheck({a, b}, [&] { return probe(ops::scale(ops::add(a, b), -1.7)); }));
}

TEST(AutogradGradcheck, Dropout) {
  Rng rng(6);
  Var x = random_param({8, 8}, rng);
  report("dropout", gradcheck({x}, [&] { return probe(ops::dropout(x, 0.3, 1234)); }));
}

TEST(AutogradGradcheck, ReluDropout) {
  Rng rng(20);
  Var x = random_param({8, 8}, rng);
  report("relu_dropout", gradcheck({x}, [&] { return probe(ops::relu_dropout(x, 0.3, 1234)); }));
  // The same values as the two ops it fuses.
  Var fused = ops::relu_dropout(x, 0.3, 1234), apart = ops::dropout(ops::relu(x), 0.3, 1234);
  for (int64_t i = 0; i < x.value().numel(); ++i) EXPECT_EQ(fused.value().item(i), apart.value().item(i));
}

TEST(AutogradGradcheck, LayerNorm) {
  Rng rng(7);
  Var x = random_param({5, 6}, rng, 2.0), g = random_param({6}, rng), b = random_param({6}, rng);
  report("layer_norm", gradcheck({x, g, b}, [&] { return probe(ops::layer_norm(x, g, b, 1e-5)); }));
}

TEST(AutogradGradcheck, ResidualLayerNorm) {
  Rng rng(8);
  Var a = random_param({5, 6}, rng), c = random_param({5, 6}, rng);
  Var g = random_param({6}, rng), b = random_param({6}, rng);
  report("residual_layer_norm",
         gradcheck({a, c, g, b}, [&] { return probe(ops::residual_layer_norm(a, c, g, b, 1e-5)); }));
}

TEST(AutogradGradcheck, EmbeddingWithRepeatedIds) {
  Rng rng(9);
  Var table = random_param({7, 4}, rng);
  Tensor ids = Tensor::from_vector<int32_t>({1, 3, 3, 6, 0, 1}, {2, 3});
  Tensor pe = random_tensor({5, 4}, rng);
  report("embedding", gradcheck({table}, [&] { return probe(ops::embedding(table, ids, 2.0, pe)); }));
}

ops::AttentionArgs attn_args(int64_t B, int64_t Tq, int64_t Tk, int64_t H, int64_t dh) {
  ops::AttentionArgs a;
  a.B = B, a.Tq = Tq, a.Tk = Tk, a.H = H, a.dh = dh;
  return a;
}

TEST(AutogradGradcheck, AttentionSelfFusedQkvWithPaddingAndCausalMask) {
  Rng rng(10);
  const int64_t B = 2, T = 4, H = 2, dh = 3, C = H * dh;
  Var qkv = random_param({B * T, 3 * C}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 1, 0, 0, 0, 0};
  auto a = attn_args(B, T, T, H, dh);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C, a.key_pad = &pad, a.causal = true;
  report("attention (self, causal)", gradcheck({qkv}, [&] { return probe(ops::attention(qkv, qkv, qkv, a)); }));
}

TEST(AutogradGradcheck, AttentionCrossWithDropout) {
  Rng rng(11);
  const int64_t B = 2, Tq = 3, Tk = 5, H = 3, dh = 2, C = H * dh;
  Var q = random_param({B * Tq, C}, rng), kv = random_param({B * Tk, 2 * C}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 0, 1, 0, 0, 0, 1, 1};
  auto a = attn_args(B, Tq, Tk, H, dh);
  a.k_col = 0, a.v_col = C, a.key_pad = &pad, a.dropout = 0.25, a.seed = 77;
  report("attention (cross, dropout)", gradcheck({q, kv}, [&] { return probe(ops::attention(q, kv, kv, a)); }));
}

TEST(AutogradGradcheck, CrossEntropyWithLabelSmoothingAndIgnoredRows) {
  Rng rng(12);
  Var logits = random_param({6, 5}, rng);
  std::vector<int32_t> targets = {1, 0, 4, 2, 0, 3};
  report("cross_entropy", gradcheck({logits}, [&] { return ops::cross_entropy(logits, targets, 0, 0.1); }));
}

TEST(AutogradGradcheck, LogSoftmax) {
  Rng rng(13);
  Var x = random_param({4, 6}, rng);
  report("log_softmax", gradcheck({x}, [&] { return probe(ops::log_softmax(x)); }));
}

TEST(AutogradTape, TiedParameterAccumulatesFromEveryUse) {
  Rng rng(14);
  Var W = random_param({3, 3}, rng), x = random_param({2, 3}, rng);
  report("linear twice (tied)", gradcheck({W, x}, [&] { return probe(ops::linear(ops::linear(x, W, Var()), W, Var())); }));
}

// A backward that reaches a gradient first writes it (no zero fill, Node::claim_grad); later
// ones add. These graphs mix the two on one input, in both orders, and cases that must not claim.
TEST(AutogradTape, FirstGradientWrittenLaterOnesAdded) {
  Rng rng(16);
  Var x = random_param({4, 6}, rng), W = random_param({5, 6}, rng), g = random_param({6}, rng),
      b = random_param({6}, rng);
  report("x through relu, dropout, linear, layer_norm and x + x", gradcheck({x, W, g, b}, [&] {
    Var y = ops::add(ops::relu(x), ops::dropout(x, 0.3, 5));
    Var z = ops::add(ops::linear(x, W, Var()), ops::linear(ops::layer_norm(x, g, b, 1e-5), W, Var()));
    Var r = ops::residual_layer_norm(x, x, g, b, 1e-5);  // a and b one Var: d(a+b) twice
    return ops::add(ops::add(probe(y), probe(z, 7)), probe(r, 8));
  }));
}

TEST(AutogradTape, ResidualLayerNormWhoseFirstSummandAlreadyHasAGradient) {
  Rng rng(17);
  Var a = random_param({3, 4}, rng), c = random_param({3, 4}, rng);
  Var g = random_param({4}, rng), b = random_param({4}, rng);
  report("residual_layer_norm after another use of a", gradcheck({a, c, g, b}, [&] {
    Var r = ops::residual_layer_norm(a, c, g, b, 1e-5);
    return ops::add(probe(r), probe(ops::relu(ops::residual_layer_norm(c, r, g, b, 1e-5)), 3));
  }));
}

TEST(AutogradTape, LinearRowRangesShareOneWeightGradient) {
  Rng rng(18);
  Var x = random_param({3, 4}, rng), m = random_param({5, 4}, rng), W = random_param({9, 4}, rng),
      b = random_param({9}, rng);
  // Cross-attention's projections: rows 0:3 on x, rows 3:9 on m, one weight; then all rows.
  report("linear row ranges + full", gradcheck({x, m, W, b}, [&] {
    Var s = ops::add(probe(ops::linear(x, W, b, 0, 3)), probe(ops::linear(m, W, b, 3, 9), 4));
    return ops::add(s, probe(ops::linear(x, W, b), 5));
  }));
}

TEST(AutogradTape, AttentionClaimsOnlyWhatItWritesWhole) {
  Rng rng(19);
  const int64_t B = 2, T = 3, H = 2, dh = 2, C = H * dh;
  auto a = attn_args(B, T, T, H, dh);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C;
  // Q, K, V in the first 3C of 4C columns: the last C get no gradient and must read zero.
  Var wide = random_param({B * T, 4 * C}, rng);
  report("attention over part of a buffer", gradcheck({wide}, [&] { return probe(ops::attention(wide, wide, wide, a)); }));
  for (int64_t r = 0; r < B * T; ++r)
    for (int64_t c = 3 * C; c < 4 * C; ++c) EXPECT_EQ(wide.grad().item(r * 4 * C + c), 0.0);
  // kv also feeds a relu: whichever backward runs first, the other must add.
  Var q = random_param({B * T, C}, rng), kv = random_param({B * T, 2 * C}, rng);
  auto x = attn_args(B, T, T, H, dh);
  x.k_col = 0, x.v_col = C;
  report("attention + another use of kv", gradcheck({q, kv}, [&] {
    return ops::add(probe(ops::attention(q, kv, kv, x)), probe(ops::relu(kv), 6));
  }));
  report("another use of kv + attention", gradcheck({q, kv}, [&] {
    return ops::add(probe(ops::relu(kv), 6), probe(ops::attention(q, kv, kv, x)));
  }));
}

TEST(AutogradTape, NoGradModeRecordsNothing) {
  Rng rng(15);
  Var x = random_param({2, 3}, rng);
  NoGradGuard g;
  Var y = ops::relu(x);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.node()->inputs.empty());
}

TEST(AutogradTape, AnOpWithoutBackwardIsANamedError) {
  Rng rng(16);
  Var x = random_param({1}, rng);
  Var y = Var::make(x.value().clone(), "mystery_op", {x}, nullptr);
  try {
    y.backward();
    FAIL() << "expected an error";
  } catch (const InternalError& e) {
    EXPECT_NE(std::string(e.what()).find("mystery_op"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tfm
