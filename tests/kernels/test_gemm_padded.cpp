// gemm<float> for a weight gradient, C = alpha A^T B + beta C with A (K, M) and B (K, N), whose
// operand rows are a multiple of 2 KiB apart: it copies such an operand to longer rows before
// oneDNN reads it (the stride made oneDNN's AVX2 kernel run at half speed). The copy must be
// exact, so the result equals, bit for bit, the product of the same numbers stored with rows a
// cache line longer (not copied); and both agree with the sums in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/gemm.h"

namespace tfm::kernels {
namespace {

// A (K, M) with rows lda apart, padding filled with NaN, which must never be read.
std::vector<float> stored(const std::vector<float>& dense, int64_t rows, int64_t cols, int64_t ld) {
  std::vector<float> out(static_cast<size_t>(rows * ld), std::nanf(""));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * ld + c] = dense[r * cols + c];
  return out;
}

TEST(GemmPadded, AliasingStridesGiveTheSameBitsAsOthers) {
  Rng rng(23);
  // {M, N, K}: g2p's feed-forward weight gradients (the 1024-wide operand is A, then B, 4 KiB a
  // row), and a 512-wide one (2 KiB); at least 2^24 multiply-adds, where the copy is made.
  const int64_t cases[][3] = {{1024, 256, 256}, {256, 1024, 256}, {512, 512, 128}};
  for (const auto& mnk : cases) {
    const int64_t M = mnk[0], N = mnk[1], K = mnk[2];
    std::vector<float> a(K * M), b(K * N), c0(M * N);
    for (auto& x : a) x = static_cast<float>(rng.normal());
    for (auto& x : b) x = static_cast<float>(rng.normal());
    for (auto& x : c0) x = static_cast<float>(rng.normal());
    for (float beta : {0.f, 1.f}) {
      // Dense rows (M and N are multiples of 512: copied) against rows 16 floats longer (not).
      const std::vector<float> A1 = stored(a, K, M, M), B1 = stored(b, K, N, N);
      const std::vector<float> A2 = stored(a, K, M, M + 16), B2 = stored(b, K, N, N + 16);
      std::vector<float> C1 = c0, C2 = c0;
      gemm<float>(true, false, M, N, K, 0.5f, A1.data(), M, B1.data(), N, beta, C1.data(), N);
      gemm<float>(true, false, M, N, K, 0.5f, A2.data(), M + 16, B2.data(), N + 16, beta, C2.data(), N);
      int64_t differ = 0;
      for (int64_t i = 0; i < M * N; ++i) differ += !(C1[i] == C2[i]);
      EXPECT_EQ(differ, 0) << "M " << M << " N " << N << " beta " << beta;
      double worst = 0;
      for (int s = 0; s < 300; ++s) {
        const auto i = static_cast<int64_t>(rng.uniform() * M), j = static_cast<int64_t>(rng.uniform() * N);
        double sum = 0;
        for (int64_t k = 0; k < K; ++k) sum += static_cast<double>(a[k * M + i]) * static_cast<double>(b[k * N + j]);
        const double want = 0.5 * sum + beta * static_cast<double>(c0[i * N + j]);
        worst = std::max(worst, std::abs(want - static_cast<double>(C1[i * N + j])));
      }
      // As in test_gemm_tall.cpp: sums of K unit-normal products are about sqrt(K) in size.
      EXPECT_LE(worst, 1e-5 * std::sqrt(static_cast<double>(K))) << "M " << M << " N " << N << " beta " << beta;
      EXPECT_TRUE(std::isfinite(worst));
    }
  }
}

}  // namespace
}  // namespace tfm::kernels
