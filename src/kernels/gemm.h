// Matrix products. The ONE place in the project that talks to oneDNN.
#pragma once
#include <cstdint>

namespace tfm::kernels {

// C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C, row-major, with leading dimensions.
// op(X) = X^T when the trans flag is set (A is then stored (K,M), B stored (N,K)).
// float: oneDNN sgemm (threaded by its OpenMP pool; single-threaded inside a parallel region).
// double: a plain cache-blocked loop, used by the gradient checks.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Mixed precision (bf16): products of at least kBf16MinProduct multiply-adds, called outside an
// OpenMP parallel region, round A and B to bfloat16 (round to nearest even) and run oneDNN's
// bf16 matmul (AVX512_BF16) with fp32 accumulation into the fp32 C; everything else, and the
// parameters, stay fp32. Process-wide; off by default.
enum class MatmulPrecision { FP32, BF16 };
// Throws tfm::Error when BF16 is asked for on a CPU whose oneDNN ISA lacks AVX512_BF16.
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();
// True when oneDNN can run bf16 matmuls natively here (AVX512_BF16 or better).
bool bf16_matmul_supported();
constexpr int64_t kBf16MinProduct = 64 * 64 * 64;
// The bfloat16 bits of x, rounded to nearest even (NaN stays NaN).
uint16_t to_bf16_bits(float x);

// Measured fp32 GEMM rate hook for benchmarks: runs one sgemm of the given square size.
void sgemm_square(int64_t n, const float* A, const float* B, float* C);

}  // namespace tfm::kernels
