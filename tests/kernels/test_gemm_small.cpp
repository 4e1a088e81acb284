// gemm<float> on the small products attention makes per head (at most 32^3 multiply-adds, which
// gemm serves with its own loops instead of oneDNN): every combination of transposes, widths
// on and off the 16-float vector (and past the 64 that stay in registers), padded leading
// dimensions, alpha and beta, against the same product in double; without trans_b, also bit for
// bit against the fused multiply-adds of the plain loop.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/gemm.h"

namespace tfm::kernels {
namespace {

TEST(GemmSmall, FloatMatchesDoubleOnAttentionSizedProducts) {
  Rng rng(7);
  int checked = 0;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t M : {1, 3, 20})
        for (int64_t N : {1, 5, 16, 17, 33, 64, 65})
          for (int64_t K : {1, 7, 16, 20, 64}) {
            if (M * N * K > 32 * 32 * 32) continue;
            for (float alpha : {1.f, 0.125f})
              for (float beta : {0.f, 1.f, 0.5f}) {
                // Stored shapes: A (M,K) or (K,M); B (K,N) or (N,K); each with 3 spare columns.
                const int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
                const int64_t lda = ac + 3, ldb = bc + 3, ldc = N + 3;
                std::vector<float> A(ar * lda), B(br * ldb), C(M * ldc);
                for (auto& x : A) x = static_cast<float>(rng.normal());
                for (auto& x : B) x = static_cast<float>(rng.normal());
                for (auto& x : C) x = static_cast<float>(rng.normal());
                std::vector<double> want(M * ldc);
                double worst = 0;
                for (int64_t i = 0; i < M; ++i)
                  for (int64_t j = 0; j < ldc; ++j) {
                    if (j >= N) {
                      want[i * ldc + j] = C[i * ldc + j];  // the padding must stay as it was
                      continue;
                    }
                    double s = 0;
                    for (int64_t k = 0; k < K; ++k)
                      s += static_cast<double>(ta ? A[k * lda + i] : A[i * lda + k]) *
                           static_cast<double>(tb ? B[j * ldb + k] : B[k * ldb + j]);
                    want[i * ldc + j] = alpha * s + (beta == 0.f ? 0.0 : beta * static_cast<double>(C[i * ldc + j]));
                  }
                // Without trans_b, the exact float arithmetic of the loop it replaced: C = beta C, then
                // one fused multiply-add of (alpha A[i,k]) B[k,:] per k, in order (training
                // keeps its bits).
                std::vector<float> fused = C;
                if (!tb)
                  for (int64_t i = 0; i < M; ++i)
                    for (int64_t j = 0; j < N; ++j) {
                      float c = beta == 0.f ? 0.f : beta * fused[i * ldc + j];
                      for (int64_t k = 0; k < K; ++k)
                        c = std::fma(alpha * (ta ? A[k * lda + i] : A[i * lda + k]), B[k * ldb + j], c);
                      fused[i * ldc + j] = c;
                    }
                gemm<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
                if (!tb) {
                  int64_t differ = 0;
                  for (int64_t e = 0; e < M * ldc; ++e) differ += fused[e] != C[e];
                  EXPECT_EQ(differ, 0) << "not the loop's bits: ta " << ta << " M " << M << " N " << N << " K " << K;
                }
                for (int64_t e = 0; e < M * ldc; ++e)
                  worst = std::max(worst, std::abs(want[e] - static_cast<double>(C[e])));
                EXPECT_LE(worst, 1e-5 * std::sqrt(static_cast<double>(K)) + 1e-6)
                    << "ta " << ta << " tb " << tb << " M " << M << " N " << N << " K " << K << " alpha " << alpha
                    << " beta " << beta;
                ++checked;
              }
          }
  EXPECT_GT(checked, 300);
}

// beta = 0 must not read C: NaN there (fresh, uninitialised memory) stays out of the result.
TEST(GemmSmall, BetaZeroIgnoresWhatCHeld) {
  for (bool tb : {false, true}) {
    const int64_t M = 2, N = 20, K = 8;
    std::vector<float> A(M * K, 1.f), B(K * N, 0.5f), C(M * N, std::nanf(""));
    gemm<float>(false, tb, M, N, K, 1.f, A.data(), K, B.data(), tb ? K : N, 0.f, C.data(), N);
    for (float c : C) EXPECT_EQ(c, 4.f) << "trans_b " << tb;
  }
}

}  // namespace
}  // namespace tfm::kernels
