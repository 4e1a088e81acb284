#include "kernels/relative_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "kernels/dropout_mask.h"
#include "kernels/gemm.h"
#include "kernels/softmax.h"

namespace tfm::kernels {

namespace {
// Leading dimension and first column of Rel inside the padded skew buffer.
inline int64_t skew_ld(int64_t L, bool causal) { return causal ? L + 1 : 2 * L; }
inline int64_t skew_col(bool causal) { return causal ? 1 : 0; }
// Where S_rel starts in the buffer and its row stride (the reshape-and-slice as a view).
inline int64_t view_offset(int64_t L, bool causal) { return causal ? L : L - 1; }
inline int64_t view_stride(int64_t L, bool causal) { return causal ? L : 2 * L - 1; }
}  // namespace

int64_t relative_forward_scratch(int64_t L, int64_t dh, bool causal) {
  // Ew + skew buffer + logits (when probs are not kept) + dropped probabilities (dropout).
  return relative_window(L, causal) * dh + relative_skew_buffer(L, causal) + 2 * L * L;
}
int64_t relative_backward_scratch(int64_t L, int64_t dh, bool causal) {
  // Ew + dEw + skew buffer + dP + dropped probabilities (dropout).
  return 2 * relative_window(L, causal) * dh + relative_skew_buffer(L, causal) + 2 * L * L;
}

template <class T>
void relative_window_gather(const T* E_h, int64_t k, int64_t L, int64_t dh, bool causal, T* Ew) {
  const int64_t W = relative_window(L, causal);
  for (int64_t m = 0; m < W; ++m) {
    const int64_t r = std::clamp<int64_t>(m - (L - 1), -k, k);  // Shaw et al.'s clip
    std::copy(E_h + (r + k) * dh, E_h + (r + k + 1) * dh, Ew + m * dh);
  }
}

template <class T>
void relative_logits_skewed(const T* q, int64_t ldq, const T* E_h, int64_t k, int64_t L,
                            int64_t dh, bool causal, T alpha, T beta, T* S, int64_t lds, T* work) {
  const int64_t W = relative_window(L, causal), ld = skew_ld(L, causal);
  T* Ew = work;
  T* buf = work + W * dh;
  relative_window_gather(E_h, k, L, dh, causal, Ew);
  // The padding: a dummy column on the left (masked) or on the right plus L-1 trailing zeros
  // (unmasked). Only the padding is zeroed; the gemm fills the rest.
  if (causal) {
    for (int64_t i = 0; i < L; ++i) buf[i * ld] = T(0);
  } else {
    for (int64_t i = 0; i < L; ++i) buf[i * ld + 2 * L - 1] = T(0);
    std::fill(buf + 2 * L * L, buf + 2 * L * L + L - 1, T(0));
  }
  // Rel = Q Ew^T (L, W), written straight into the padded layout.
  gemm<T>(false, true, L, W, dh, T(1), q, ldq, Ew, dh, T(0), buf + skew_col(causal), ld);
  // The reshape and slice: S_rel[i, j] = buf[offset + i * stride + j] = Rel[i, (L-1) + j - i].
  const T* view = buf + view_offset(L, causal);
  const int64_t vs = view_stride(L, causal);
  for (int64_t i = 0; i < L; ++i) {
    const int64_t jend = causal ? i + 1 : L;
    T* s = S + i * lds;
    const T* r = view + i * vs;
    if (beta == T(0))
      for (int64_t j = 0; j < jend; ++j) s[j] = alpha * r[j];
    else
      for (int64_t j = 0; j < jend; ++j) s[j] = alpha * r[j] + beta * s[j];
  }
}

template <class T>
void relative_attention_forward(const RelAttnDims& d, const T* q, AttnLayout lq, const T* k,
                                AttnLayout lk, const T* v, AttnLayout lv, const T* table,
                                const uint8_t* key_pad, T scale, double dropout_p, uint64_t seed,
                                T* probs, uint8_t* drop_mask, T* out, AttnLayout lo) {
  const int64_t L = d.L, BH = d.B * d.H, TT = L * L, W = relative_window(L, d.causal);
  const uint64_t threshold = dropout_threshold(dropout_p);
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
  const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel
  {
    std::vector<T> scratch(static_cast<size_t>(relative_forward_scratch(L, d.dh, d.causal)));
    T* work = scratch.data();                                     // Ew + skew buffer
    T* logits = work + W * d.dh + relative_skew_buffer(L, d.causal);  // (L, L) when !probs
    T* dropped = logits + TT;                                     // (L, L) when dropout
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* Q = q + b * lq.batch_stride + h * d.dh;
      const T* K = k + b * lk.batch_stride + h * d.dh;
      const T* Vp = v + b * lv.batch_stride + h * d.dh;
      const T* E = table + (d.table_heads == 1 ? 0 : h) * d.table_rows * d.dh;
      T* O = out + b * lo.batch_stride + h * d.dh;
      T* P = probs ? probs + bh * TT : logits;
      // P = scale * (Q K^T + S_rel)  (L, L)
      gemm<T>(false, true, L, L, d.dh, scale, Q, lq.row_stride, K, lk.row_stride, T(0), P, L);
      relative_logits_skewed<T>(Q, lq.row_stride, E, d.max_distance, L, d.dh, d.causal, scale,
                                T(1), P, L, work);
      if (key_pad || d.causal) {
        const uint8_t* pad = key_pad ? key_pad + b * L : nullptr;
        for (int64_t i = 0; i < L; ++i)
          for (int64_t j = 0; j < L; ++j)
            if ((pad && pad[j]) || (d.causal && j > i)) P[i * L + j] = neg_inf;
      }
      softmax_forward<T>(P, L, L, P);
      const T* Pd = P;
      if (dropout_p > 0) {
        uint8_t* m = drop_mask + bh * TT;
        for (int64_t e = 0; e < TT; ++e) {
          m[e] = dropout_keep(seed, static_cast<uint64_t>(bh * TT + e), threshold);
          dropped[e] = m[e] ? P[e] * inv_keep : T(0);
        }
        Pd = dropped;
      }
      // O = Pd V  (L, dh)
      gemm<T>(false, false, L, d.dh, L, T(1), Pd, L, Vp, lv.row_stride, T(0), O, lo.row_stride);
    }
  }
}

template <class T>
void relative_attention_backward(const RelAttnDims& d, const T* q, AttnLayout lq, const T* k,
                                 AttnLayout lk, const T* v, AttnLayout lv, const T* table,
                                 const T* probs, const uint8_t* drop_mask, double dropout_p,
                                 T scale, const T* dout, AttnLayout lo, T* dq, T* dk, T* dv,
                                 T* dtable) {
  const int64_t L = d.L, BH = d.B * d.H, TT = L * L, W = relative_window(L, d.causal);
  const int64_t R = d.table_rows, kmax = d.max_distance, table_elems = d.table_heads * R * d.dh;
  const int64_t ld = skew_ld(L, d.causal), vs = view_stride(L, d.causal);
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
  // dtable per thread, summed in thread order after the loop (deterministic, no atomics).
  std::vector<std::vector<T>> dtable_part(static_cast<size_t>(omp_get_max_threads()));
#pragma omp parallel
  {
    std::vector<T> scratch(static_cast<size_t>(relative_backward_scratch(L, d.dh, d.causal)));
    T* Ew = scratch.data();
    T* dEw = Ew + W * d.dh;
    T* buf = dEw + W * d.dh;
    T* dP = buf + relative_skew_buffer(L, d.causal);
    T* Pd = dP + TT;
    std::vector<T>& dE = dtable_part[static_cast<size_t>(omp_get_thread_num())];
    dE.assign(static_cast<size_t>(table_elems), T(0));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H, th = d.table_heads == 1 ? 0 : h;
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
        Pused = Pd;
      }
      // dV += Pd^T dO ;  dPd = dO V^T
      gemm<T>(true, false, L, d.dh, L, T(1), Pused, L, dO, lo.row_stride, T(1), dV, lv.row_stride);
      gemm<T>(false, true, L, L, d.dh, T(1), dO, lo.row_stride, Vp, lv.row_stride, T(0), dP, L);
      if (dropout_p > 0) {
        const uint8_t* m = drop_mask + bh * TT;
        for (int64_t e = 0; e < TT; ++e) dP[e] = m[e] ? dP[e] * inv_keep : T(0);
      }
      softmax_backward_inplace<T>(P, dP, L, L);  // dS = P * (dP - rowsum(dP * P))
      // Content part: dQ += scale * dS K ;  dK += scale * dS^T Q
      gemm<T>(false, false, L, d.dh, L, scale, dP, L, K, lk.row_stride, T(1), dQ, lq.row_stride);
      gemm<T>(true, false, L, d.dh, L, scale, dP, L, Q, lq.row_stride, T(1), dK, lk.row_stride);
      // Un-skew: write dS into the view, read dRel (L, W) in the padded layout. Positions no
      // (i, j) maps to are distances a row does not have; they stay zero.
      std::fill(buf, buf + relative_skew_buffer(L, d.causal), T(0));
      T* view = buf + view_offset(L, d.causal);
      for (int64_t i = 0; i < L; ++i) {
        const int64_t jend = d.causal ? i + 1 : L;
        std::copy(dP + i * L, dP + i * L + jend, view + i * vs);
      }
      const T* dRel = buf + skew_col(d.causal);
      relative_window_gather(table + th * R * d.dh, kmax, L, d.dh, d.causal, Ew);
      // Position part: dQ += scale * dRel Ew ;  dEw = scale * dRel^T Q
      gemm<T>(false, false, L, d.dh, W, scale, dRel, ld, Ew, d.dh, T(1), dQ, lq.row_stride);
      gemm<T>(true, false, W, d.dh, L, scale, dRel, ld, Q, lq.row_stride, T(0), dEw, d.dh);
      // The transpose of the clipped gather: edge rows collect every distance beyond +-k.
      T* dE_h = dE.data() + th * R * d.dh;
      for (int64_t m = 0; m < W; ++m) {
        const int64_t r = std::clamp<int64_t>(m - (L - 1), -kmax, kmax) + kmax;
        for (int64_t c = 0; c < d.dh; ++c) dE_h[r * d.dh + c] += dEw[m * d.dh + c];
      }
    }
  }
  for (const std::vector<T>& part : dtable_part)
    for (size_t e = 0; e < part.size(); ++e) dtable[e] += part[e];
}

template <class T>
void relative_attention_block_forward(const AttnDims& d, int64_t kmax, int64_t table_heads,
                                      int64_t R, const T* q, AttnLayout lq, const T* k,
                                      AttnLayout lk, const T* v, AttnLayout lv, const T* table,
                                      const uint8_t* key_pad, T scale, T* out, AttnLayout lo) {
  const int64_t BH = d.B * d.H, shift = d.Tk - d.Tq;
  const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel
  {
    std::vector<T> P(static_cast<size_t>(d.Tq * d.Tk)), rel(static_cast<size_t>(d.Tq * R));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* Q = q + b * lq.batch_stride + h * d.dh;
      const T* K = k + b * lk.batch_stride + h * d.dh;
      const T* Vp = v + b * lv.batch_stride + h * d.dh;
      const T* E = table + (table_heads == 1 ? 0 : h) * R * d.dh;
      const uint8_t* pad = key_pad ? key_pad + b * d.Tk : nullptr;
      // P = scale * Q K^T (Tq, Tk);  rel = Q E^T (Tq, R)
      gemm<T>(false, true, d.Tq, d.Tk, d.dh, scale, Q, lq.row_stride, K, lk.row_stride, T(0), P.data(), d.Tk);
      gemm<T>(false, true, d.Tq, R, d.dh, T(1), Q, lq.row_stride, E, d.dh, T(0), rel.data(), R);
      for (int64_t i = 0; i < d.Tq; ++i)
        for (int64_t j = 0; j < d.Tk; ++j) {
          T& s = P[i * d.Tk + j];
          if (j > i + shift || (pad && pad[j])) {
            s = neg_inf;
          } else {
            const int64_t r = std::clamp<int64_t>(j - (i + shift), -kmax, kmax) + kmax;
            s += scale * rel[i * R + r];
          }
        }
      softmax_forward<T>(P.data(), d.Tq, d.Tk, P.data());
      gemm<T>(false, false, d.Tq, d.dh, d.Tk, T(1), P.data(), d.Tk, Vp, lv.row_stride, T(0),
              out + b * lo.batch_stride + h * d.dh, lo.row_stride);
    }
  }
}

#define TFM_INSTANTIATE(T)                                                                         \
  template void relative_window_gather<T>(const T*, int64_t, int64_t, int64_t, bool, T*);        \
  template void relative_logits_skewed<T>(const T*, int64_t, const T*, int64_t, int64_t, int64_t, \
                                          bool, T, T, T*, int64_t, T*);                           \
  template void relative_attention_forward<T>(const RelAttnDims&, const T*, AttnLayout, const T*, \
                                              AttnLayout, const T*, AttnLayout, const T*,         \
                                              const uint8_t*, T, double, uint64_t, T*, uint8_t*,  \
                                              T*, AttnLayout);                                    \
  template void relative_attention_backward<T>(const RelAttnDims&, const T*, AttnLayout,          \
                                               const T*, AttnLayout, const T*, AttnLayout,        \
                                               const T*, const T*, const uint8_t*, double, T,     \
                                               const T*, AttnLayout, T*, T*, T*, T*);         \
  template void relative_attention_block_forward<T>(const AttnDims&, int64_t, int64_t, int64_t,   \
                                                    const T*, AttnLayout, const T*, AttnLayout,  \
                                                    const T*, AttnLayout, const T*,              \
                                                    const uint8_t*, T, T*, AttnLayout);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
