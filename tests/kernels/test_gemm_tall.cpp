// gemm<float> for a linear layer's weight gradient over many tokens, dW (OC, C) = dy^T x with OC a
// few times C: it computes the transposed product and adds it back transposed
// (gemm_tall_at_b). Against the same sums in double, at sampled entries, for beta 0 (C's old
// contents, even NaN, ignored), beta 1 (accumulation, as backward does) and a scaled alpha, with
// padded leading dimensions whose padding must stay untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/gemm.h"

namespace tfm::kernels {
namespace {

TEST(GemmTall, WeightGradientShapeMatchesDouble) {
  Rng rng(11);
  // M N K = 2^30: the smallest product that takes the transposed route; also 4:1 (the
  // feed-forward's first layer) and 3:1 (the fused query-key-value projection).
  const int64_t cases[][3] = {{1024, 512, 2048}, {1536, 512, 1536}};
  for (const auto& mnk : cases) {
    const int64_t M = mnk[0], N = mnk[1], K = mnk[2];
    const int64_t lda = M + 5, ldb = N + 3, ldc = N + 7;  // A (K, M), B (K, N), C (M, N)
    std::vector<float> A(K * lda), B(K * ldb);
    for (auto& x : A) x = static_cast<float>(rng.normal());
    for (auto& x : B) x = static_cast<float>(rng.normal());
    for (float beta : {0.f, 1.f})
      for (float alpha : {1.f, 0.25f}) {
        std::vector<float> C(M * ldc);
        for (auto& x : C) x = beta == 0.f ? std::nanf("") : static_cast<float>(rng.normal());
        const std::vector<float> before = C;
        gemm<float>(true, false, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
        double worst = 0;
        for (int s = 0; s < 400; ++s) {
          const auto i = static_cast<int64_t>(rng.uniform() * M), j = static_cast<int64_t>(rng.uniform() * N);
          double sum = 0;
          for (int64_t k = 0; k < K; ++k)
            sum += static_cast<double>(A[k * lda + i]) * static_cast<double>(B[k * ldb + j]);
          const double want = alpha * sum + (beta == 0.f ? 0.0 : beta * static_cast<double>(before[i * ldc + j]));
          worst = std::max(worst, std::abs(want - static_cast<double>(C[i * ldc + j])));
        }
        // The bound of the small products' test (test_gemm_small.cpp): sums of K products of unit
        // normals are about sqrt(K) in size; a wrong index or a lost beta is off by that much.
        EXPECT_LE(worst, 1e-5 * std::sqrt(static_cast<double>(K))) << "M " << M << " alpha " << alpha << " beta " << beta;
        EXPECT_TRUE(std::isfinite(worst));
        int64_t padding_changed = 0;
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = N; j < ldc; ++j) {
            const float a = before[i * ldc + j], b = C[i * ldc + j];
            padding_changed += !(a == b || (std::isnan(a) && std::isnan(b)));
          }
        EXPECT_EQ(padding_changed, 0) << "M " << M << " beta " << beta;
      }
  }
}

}  // namespace
}  // namespace tfm::kernels
