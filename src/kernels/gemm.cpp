#include "kernels/gemm.h"

#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <string>

#include "core/error.h"

namespace tfm::kernels {

namespace {
// A plain loop: the double path (gradient checks) and tiny float products, where a library
// call costs more than the arithmetic (attention's per-head products in small models are
// 20 x 16 x 20: oneDNN's dispatch dominates there).
template <class T, class Acc>
void gemm_loop(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
               int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* c = C + i * ldc;
    for (int64_t j = 0; j < N; ++j) c[j] = beta == T(0) ? T(0) : beta * c[j];
    if (!trans_b) {
      // C[i,:] += alpha * A[i,k] * B[k,:]: unit-stride inner loop over j
      for (int64_t k = 0; k < K; ++k) {
        const T a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
        const T* b = B + k * ldb;
#pragma omp simd
        for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
      }
    } else {
      for (int64_t j = 0; j < N; ++j) {
        const T* b = B + j * ldb;
        Acc s = 0;
        if (!trans_a) {
          const T* a = A + i * lda;
#pragma omp simd reduction(+ : s)
          for (int64_t k = 0; k < K; ++k) s += a[k] * b[k];
        } else {
          for (int64_t k = 0; k < K; ++k) s += A[k * lda + i] * b[k];
        }
        c[j] += alpha * static_cast<T>(s);
      }
    }
  }
}
constexpr int64_t kSmallGemm = 32 * 32 * 32;
}  // namespace

template <>
void gemm<float>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (M * N * K <= kSmallGemm) return gemm_loop<float, float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (K == 0) {  // oneDNN rejects K = 0; the product is empty, only beta applies
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B,
                                ldb, beta, C, ldc);
  TFM_ASSERT(st == dnnl_success, "dnnl_sgemm failed with status ", static_cast<int>(st), " for M=", M,
             " N=", N, " K=", K, " lda=", lda, " ldb=", ldb, " ldc=", ldc);
}

template <>
void gemm<double>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
                  const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
                  int64_t ldc) {
  gemm_loop<double, double>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_square(int64_t n, const float* A, const float* B, float* C) {
  gemm<float>(false, false, n, n, n, 1.f, A, n, B, n, 0.f, C, n);
}

}  // namespace tfm::kernels
