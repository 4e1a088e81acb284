// ops::local_attention (Image Transformer local self-attention) against central finite
// differences in float64, through the one harness (gradcheck.h); and the memory claim: what the
// op saves is O(n * (l_q + l_m)) per head (doubling n doubles it, unlike n^2), and its scratch
// does not grow with n at all.
#include <gtest/gtest.h>

#include <cstdio>

#include "autograd/ops.h"
#include "autograd/ops_local.h"
#include "gradcheck.h"
#include "kernels/local_attention.h"

namespace tfm {
namespace {

using testing::gradcheck;
using testing::probe;
using testing::random_param;
using testing::random_tensor;
using testing::report;

ops::LocalAttentionArgs local_args(int64_t B, int64_t H, int64_t dh, const kernels::LocalPattern& p) {
  ops::LocalAttentionArgs a;
  a.B = B, a.H = H, a.dh = dh, a.pattern = p;
  return a;
}

TEST(AutogradGradcheck, LocalAttention1DUnmaskedWithPadding) {
  Rng rng(41);
  const int64_t B = 2, n = 7, H = 2, dh = 3, C = H * dh;  // n not a multiple of l_q = 3
  Var q = random_param({B * n, C}, rng), k = random_param({B * n, C}, rng), v = random_param({B * n, C}, rng);
  std::vector<uint8_t> pad(static_cast<size_t>(B * n), 0);
  pad[B * n - 1] = 1;
  auto a = local_args(B, H, dh, kernels::local_pattern_1d(n, 3, 2, false));
  a.key_pad = &pad;
  report("local_attention (1D, lq 3, lm 2)",
         gradcheck({q, k, v}, [&] { return probe(ops::local_attention(q, k, v, a)); }));
}

TEST(AutogradGradcheck, LocalAttention1DMaskedFusedQkv) {
  Rng rng(42);
  const int64_t B = 2, n = 9, H = 2, dh = 2, C = H * dh;
  Var qkv = random_param({B * n, 3 * C}, rng);
  auto a = local_args(B, H, dh, kernels::local_pattern_1d(n, 4, 3, true));
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C;
  report("local_attention (1D masked, fused)",
         gradcheck({qkv}, [&] { return probe(ops::local_attention(qkv, qkv, qkv, a)); }));
}

TEST(AutogradGradcheck, LocalAttention2DUnmaskedWithPadding) {
  Rng rng(43);
  const int64_t B = 2, h = 4, w = 5, n = h * w, H = 2, dh = 2, C = H * dh;
  Var q = random_param({B * n, C}, rng), k = random_param({B * n, C}, rng), v = random_param({B * n, C}, rng);
  std::vector<uint8_t> pad(static_cast<size_t>(B * n), 0);
  pad[B * n - 1] = pad[B * n - 2] = 1;
  auto a = local_args(B, H, dh, kernels::local_pattern_2d(h, w, 2, 2, 1, 1, false));
  a.key_pad = &pad;
  report("local_attention (2D, 2x2, flange 1,1)",
         gradcheck({q, k, v}, [&] { return probe(ops::local_attention(q, k, v, a)); }));
}

TEST(AutogradGradcheck, LocalAttention2DMaskedFusedQkv) {
  Rng rng(44);
  const int64_t B = 1, h = 5, w = 4, n = h * w, H = 2, dh = 2, C = H * dh;
  Var qkv = random_param({B * n, 3 * C}, rng);
  auto a = local_args(B, H, dh, kernels::local_pattern_2d(h, w, 2, 3, 2, 1, true));
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C;
  report("local_attention (2D masked, fused)",
         gradcheck({qkv}, [&] { return probe(ops::local_attention(qkv, qkv, qkv, a)); }));
}

TEST(AutogradGradcheck, LocalAttention2DMaskedWithDropout) {
  Rng rng(47);
  const int64_t B = 2, h = 3, w = 5, n = h * w, H = 2, dh = 2, C = H * dh;
  Var q = random_param({B * n, C}, rng), k = random_param({B * n, C}, rng), v = random_param({B * n, C}, rng);
  auto a = local_args(B, H, dh, kernels::local_pattern_2d(h, w, 2, 2, 1, 1, true));
  a.dropout = 0.25, a.seed = 77;
  report("local_attention (2D masked, dropout)",
         gradcheck({q, k, v}, [&] { return probe(ops::local_attention(q, k, v, a)); }));
}

// The memory bound of Parmar et al.: saved probabilities n * (l_q + l_m) per head in 1D (n/l_q
// blocks of l_q x (l_q + l_m)), nblocks * Qb * M in 2D; doubling n doubles them (full attention's
// n^2 would quadruple), and the per-thread scratch does not depend on n.
TEST(AutogradLocalAttention, SavedMemoryIsLinearInNAndScratchIsIndependentOfN) {
  const int64_t B = 1, H = 2, dh = 4, C = H * dh, lq = 8, lm = 16;
  int64_t previous = 0;
  for (int64_t n : {64, 128, 256}) {
    for (bool masked : {false, true}) {
      Rng rng(45);
      Var x(random_tensor({B * n, 3 * C}, rng, 1.0, DType::F32), true);
      ops::LocalAttentionMemory m;
      auto a = local_args(B, H, dh, kernels::local_pattern_1d(n, lq, lm, masked));
      a.k_col = C, a.v_col = 2 * C, a.memory = &m;
      Var y = ops::local_attention(x, x, x, a);
      ops::weighted_sum(y, Tensor::full(y.shape(), 1.0, DType::F32)).backward();
      ASSERT_TRUE(x.grad().defined());
      EXPECT_EQ(m.saved_probs, B * H * n * (lq + lm)) << "n " << n;
      EXPECT_EQ(m.saved_drop_mask, 0);
      EXPECT_EQ(m.forward_scratch, 2 * lq * dh + 2 * (lq + lm) * dh + 2 * lq * (lq + lm));
      EXPECT_EQ(m.backward_scratch, 3 * lq * dh + 4 * (lq + lm) * dh + 2 * lq * (lq + lm));
      if (!masked) {
        std::printf("[memory 1D] n=%4lld lq=%lld lm=%lld: saved %lld (full attention %lld), "
                    "scratch/thread fwd %lld bwd %lld\n",
                    static_cast<long long>(n), static_cast<long long>(lq), static_cast<long long>(lm),
                    static_cast<long long>(m.saved_probs), static_cast<long long>(B * H * n * n),
                    static_cast<long long>(m.forward_scratch), static_cast<long long>(m.backward_scratch));
        if (previous) {
          EXPECT_EQ(m.saved_probs, 2 * previous) << "doubling n must double what is saved";
        }
        previous = m.saved_probs;
      }
    }
  }
  // 2D: an image of h x 16, blocks 4x4, flange 2 rows above and 4 columns each side: M = 6*12.
  int64_t previous_2d = 0;
  for (int64_t h : {16, 32, 64}) {
    const kernels::LocalPattern p = kernels::local_pattern_2d(h, 16, 4, 4, 2, 4, true);
    const int64_t n = p.length();
    EXPECT_EQ(kernels::local_probs_per_head(p), n * 6 * 12);
    if (previous_2d) {
      EXPECT_EQ(kernels::local_probs_per_head(p), 2 * previous_2d);
    }
    previous_2d = kernels::local_probs_per_head(p);
    EXPECT_EQ(kernels::local_backward_scratch(p, dh), 3 * 16 * dh + 4 * 72 * dh + 2 * 16 * 72);
    std::printf("[memory 2D] n=%4lld (%lldx16) q 4x4 flange 2,4: saved/head %lld (full %lld)\n",
                static_cast<long long>(n), static_cast<long long>(h),
                static_cast<long long>(kernels::local_probs_per_head(p)), static_cast<long long>(n * n));
  }
}

TEST(AutogradLocalAttention, InferenceKeepsNoProbabilities) {
  Rng rng(46);
  Var q(random_tensor({8, 4}, rng), true);
  ops::LocalAttentionMemory m;
  auto a = local_args(1, 2, 2, kernels::local_pattern_1d(8, 2, 2, true));
  a.memory = &m;
  NoGradGuard g;
  ops::local_attention(q, q, q, a);
  EXPECT_EQ(m.saved_probs, 0);
}

}  // namespace
}  // namespace tfm
