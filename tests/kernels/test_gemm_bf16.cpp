// bf16 mixed-precision matrix products: inputs rounded to bfloat16 (nearest even), products
// accumulated in fp32, as oneDNN's AVX512_BF16 matmul does; every transpose, alpha, beta, ldc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "kernels/gemm.h"

namespace tfm::kernels {
namespace {

float from_bf16_bits(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(GemmBf16, RoundsToNearestEven) {
  EXPECT_EQ(to_bf16_bits(1.0f), 0x3F80);
  EXPECT_EQ(to_bf16_bits(-2.0f), 0xC000);
  // Halfway cases go to the even neighbour: 1 + 2^-8 -> 1; 1 + 3 * 2^-8 -> 1 + 2^-6.
  EXPECT_EQ(to_bf16_bits(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  EXPECT_EQ(to_bf16_bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  // Just above halfway rounds up.
  EXPECT_EQ(to_bf16_bits(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);
  EXPECT_TRUE(std::isnan(from_bf16_bits(to_bf16_bits(NAN))));
  EXPECT_EQ(from_bf16_bits(to_bf16_bits(INFINITY)), INFINITY);
}

struct Precision {
  explicit Precision(MatmulPrecision p) { set_matmul_precision(p); }
  ~Precision() { set_matmul_precision(MatmulPrecision::FP32); }
};

TEST(GemmBf16, EqualsTheProductOfRoundedInputs) {
  if (!bf16_matmul_supported()) {
    // Detected, not assumed: asking for bf16 says why it cannot.
    try {
      set_matmul_precision(MatmulPrecision::BF16);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("AVX512_BF16"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  }
  // Shapes above kBf16MinProduct; one primitive per (transposes, alpha, beta) serves every size
  // and leading dimension, so the second and third shapes reuse the first one's.
  struct Shape {
    int64_t M, N, K;
  };
  Rng rng(9);
  for (const Shape sh : {Shape{70, 66, 80}, Shape{131, 65, 97}, Shape{64, 200, 33}})
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const int64_t M = sh.M, N = sh.N, K = sh.K, ldc = N + 3;
      SCOPED_TRACE(testing::Message() << "M " << M << " N " << N << " K " << K << " trans_a " << ta
                                      << " trans_b " << tb);
      const int64_t lda = (ta ? M : K) + 2, ldb = (tb ? K : N) + 1;
      std::vector<float> A((ta ? K : M) * lda), B((tb ? N : K) * ldb), C0(M * ldc), C(M * ldc), Cf(M * ldc);
      for (auto* v : {&A, &B, &C0})
        for (float& x : *v) x = static_cast<float>(rng.normal());
      const float alpha = 0.75f, beta = 0.5f;
      C = C0;
      Cf = C0;
      {
        Precision bf16(MatmulPrecision::BF16);
        gemm<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
      }
      gemm<float>(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, Cf.data(), ldc);
      double worst = 0, differs = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double s = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double a = from_bf16_bits(to_bf16_bits(ta ? A[k * lda + i] : A[i * lda + k]));
            const double b = from_bf16_bits(to_bf16_bits(tb ? B[j * ldb + k] : B[k * ldb + j]));
            s += a * b;
            mag += std::abs(a * b);
          }
          const double expect = alpha * s + beta * C0[i * ldc + j];
          // fp32 accumulation of K products: error a few ulps of the magnitude.
          worst = std::max(worst, std::abs(C[i * ldc + j] - expect) / (mag + 1));
          differs = std::max(differs, std::abs(static_cast<double>(C[i * ldc + j]) - Cf[i * ldc + j]));
        }
      EXPECT_LT(worst, 1e-5);
      EXPECT_GT(differs, 1e-3) << "the bf16 path must have been taken (fp32 gives other numbers)";
      // Columns past N (ldc padding) are untouched.
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = N; j < ldc; ++j) EXPECT_EQ(C[i * ldc + j], C0[i * ldc + j]);
    }
  EXPECT_EQ(matmul_precision(), MatmulPrecision::FP32);
}

TEST(GemmBf16, SmallProductsStayFp32) {
  if (!bf16_matmul_supported()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  const int64_t n = 40;  // 40^3 < kBf16MinProduct
  Rng rng(3);
  std::vector<float> A(n * n), B(n * n), C(n * n), Cf(n * n);
  for (auto* v : {&A, &B})
    for (float& x : *v) x = static_cast<float>(rng.normal());
  {
    Precision bf16(MatmulPrecision::BF16);
    gemm<float>(false, false, n, n, n, 1.f, A.data(), n, B.data(), n, 0.f, C.data(), n);
  }
  gemm<float>(false, false, n, n, n, 1.f, A.data(), n, B.data(), n, 0.f, Cf.data(), n);
  EXPECT_EQ(C, Cf);
}

}  // namespace
}  // namespace tfm::kernels
