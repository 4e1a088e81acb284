// Backwards that reach a gradient first write it instead of adding into a zero fill
// (Node::claim_grad). In float, through the real product routes (oneDNN sgemm, the transposed
// weight-gradient route), the written gradients must equal, bit for bit, the same products added
// into zeros, and must not read the NaN a poisoned claimed buffer starts with.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "core/rng.h"
#include "kernels/gemm.h"

namespace tfm {
namespace {

Tensor random_float(Shape shape, Rng& rng) {
  Tensor t = Tensor::empty(std::move(shape), DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.normal());
  return t;
}

struct PoisonClaimed {
  PoisonClaimed() { set_poison_claimed_grads(true); }
  ~PoisonClaimed() { set_poison_claimed_grads(false); }
};

// (N, C, OC): small (own kernels), oneDNN sgemm, and a dW with OC 4x C and 2^30 multiply-adds
// (the transposed route of kernels/gemm.cpp).
class ClaimedLinear : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t>> {};

TEST_P(ClaimedLinear, WritesWhatAddingIntoZerosGives) {
  const auto [N, C, OC] = GetParam();
  Rng rng(N + C + OC);
  Var x(random_float({N, C}, rng), true), W(random_float({OC, C}, rng), true);
  Tensor dy = random_float({N, OC}, rng);
  {
    PoisonClaimed poison;
    Var y = ops::linear(x, W, Var());
    ops::weighted_sum(y, dy).backward();
  }
  Tensor dx = Tensor::zeros({N, C}, DType::F32), dW = Tensor::zeros({OC, C}, DType::F32);
  kernels::gemm<float>(false, false, N, C, OC, 1.f, dy.data<float>(), OC, W.value().data<float>(), C,
                       1.f, dx.data<float>(), C);
  kernels::gemm<float>(true, false, OC, C, N, 1.f, dy.data<float>(), OC, x.value().data<float>(), C,
                       1.f, dW.data<float>(), C);
  int64_t dx_diff = 0, dW_diff = 0;
  for (int64_t i = 0; i < dx.numel(); ++i) dx_diff += x.grad().data<float>()[i] != dx.data<float>()[i];
  for (int64_t i = 0; i < dW.numel(); ++i) dW_diff += W.grad().data<float>()[i] != dW.data<float>()[i];
  EXPECT_EQ(dx_diff, 0) << "elements of dx that differ (NaN counts) of " << dx.numel();
  EXPECT_EQ(dW_diff, 0) << "elements of dW that differ (NaN counts) of " << dW.numel();
}

INSTANTIATE_TEST_SUITE_P(Shapes, ClaimedLinear,
                         ::testing::Values(std::make_tuple(int64_t{3}, int64_t{5}, int64_t{7}),
                                           std::make_tuple(int64_t{96}, int64_t{64}, int64_t{48}),
                                           std::make_tuple(int64_t{1024}, int64_t{512}, int64_t{2048})));

// The float elementwise, LayerNorm, attention and cross-entropy backwards of a post-norm
// sub-layer, written into poisoned buffers: finite everywhere, and equal to the double model's.
TEST(ClaimedGradients, FloatSublayerMatchesDoubleWithPoisonedBuffers) {
  const int64_t B = 3, T = 5, H = 2, dh = 8, C = H * dh, V = 11;
  auto run = [&](DType dt) {
    Rng r(9);
    auto param = [&](Shape s) {
      Tensor t = Tensor::empty(s, DType::F64);
      for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = 0.5 * r.normal();
      return Var(t.to(dt), true);
    };
    Var x = param({B * T, C}), Wqkv = param({3 * C, C}), Wo = param({C, C}), g = param({C}),
        b = param({C}), W1 = param({4 * C, C}), W2 = param({V, 4 * C});
    ops::AttentionArgs a;
    a.B = B, a.Tq = T, a.Tk = T, a.H = H, a.dh = dh, a.q_col = 0, a.k_col = C, a.v_col = 2 * C;
    a.causal = true;
    std::vector<int32_t> targets = {1, 0, 4, 2, 0, 3, 7, 10, 0, 9, 8, 6, 5, 0, 2};
    PoisonClaimed poison;
    Var qkv = ops::linear(x, Wqkv, Var());
    Var h = ops::residual_layer_norm(x, ops::dropout(ops::linear(ops::attention(qkv, qkv, qkv, a), Wo, Var()), 0.2, 3), g, b, 1e-5);
    Var f = ops::linear(ops::dropout(ops::relu(ops::linear(h, W1, Var())), 0.1, 4), W2, Var());
    ops::cross_entropy(f, targets, 0, 0.1).backward();
    std::vector<Tensor> grads;
    for (const Var& p : {x, Wqkv, Wo, g, b, W1, W2}) grads.push_back(p.grad().to(DType::F64));
    return grads;
  };
  std::vector<Tensor> f = run(DType::F32), d = run(DType::F64);
  for (size_t k = 0; k < f.size(); ++k)
    for (int64_t i = 0; i < f[k].numel(); ++i) {
      const double got = f[k].data<double>()[i], want = d[k].data<double>()[i];
      ASSERT_TRUE(std::isfinite(got)) << "parameter " << k << " element " << i;
      EXPECT_NEAR(got, want, 1e-5 + 1e-3 * std::abs(want)) << "parameter " << k << " element " << i;
    }
}

}  // namespace
}  // namespace tfm
