#pragma once
// exp over 16 floats at a time (8 without AVX-512), for the softmaxes of inference (decoding's attention over the
// cache and the log-probabilities of a step), where libm's scalar expf was 2-4% of a base
// decoding step, and for training's softmax cross-entropy over the vocabulary (4096 x 8000
// exps each way in a base step: libm's expf was 1.5% of it). Attention's training softmax keeps
// std::exp.
//
// exp(x) = 2^n exp(r), n = round(x log2 e), r = x - n ln 2 (ln 2 in two parts, so r keeps its low
// bits), exp(r) by its Taylor polynomial to r^7 on |r| <= ln 2 / 2 (truncation below 6e-9
// relative), and 2^n applied by scalef (no overflow in building 2^n). Within 2 ulp of std::exp on
// [-87, 88] (tests/kernels/test_fast_exp.cpp); exactly 0 below -103.9, including -inf (a masked
// score), and exp(0) = 1.

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/simd.h"

namespace tfm::kernels {

// GCC 12 warns that the unmasked AVX-512 intrinsics' undefined pass-through operand "may be used
// uninitialized" once they are inlined (GCC bug 105593); it is never read.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#if defined(__AVX512F__)
inline __m512 exp16(__m512 x) {
  const __m512 zero_below = _mm512_set1_ps(-103.9f);
  const __mmask16 tiny = _mm512_cmp_ps_mask(x, zero_below, _CMP_LT_OQ);
  // Clamped to where the result is representable; NaN stays NaN (max and min return their second
  // operand when either is NaN).
  x = _mm512_min_ps(_mm512_set1_ps(88.8f), _mm512_max_ps(zero_below, x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);  // x - n ln2_hi (exact)
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682030941723212e-6f), r);  // - n ln2_lo
  __m512 p = _mm512_set1_ps(1.f / 5040.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_maskz_mov_ps(static_cast<__mmask16>(~tiny), _mm512_scalef_ps(p, n));
}
#elif defined(__AVX2__) && defined(__FMA__)
// exp16's steps on 8 floats, for CPUs without AVX-512: the same clamp, reduction and polynomial;
// AVX2 has no scalef, so 2^n (n in [-150, 128]) is applied as two powers of two built in the
// exponent bits, 2^(n >> 1) 2^(n - (n >> 1)), each a normal float: p 2^(n >> 1) is exact and the
// second product rounds once, as scalef does, so by construction the values are exp16's (not
// compared directly: no CPU here has both; the tests hold each to 2 ulp of std::exp).
inline __m256 exp8(__m256 x) {
  const __m256 zero_below = _mm256_set1_ps(-103.9f);
  const __m256 tiny = _mm256_cmp_ps(x, zero_below, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_set1_ps(88.8f), _mm256_max_ps(zero_below, x));  // NaN stays NaN
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860682030941723212e-6f), r);
  __m256 p = _mm256_set1_ps(1.f / 5040.f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 720.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 120.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 24.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 6.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 f2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_andnot_ps(tiny, _mm256_mul_ps(_mm256_mul_ps(p, f1), f2));
}

// Lanes [0, left) of 8 set (left may exceed 8 or be negative): the tail of a row.
inline __m256i lanes_below(int64_t left) {
  const int32_t k = static_cast<int32_t>(left < 0 ? 0 : left > 8 ? 8 : left);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

// y[i] = exp(x[i] - shift) for i < n (in place allowed); returns their sum.
inline float exp_shifted(const float* x, int64_t n, float shift, float* y) {
#if defined(__AVX512F__)
  const __m512 s = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(y + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s)));
    _mm512_mask_storeu_ps(y + i, m, e);
    acc = _mm512_add_ps(acc, e);
  }
  return _mm512_reduce_add_ps(acc);
#elif defined(__AVX2__) && defined(__FMA__)
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 e0 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    const __m256 e1 = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s));
    _mm256_storeu_ps(y + i, e0);
    _mm256_storeu_ps(y + i + 8, e1);
    acc0 = _mm256_add_ps(acc0, e0);
    acc1 = _mm256_add_ps(acc1, e1);
  }
  for (; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m), exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s)));
    _mm256_maskstore_ps(y + i, m, e);
    acc0 = _mm256_add_ps(acc0, e);
  }
  return horizontal_sum(_mm256_add_ps(acc0, acc1));
#else
  double sum = 0;  // a long row's float sum would lose ~n/2 ulp
  for (int64_t i = 0; i < n; ++i) sum += (y[i] = std::exp(x[i] - shift));
  return static_cast<float>(sum);
#endif
}

// The sum of exp(x[i] - shift), nothing stored.
inline float sum_exp_shifted(const float* x, int64_t n, float shift) {
#if defined(__AVX512F__)
  const __m512 s = _mm512_set1_ps(shift);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_add_ps(acc0, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s)));
    acc1 = _mm512_add_ps(acc1, exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s)));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    acc0 = _mm512_add_ps(acc0, _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s))));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__) && defined(__FMA__)
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_add_ps(acc0, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    acc1 = _mm256_add_ps(acc1, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s)));
  }
  for (; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    acc0 = _mm256_add_ps(acc0, _mm256_and_ps(_mm256_castsi256_ps(m), exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s))));
  }
  return horizontal_sum(_mm256_add_ps(acc0, acc1));
#else
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - shift);
  return static_cast<float>(sum);
#endif
}

// y[i] = a * (exp(x[i] - shift) - b), or y[i] += that when accumulate: a row of the softmax
// cross-entropy's gradient (a the loss scale, b the label smoothing's share of each class).
inline void scaled_exp_shifted(const float* x, int64_t n, float shift, float a, float b, float* y,
                               bool accumulate) {
#if defined(__AVX512F__)
  const __m512 s = _mm512_set1_ps(shift), va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 d = _mm512_mul_ps(va, _mm512_sub_ps(exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s)), vb));
    if (accumulate) d = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), d);
    _mm512_mask_storeu_ps(y + i, m, d);
  }
#elif defined(__AVX2__) && defined(__FMA__)
  const __m256 s = _mm256_set1_ps(shift), va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    __m256 d = _mm256_mul_ps(va, _mm256_sub_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), s)), vb));
    if (accumulate) d = _mm256_add_ps(_mm256_maskload_ps(y + i, m), d);
    _mm256_maskstore_ps(y + i, m, d);
  }
#else
  for (int64_t i = 0; i < n; ++i) {
    const float d = a * (std::exp(x[i] - shift) - b);
    y[i] = accumulate ? y[i] + d : d;
  }
#endif
}

// softmax of a row for inference: y = exp(x - max) / sum; a row of only -inf gives zeros (a
// query with every key masked attends to nothing), as softmax_row.
inline void softmax_row_inference(const float* x, int64_t n, float* y) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  if (m == -std::numeric_limits<float>::infinity()) {
    for (int64_t i = 0; i < n; ++i) y[i] = 0.f;
    return;
  }
  const float inv = 1.f / exp_shifted(x, n, m, y);
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

#pragma GCC diagnostic pop

}  // namespace tfm::kernels
