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

// Measured fp32 GEMM rate hook for benchmarks: runs one sgemm of the given square size.
void sgemm_square(int64_t n, const float* A, const float* B, float* C);

}  // namespace tfm::kernels
