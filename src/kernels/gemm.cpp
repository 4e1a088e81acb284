#include "kernels/gemm.h"

#include <immintrin.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <tuple>
#include <vector>

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
// Below this many multiply-adds the transposed weight gradient (gemm_tall_at_b) was not measured
// to gain; the training shapes it is for are 2^31 and more.
constexpr int64_t kTallWeightGradient = int64_t{1} << 30;
// Weight gradients of at least this many multiply-adds copy an operand whose rows alias (sgemm).
constexpr int64_t kPaddedWeightGradient = int64_t{1} << 24;

#if defined(__AVX512F__)
// gemm_loop's float arithmetic without trans_b for the products attention makes per head
// (P V; the backward's dS K, dS^T Q, P^T dO; N = d_k <= 64): a row of C stays in NV registers
// over the whole k loop instead of being loaded and stored at every k (a store-to-load chain
// through memory). Same fused multiply-adds in the same order as gemm_loop's vector loop, so
// the same bits: training does not change by a rounding.
template <int NV>
void rows_times_matrix(bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                       const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  __mmask16 mask[NV];
  for (int v = 0; v < NV; ++v) {
    const int64_t left = std::clamp<int64_t>(N - 16 * v, 0, 16);
    mask[v] = static_cast<__mmask16>((1u << left) - 1);
  }
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    __m512 acc[NV];
    for (int v = 0; v < NV; ++v)
      acc[v] = beta == 0.f ? _mm512_setzero_ps()
                           : _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(mask[v], c + 16 * v));
    for (int64_t k = 0; k < K; ++k) {
      const __m512 a = _mm512_set1_ps(alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]));
      const float* b = B + k * ldb;
      for (int v = 0; v < NV; ++v) acc[v] = _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(mask[v], b + 16 * v), acc[v]);
    }
    for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(c + 16 * v, mask[v], acc[v]);
  }
}

void gemm_small_float(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (trans_b) return gemm_loop<float, float>(trans_a, true, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  switch ((N + 15) / 16) {
    case 1: return rows_times_matrix<1>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 2: return rows_times_matrix<2>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 3: return rows_times_matrix<3>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 4: return rows_times_matrix<4>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    default: return gemm_loop<float, float>(trans_a, false, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}
#define TFM_SMALL_GEMM 1
#elif defined(__AVX2__) && defined(__FMA__)
// The same register-accumulator product with 8-float AVX2 vectors, for CPUs without AVX-512
// (AMD Zen 2/3, older Intel): NV vectors hold a row of C (N <= 64), masked loads and stores
// cover the ragged end. Same fused multiply-adds in the same order as gemm_loop, so the same bits.
template <int NV>
void rows_times_matrix(bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                       const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  __m256i mask[NV];
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int v = 0; v < NV; ++v) {
    const auto left = static_cast<int>(std::clamp<int64_t>(N - 8 * v, 0, 8));
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane);  // lanes below `left` are on
  }
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    __m256 acc[NV];
    for (int v = 0; v < NV; ++v)
      acc[v] = beta == 0.f ? _mm256_setzero_ps()
                           : _mm256_mul_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(c + 8 * v, mask[v]));
    for (int64_t k = 0; k < K; ++k) {
      const __m256 a = _mm256_set1_ps(alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]));
      const float* b = B + k * ldb;
      for (int v = 0; v < NV; ++v) acc[v] = _mm256_fmadd_ps(a, _mm256_maskload_ps(b + 8 * v, mask[v]), acc[v]);
    }
    for (int v = 0; v < NV; ++v) _mm256_maskstore_ps(c + 8 * v, mask[v], acc[v]);
  }
}

void gemm_small_float(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                      int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (trans_b) return gemm_loop<float, float>(trans_a, true, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  switch ((N + 7) / 8) {
    case 1: return rows_times_matrix<1>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 2: return rows_times_matrix<2>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 3: return rows_times_matrix<3>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 4: return rows_times_matrix<4>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 5: return rows_times_matrix<5>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 6: return rows_times_matrix<6>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 7: return rows_times_matrix<7>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case 8: return rows_times_matrix<8>(trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    default: return gemm_loop<float, float>(trans_a, false, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
}
#define TFM_SMALL_GEMM 1
#endif

std::atomic<MatmulPrecision> g_precision{MatmulPrecision::FP32};

// A stored (rows, cols) float matrix with leading dimension ld, as dense bfloat16.
void convert_bf16(const float* src, int64_t rows, int64_t cols, int64_t ld, uint16_t* dst) {
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * ld;
    uint16_t* d = dst + r * cols;
    int64_t c = 0;
#if defined(__AVX512BF16__)
    for (; c + 16 <= cols; c += 16) {
      const __m256bh v = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + c));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + c), reinterpret_cast<const __m256i&>(v));
    }
#endif
    for (; c < cols; ++c) d[c] = to_bf16_bits(s[c]);
  }
}

// One oneDNN bf16 matmul for each (transposes, alpha, beta), with every size and leading
// dimension given at run time: training meets a new (M, N, K) in nearly every batch, and a
// primitive per shape would JIT and keep thousands of them. oneDNN serves these with its jit
// bf16 GEMM (AVX512_BF16), as fast here as the shape-specialised kernel.
using Bf16Key = std::tuple<bool, bool, float, float>;
struct Bf16Kernels {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
  std::map<Bf16Key, dnnl::matmul> primitives;
};
Bf16Kernels& bf16_kernels() {
  static Bf16Kernels k;
  return k;
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  using dnnl::memory;
  // Dense bf16 copies in their stored layout: A is (M,K) or, transposed, (K,M); B is (K,N) or (N,K).
  thread_local std::vector<uint16_t> a16, b16;
  a16.resize(M * K);
  b16.resize(K * N);
  if (trans_a) convert_bf16(A, K, M, lda, a16.data());
  else convert_bf16(A, M, K, lda, a16.data());
  if (trans_b) convert_bf16(B, N, K, ldb, b16.data());
  else convert_bf16(B, K, N, ldb, b16.data());
  Bf16Kernels& k = bf16_kernels();
  std::lock_guard<std::mutex> lock(k.mutex);
  const Bf16Key key{trans_a, trans_b, alpha, beta};
  auto it = k.primitives.find(key);
  if (it == k.primitives.end()) {
    const memory::dim R = DNNL_RUNTIME_DIM_VAL;
    const memory::desc a_any({R, R}, memory::data_type::bf16, trans_a ? memory::dims{1, R} : memory::dims{R, 1});
    const memory::desc b_any({R, R}, memory::data_type::bf16, trans_b ? memory::dims{1, R} : memory::dims{R, 1});
    const memory::desc c_any({R, R}, memory::data_type::f32, memory::dims{R, 1});
    dnnl::primitive_attr attr;
    if (alpha != 1.f) attr.set_output_scales(0, {alpha});
    if (beta != 0.f) {
      dnnl::post_ops po;
      po.append_sum(beta);
      attr.set_post_ops(po);
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_any, b_any, c_any), attr, k.engine);
    it = k.primitives.emplace(key, dnnl::matmul(pd)).first;
  }
  const memory::desc a_md({M, K}, memory::data_type::bf16, trans_a ? memory::dims{1, M} : memory::dims{K, 1});
  const memory::desc b_md({K, N}, memory::data_type::bf16, trans_b ? memory::dims{1, K} : memory::dims{N, 1});
  const memory::desc c_md({M, N}, memory::data_type::f32, memory::dims{ldc, 1});
  memory am(a_md, k.engine, a16.data()), bm(b_md, k.engine, b16.data()), cm(c_md, k.engine, C);
  it->second.execute(k.stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  k.stream.wait();
}

// dnnl_sgemm, except that for op(A) = A^T (a weight gradient dy^T x: both operands stored with
// the summed dimension K down their rows) an operand whose rows are a multiple of 2 KiB apart is
// first copied to rows 64 bytes longer. With those strides oneDNN's AVX2 sgemm on the AMD EPYC
// host ran at 67-75 GFLOP/s instead of 140-165 (g2p's feed-forward weight gradients, 1024 x 256 x
// 1536 with the 1024-wide operand 4 KiB a row: bench/README.md's log), the pattern of reads that
// all map to the same few cache sets; the copy costs a read and a write of that operand, under 1/N
// of the product. Same operands, same kernel: the same values.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  constexpr int64_t kAliasingStride = 512;  // floats: 2 KiB
  constexpr int64_t kPadding = 16;          // floats: one cache line
  const bool big = M * N * K >= kPaddedWeightGradient && !omp_in_parallel();
  auto padded = [&](const float* X, int64_t rows, int64_t cols, int64_t ld, std::vector<float>& buf) {
    const int64_t pld = ld + kPadding;
    buf.resize(static_cast<size_t>(rows * pld));
    float* out = buf.data();
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(out + r * pld, X + r * ld, static_cast<size_t>(cols) * sizeof(float));
    return std::pair<const float*, int64_t>{out, pld};
  };
  if (big && trans_a) {
    thread_local std::vector<float> a_buf, b_buf;
    if (lda % kAliasingStride == 0) std::tie(A, lda) = padded(A, K, M, lda, a_buf);
    if (!trans_b && ldb % kAliasingStride == 0) std::tie(B, ldb) = padded(B, K, N, ldb, b_buf);
  }
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C,
                                ldc);
  TFM_ASSERT(st == dnnl_success, "dnnl_sgemm failed with status ", static_cast<int>(st), " for M=", M, " N=", N,
             " K=", K, " lda=", lda, " ldb=", ldb, " ldc=", ldc);
}
}  // namespace

uint16_t to_bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

bool bf16_matmul_supported() {
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return (isa & bf16) == bf16;
}

void set_matmul_precision(MatmulPrecision p) {
  TFM_CHECK(p == MatmulPrecision::FP32 || bf16_matmul_supported(),
            "bf16 matrix products need a CPU with AVX512_BF16, which oneDNN does not find on this machine "
            "(effective ISA code 0x", std::hex, static_cast<unsigned>(dnnl_get_effective_cpu_isa()), ")");
  g_precision = p;
}

MatmulPrecision matmul_precision() { return g_precision; }

// C (M, N) = alpha A^T B + beta C for A (K, M), B (K, N) with M a few times N: a linear layer's
// weight gradient dW (OC, C) = dy^T x over many tokens K, where OC > C (the feed-forward's first
// layer, the keys-and-values projection). dnnl_sgemm ran the feed-forward's 512 -> 2048 one at
// 78-92 GFLOP/s on the Xeon's 2 threads, the transposed one, B^T A (N, M), at 120-173
// (bench/README.md, its table of training's products); so this
// computes the transposed product into a scratch buffer and adds it, transposed back, to C. The
// sums are the same terms; their rounding differs from the direct call's by the order oneDNN
// takes them in.
void gemm_tall_at_b(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                    const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  thread_local std::vector<float> t;
  t.resize(static_cast<size_t>(N * M));
  sgemm(true, false, N, M, K, alpha, B, ldb, A, lda, 0.f, t.data(), M);
  const float* tp = t.data();
  constexpr int64_t kTile = 32;  // tiles of C's rows, so both sides stay in cache
#pragma omp parallel for schedule(static)
  for (int64_t i0 = 0; i0 < M; i0 += kTile)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t i = i0; i < std::min(M, i0 + kTile); ++i) {
        float& c = C[i * ldc + j];
        c = beta == 0.f ? tp[j * M + i] : beta * c + tp[j * M + i];
      }
}

template <>
void gemm<float>(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                 int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (M * N * K <= kSmallGemm) {
#if defined(TFM_SMALL_GEMM)
    return gemm_small_float(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#else
    return gemm_loop<float, float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
  }
  if (K == 0) {  // oneDNN rejects K = 0; the product is empty, only beta applies
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  if (g_precision.load(std::memory_order_relaxed) == MatmulPrecision::BF16 && M * N * K >= kBf16MinProduct &&
      !omp_in_parallel())
    return gemm_bf16(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (trans_a && !trans_b && N < M && M <= 4 * N && M * N * K >= kTallWeightGradient && !omp_in_parallel())
    return gemm_tall_at_b(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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
