#include "kernels/attention.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/rng.h"
#include "kernels/dropout_mask.h"
#include "kernels/fast_exp.h"
#include "kernels/gemm.h"
#include "kernels/simd.h"
#include "kernels/softmax.h"

namespace tfm::kernels {


template <class T>
void attention_forward(const AttnDims& d, const T* q, AttnLayout lq, const T* k, AttnLayout lk,
                       const T* v, AttnLayout lv, const uint8_t* key_pad, bool causal, T scale,
                       double dropout_p, uint64_t seed, T* probs, uint8_t* drop_mask, T* out,
                       AttnLayout lo) {
  const int64_t BH = d.B * d.H, TT = d.Tq * d.Tk, shift = d.Tk - d.Tq;
  const uint64_t threshold = dropout_threshold(dropout_p);
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
  const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel
  {
    std::vector<T> scratch;
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* Q = q + b * lq.batch_stride + h * d.dh;
      const T* K = k + b * lk.batch_stride + h * d.dh;
      const T* Vp = v + b * lv.batch_stride + h * d.dh;
      T* O = out + b * lo.batch_stride + h * d.dh;
      T* P = probs ? probs + bh * TT : nullptr;
      if (!P) {
        scratch.resize(static_cast<size_t>(TT));
        P = scratch.data();
      }
      // S = scale * Q K^T  (Tq, Tk)
      gemm<T>(false, true, d.Tq, d.Tk, d.dh, scale, Q, lq.row_stride, K, lk.row_stride, T(0), P, d.Tk);
      if (key_pad || causal) {
        const uint8_t* pad = key_pad ? key_pad + b * d.Tk : nullptr;
        for (int64_t i = 0; i < d.Tq; ++i)
          for (int64_t j = 0; j < d.Tk; ++j)
            if ((pad && pad[j]) || (causal && j > i + shift)) P[i * d.Tk + j] = neg_inf;
      }
      softmax_forward<T>(P, d.Tq, d.Tk, P);
      const T* Pd = P;
      if (dropout_p > 0) {
        // Pd = dropped probabilities; kept apart so the backward still has P.
        std::vector<T> dropped(static_cast<size_t>(TT));
        uint8_t* m = drop_mask + bh * TT;
        for (int64_t e = 0; e < TT; ++e) {
          m[e] = dropout_keep(seed, static_cast<uint64_t>(bh * TT + e), threshold);
          dropped[e] = m[e] ? P[e] * inv_keep : T(0);
        }
        gemm<T>(false, false, d.Tq, d.dh, d.Tk, T(1), dropped.data(), d.Tk, Vp, lv.row_stride, T(0),
                O, lo.row_stride);
        continue;
      }
      // O = P V  (Tq, dh)
      gemm<T>(false, false, d.Tq, d.dh, d.Tk, T(1), Pd, d.Tk, Vp, lv.row_stride, T(0), O, lo.row_stride);
    }
  }
}

template <class T>
void attention_backward(const AttnDims& d, const T* q, AttnLayout lq, const T* k, AttnLayout lk,
                        const T* v, AttnLayout lv, const T* probs, const uint8_t* drop_mask,
                        double dropout_p, T scale, const T* dout, AttnLayout lo, T* dq, T* dk,
                        T* dv, bool accumulate) {
  const int64_t BH = d.B * d.H, TT = d.Tq * d.Tk;
  const T beta = accumulate ? T(1) : T(0);  // gemm never reads C when beta is 0
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
#pragma omp parallel
  {
    std::vector<T> dP(static_cast<size_t>(TT)), Pd;
    if (dropout_p > 0) Pd.resize(static_cast<size_t>(TT));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* Q = q + b * lq.batch_stride + h * d.dh;
      const T* K = k + b * lk.batch_stride + h * d.dh;
      const T* Vp = v + b * lv.batch_stride + h * d.dh;
      const T* dO = dout + b * lo.batch_stride + h * d.dh;
      T* dQ = dq + b * lq.batch_stride + h * d.dh;
      T* dK = dk + b * lk.batch_stride + h * d.dh;
      T* dV = dv + b * lv.batch_stride + h * d.dh;
      const T* P = probs + bh * TT;
      const T* Pused = P;
      if (dropout_p > 0) {
        const uint8_t* m = drop_mask + bh * TT;
        for (int64_t e = 0; e < TT; ++e) Pd[e] = m[e] ? P[e] * inv_keep : T(0);
        Pused = Pd.data();
      }
      // dV += Pd^T dO   (Tk, dh)   (+= throughout: = when !accumulate)
      gemm<T>(true, false, d.Tk, d.dh, d.Tq, T(1), Pused, d.Tk, dO, lo.row_stride, beta, dV, lv.row_stride);
      // dPd = dO V^T   (Tq, Tk)
      gemm<T>(false, true, d.Tq, d.Tk, d.dh, T(1), dO, lo.row_stride, Vp, lv.row_stride, T(0), dP.data(), d.Tk);
      if (dropout_p > 0) {
        const uint8_t* m = drop_mask + bh * TT;
        for (int64_t e = 0; e < TT; ++e) dP[e] = m[e] ? dP[e] * inv_keep : T(0);
      }
      softmax_backward_inplace<T>(P, dP.data(), d.Tq, d.Tk);  // dS = P * (dP - rowsum(dP * P))
      // dQ += scale * dS K ;  dK += scale * dS^T Q
      gemm<T>(false, false, d.Tq, d.dh, d.Tk, scale, dP.data(), d.Tk, K, lk.row_stride, beta, dQ, lq.row_stride);
      gemm<T>(true, false, d.Tk, d.dh, d.Tq, scale, dP.data(), d.Tk, Q, lq.row_stride, beta, dK, lk.row_stride);
    }
  }
}

namespace {

// s[j] = scale * (a . b_j) over dh values; the AVX-512 path sums 16 lanes and reduces once.
template <class T>
inline T dot(const T* a, const T* b, int64_t n) {
  T s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
#if defined(__AVX512F__)
// GCC 12 warns that the pass-through operand of the reduction intrinsic may be used
// uninitialized once inlined into an OpenMP region; the intrinsic is unmasked and never reads it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <>
inline float dot<float>(const float* a, const float* b, int64_t n) {
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc);
  float s = _mm512_reduce_add_ps(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}
#pragma GCC diagnostic pop
#elif defined(__AVX2__) && defined(__FMA__)
// Without AVX-512 (AMD Zen 2/3): two 8-lane accumulators, summed once at the end. GCC does not
// vectorize the generic loop above by itself (a float sum may not be reordered).
template <>
inline float dot<float>(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  if (i + 8 <= n) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    i += 8;
  }
  float s = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}
#endif

// out[0..n) += p * x[0..n)
template <class T>
inline void axpy_row(T p, const T* x, T* out, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] += p * x[i];
}

}  // namespace

template <class T>
void attention_one_query(int64_t R, int64_t H, int64_t Tk, int64_t dh, const T* q, int64_t q_stride,
                         const T* k, AttnLayout lk, const T* v, AttnLayout lv, const uint8_t* key_pad,
                         T scale, T* out, int64_t out_stride, const int64_t* kv_rows) {
  const int64_t C = H * dh;
  const T neg_inf = -std::numeric_limits<T>::infinity();
  // s: scores, then probabilities (H, Tk).
  auto row = [&](std::vector<T>& s, int64_t r) {
    const int64_t kr = kv_rows ? kv_rows[r] : r;
    const T* Q = q + r * q_stride;
    const T* K = k + kr * lk.batch_stride;
    const T* V = v + kr * lv.batch_stride;
    const uint8_t* pad = key_pad ? key_pad + kr * Tk : nullptr;
    // S = scale * Q K^T, key by key: each key row is read once, for all heads.
    for (int64_t j = 0; j < Tk; ++j) {
      const T* Kj = K + j * lk.row_stride;
      for (int64_t h = 0; h < H; ++h)
        s[h * Tk + j] = (pad && pad[j]) ? neg_inf : scale * dot(Q + h * dh, Kj + h * dh, dh);
    }
    for (int64_t h = 0; h < H; ++h) {
      if constexpr (std::is_same_v<T, float>)  // decoding only: the vectorised exp (fast_exp.h)
        softmax_row_inference(s.data() + h * Tk, Tk, s.data() + h * Tk);
      else
        softmax_row(s.data() + h * Tk, Tk, s.data() + h * Tk);
    }
    // O = P V, again key by key.
    T* O = out + r * out_stride;
    std::fill(O, O + C, T(0));
    for (int64_t j = 0; j < Tk; ++j) {
      const T* Vj = V + j * lv.row_stride;
      for (int64_t h = 0; h < H; ++h) axpy_row(s[h * Tk + j], Vj + h * dh, O + h * dh, dh);
    }
  };
  // A parallel region costs more than a few rows' worth of this (one sentence: 4 heads x 24
  // keys); inside one already (the fused decoding step), a nested region would run on one thread.
  if (R * Tk * C > (1 << 15) && !omp_in_parallel()) {
#pragma omp parallel
    {
      std::vector<T> s(static_cast<size_t>(H * Tk));
#pragma omp for schedule(static)
      for (int64_t r = 0; r < R; ++r) row(s, r);
    }
  } else {
    std::vector<T> s(static_cast<size_t>(H * Tk));
    for (int64_t r = 0; r < R; ++r) row(s, r);
  }
}

#define TFM_INSTANTIATE(T)                                                                        \
  template void attention_one_query<T>(int64_t, int64_t, int64_t, int64_t, const T*, int64_t,     \
                                       const T*, AttnLayout, const T*, AttnLayout, const uint8_t*, \
                                       T, T*, int64_t, const int64_t*);                            \
  template void attention_forward<T>(const AttnDims&, const T*, AttnLayout, const T*, AttnLayout, \
                                     const T*, AttnLayout, const uint8_t*, bool, T, double,       \
                                     uint64_t, T*, uint8_t*, T*, AttnLayout);                     \
  template void attention_backward<T>(const AttnDims&, const T*, AttnLayout, const T*,            \
                                      AttnLayout, const T*, AttnLayout, const T*, const uint8_t*, \
                                      double, T, const T*, AttnLayout, T*, T*, T*, bool);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
