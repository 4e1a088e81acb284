// ops::relative_attention (Music Transformer relative self-attention) against central finite
// differences in float64, through the one harness (gradcheck.h), for q, k, v and the table; and
// the memory claim: what the op saves and allocates is O(L*dh + H*L*L), never O(L*L*dh).
#include <gtest/gtest.h>

#include <cstdio>

#include "autograd/ops.h"
#include "autograd/ops_relative.h"
#include "gradcheck.h"
#include "kernels/relative_attention.h"

namespace tfm {
namespace {

using testing::gradcheck;
using testing::probe;
using testing::report;
using testing::random_param;
using testing::random_tensor;

ops::RelativeAttentionArgs rel_args(int64_t B, int64_t L, int64_t H, int64_t dh, int64_t k) {
  ops::RelativeAttentionArgs a;
  a.B = B, a.L = L, a.H = H, a.dh = dh, a.max_distance = k;
  return a;
}

// L = 6 > k = 2: the edge rows collect the gradient of every distance beyond +-2.
TEST(AutogradGradcheck, RelativeAttentionUnmaskedClippedPerHeadTableWithPadding) {
  Rng rng(31);
  const int64_t B = 2, L = 6, H = 2, dh = 3, k = 2, C = H * dh;
  Var q = random_param({B * L, C}, rng), kk = random_param({B * L, C}, rng);
  Var v = random_param({B * L, C}, rng), E = random_param({H, 2 * k + 1, dh}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
  auto a = rel_args(B, L, H, dh, k);
  a.key_pad = &pad;
  report("relative_attention (encoder, clip 2)",
         gradcheck({q, kk, v, E}, [&] { return probe(ops::relative_attention(q, kk, v, E, a)); }));
}

TEST(AutogradGradcheck, RelativeAttentionCausalFusedQkvWithHalfTable) {
  Rng rng(32);
  const int64_t B = 2, L = 5, H = 2, dh = 3, k = 2, C = H * dh;
  Var qkv = random_param({B * L, 3 * C}, rng), E = random_param({H, k + 1, dh}, rng);
  std::vector<uint8_t> pad = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
  auto a = rel_args(B, L, H, dh, k);
  a.q_col = 0, a.k_col = C, a.v_col = 2 * C, a.key_pad = &pad, a.causal = true;
  report("relative_attention (decoder, fused)",
         gradcheck({qkv, E}, [&] { return probe(ops::relative_attention(qkv, qkv, qkv, E, a)); }));
}

// A causal layer given the full 2k+1 table: the rows of positive distances get no gradient.
TEST(AutogradGradcheck, RelativeAttentionCausalFullTableLeavesFutureRowsAtZero) {
  Rng rng(33);
  const int64_t B = 1, L = 4, H = 2, dh = 2, k = 5, C = H * dh;  // k >= L: nothing clipped
  Var q = random_param({B * L, C}, rng), kk = random_param({B * L, C}, rng);
  Var v = random_param({B * L, C}, rng), E = random_param({H, 2 * k + 1, dh}, rng);
  auto a = rel_args(B, L, H, dh, k);
  a.causal = true;
  report("relative_attention (decoder, no clip)",
         gradcheck({q, kk, v, E}, [&] { return probe(ops::relative_attention(q, kk, v, E, a)); }));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t r = k + 1; r < 2 * k + 1; ++r)
      for (int64_t c = 0; c < dh; ++c)
        EXPECT_EQ(E.grad().item((h * (2 * k + 1) + r) * dh + c), 0.0) << "head " << h << " row " << r;
}

TEST(AutogradGradcheck, RelativeAttentionSharedTableWithDropout) {
  Rng rng(34);
  const int64_t B = 2, L = 5, H = 3, dh = 2, k = 1, C = H * dh;
  Var q = random_param({B * L, C}, rng), kk = random_param({B * L, C}, rng);
  Var v = random_param({B * L, C}, rng), E = random_param({1, 2 * k + 1, dh}, rng);
  auto a = rel_args(B, L, H, dh, k);
  a.dropout = 0.25, a.seed = 77;
  report("relative_attention (shared, dropout)",
         gradcheck({q, kk, v, E}, [&] { return probe(ops::relative_attention(q, kk, v, E, a)); }));
}

TEST(AutogradRelativeAttention, WrongTableShapeIsNamed) {
  Rng rng(35);
  Var x = random_param({4, 4}, rng), E = random_param({2, 4, 2}, rng);
  auto a = rel_args(1, 4, 2, 2, 2);
  try {
    ops::relative_attention(x, x, x, E, a);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("relative embedding table has shape (2, 4, 2), expected (2 or 1, 5, 2)"),
              std::string::npos)
        << e.what();
  }
}

// The memory claim of the Music Transformer's skewing: besides Q Ew^T, O(L*dh) extra memory.
// The op saves B*H*L*L probabilities; each thread's scratch is the window (W, dh), the skew
// buffer (about 2L^2) and (L, L) score buffers. Doubling dh adds only O(L*dh), doubling L never
// multiplies an L*L*dh term. Shaw et al.'s (L, L, dh) tensor would be L*L*dh per head.
TEST(AutogradRelativeAttention, SavedAndScratchMemoryIsLinearInDhNotLTimesLTimesDh) {
  for (bool causal : {false, true}) {
    const int64_t B = 2, L = 64, H = 4, dh = 32, k = 8, C = H * dh;
    Rng rng(36);
    Var q(random_tensor({B * L, C}, rng, 1.0, DType::F32), true);
    Var E(random_tensor({H, kernels::relative_table_rows(k, causal), dh}, rng, 1.0, DType::F32), true);
    ops::RelativeAttentionMemory m;
    auto a = rel_args(B, L, H, dh, k);
    a.causal = causal, a.memory = &m;
    Var y = ops::relative_attention(q, q, q, E, a);
    ops::weighted_sum(y, Tensor::full(y.shape(), 1.0, DType::F32)).backward();
    const int64_t W = causal ? L : 2 * L - 1;
    const int64_t skew = causal ? L * (L + 1) : 2 * L * L + L - 1;
    std::printf("[memory] %s L=%lld dh=%lld: saved %lld (B*H*L*L = %lld), scratch/thread fwd %lld bwd %lld, "
                "Shaw's (L,L,dh) per head would be %lld\n",
                causal ? "causal  " : "unmasked", static_cast<long long>(L), static_cast<long long>(dh),
                static_cast<long long>(m.saved_probs + m.saved_drop_mask), static_cast<long long>(B * H * L * L),
                static_cast<long long>(m.forward_scratch), static_cast<long long>(m.backward_scratch),
                static_cast<long long>(L * L * dh));
    EXPECT_EQ(m.saved_probs, B * H * L * L);
    EXPECT_EQ(m.saved_drop_mask, 0);
    EXPECT_EQ(m.forward_scratch, W * dh + skew + 2 * L * L);
    EXPECT_EQ(m.backward_scratch, 2 * W * dh + skew + 2 * L * L);
    EXPECT_LT(m.backward_scratch, L * L * dh / 4);
    // The dh-dependent part grows with L, not L*L: scratch(L, 2dh) - scratch(L, dh) <= 4 L dh.
    for (int64_t l : {16, 64, 256}) {
      EXPECT_LE(kernels::relative_forward_scratch(l, 2 * dh, causal) - kernels::relative_forward_scratch(l, dh, causal),
                2 * l * dh);
      EXPECT_LE(kernels::relative_backward_scratch(l, 2 * dh, causal) - kernels::relative_backward_scratch(l, dh, causal),
                4 * l * dh);
    }
    EXPECT_TRUE(q.grad().defined() && E.grad().defined());
  }
}

// The table gradient sums per-thread parts in thread order: bitwise the same run after run.
TEST(AutogradRelativeAttention, TableGradientIsDeterministicInFloat32) {
  const int64_t B = 3, L = 33, H = 4, dh = 8, k = 5, C = H * dh;
  Rng rng(38);
  Var qkv(random_tensor({B * L, 3 * C}, rng, 1.0, DType::F32), true);
  Var E(random_tensor({H, 2 * k + 1, dh}, rng, 1.0, DType::F32), true);
  Tensor w = random_tensor({B * L, C}, rng, 1.0, DType::F32);
  auto a = rel_args(B, L, H, dh, k);
  a.k_col = C, a.v_col = 2 * C;
  std::vector<Tensor> grads;
  for (int run = 0; run < 3; ++run) {
    E.zero_grad(), qkv.zero_grad();
    ops::weighted_sum(ops::relative_attention(qkv, qkv, qkv, E, a), w).backward();
    grads.push_back(E.grad().clone());
  }
  for (int run = 1; run < 3; ++run)
    for (int64_t i = 0; i < grads[0].numel(); ++i)
      ASSERT_EQ(grads[run].data<float>()[i], grads[0].data<float>()[i]) << "run " << run << " element " << i;
}

TEST(AutogradRelativeAttention, InferenceKeepsNoProbabilities) {
  Rng rng(37);
  Var q(random_tensor({8, 4}, rng), true), E(random_tensor({2, 3, 2}, rng), true);
  ops::RelativeAttentionMemory m;
  auto a = rel_args(2, 4, 2, 2, 1);
  a.memory = &m;
  NoGradGuard g;
  ops::relative_attention(q, q, q, E, a);
  EXPECT_EQ(m.saved_probs, 0);
}

}  // namespace
}  // namespace tfm
