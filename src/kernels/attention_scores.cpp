#include "kernels/attention_scores.h"

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

double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
double softplus_inverse(double y) { return y + std::log(-std::expm1(-y)); }

namespace {

inline bool is_masked(const uint8_t* pad, bool causal, int64_t i, int64_t j, int64_t shift) {
  return (pad && pad[j]) || (causal && j > i + shift);
}

// Where head h of sequence b starts in a column-block layout.
template <class T>
inline T* head_ptr(T* base, AttnLayout l, int64_t b, int64_t h, int64_t dh) {
  return base + b * l.batch_stride + h * dh;
}

// P (Tq,Tk) holds the scores, masked entries -inf: softmax in place, then O = dropout(P) V.
template <class T>
void softmax_times_v(const AttnDims& d, int64_t bh, T* P, const T* V, AttnLayout lv,
                     double dropout_p, uint64_t seed, uint8_t* drop_mask, std::vector<T>& dropped,
                     T* O, AttnLayout lo) {
  const int64_t TT = d.Tq * d.Tk;
  softmax_forward<T>(P, d.Tq, d.Tk, P);
  const T* Pd = P;
  if (dropout_p > 0) {
    const uint64_t threshold = dropout_threshold(dropout_p);
    const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
    dropped.resize(static_cast<size_t>(TT));
    uint8_t* m = drop_mask + bh * TT;
    for (int64_t e = 0; e < TT; ++e) {
      m[e] = dropout_keep(seed, static_cast<uint64_t>(bh * TT + e), threshold);
      dropped[e] = m[e] ? P[e] * inv_keep : T(0);
    }
    Pd = dropped.data();
  }
  // O = Pd V  (Tq, dh)
  gemm<T>(false, false, d.Tq, d.dh, d.Tk, T(1), Pd, d.Tk, V, lv.row_stride, T(0), O, lo.row_stride);
}

// dV += Pd^T dO;  dPd = dO V^T;  dP = dPd * mask / (1 - p);  dS = P * (dP - rowsum(dP * P)).
// dS (Tq,Tk) is overwritten; it is exactly zero where P is (masked pairs).
template <class T>
void softmax_times_v_backward(const AttnDims& d, int64_t bh, const T* P, const uint8_t* drop_mask,
                              double dropout_p, const T* V, AttnLayout lv, const T* dO,
                              AttnLayout lo, T* dV, std::vector<T>& Pd, T* dS) {
  const int64_t TT = d.Tq * d.Tk;
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
  const T* Pused = P;
  if (dropout_p > 0) {
    const uint8_t* m = drop_mask + bh * TT;
    Pd.resize(static_cast<size_t>(TT));
    for (int64_t e = 0; e < TT; ++e) Pd[e] = m[e] ? P[e] * inv_keep : T(0);
    Pused = Pd.data();
  }
  gemm<T>(true, false, d.Tk, d.dh, d.Tq, T(1), Pused, d.Tk, dO, lo.row_stride, T(1), dV, lv.row_stride);
  gemm<T>(false, true, d.Tq, d.Tk, d.dh, T(1), dO, lo.row_stride, V, lv.row_stride, T(0), dS, d.Tk);
  if (dropout_p > 0) {
    const uint8_t* m = drop_mask + bh * TT;
    for (int64_t e = 0; e < TT; ++e) dS[e] = m[e] ? dS[e] * inv_keep : T(0);
  }
  softmax_backward_inplace<T>(P, dS, d.Tq, d.Tk);  // dS = P * (dP - rowsum(dP * P))
}

// x^ = x / max(|x|, eps) for the n rows of one head; norms receive max(|x|, eps).
template <class T>
void normalize_rows(const T* x, int64_t stride, int64_t n, int64_t dh, T eps, T* norms, T* xhat) {
  for (int64_t i = 0; i < n; ++i) {
    const T* r = x + i * stride;
    T s = 0;
    for (int64_t c = 0; c < dh; ++c) s += r[c] * r[c];
    const T nrm = std::max(std::sqrt(s), eps);
    if (norms) norms[i] = nrm;
    for (int64_t c = 0; c < dh; ++c) xhat[i * dh + c] = r[c] / nrm;
  }
}

// dx += (dx^ - x^ (x^ . dx^)) / |x| where |x| > eps; dx += dx^ / eps where the norm was clamped.
template <class T>
void normalize_rows_backward(const T* x, int64_t stride, int64_t n, int64_t dh, T eps,
                             const T* xhat, const T* dxhat, T* dx) {
  for (int64_t i = 0; i < n; ++i) {
    const T* r = x + i * stride;
    const T* xh = xhat + i * dh;
    const T* g = dxhat + i * dh;
    T s = 0, dot = 0;
    for (int64_t c = 0; c < dh; ++c) s += r[c] * r[c], dot += xh[c] * g[c];
    const T nrm = std::sqrt(s);
    T* o = dx + i * stride;
    if (nrm > eps)
      for (int64_t c = 0; c < dh; ++c) o[c] += (g[c] - xh[c] * dot) / nrm;
    else
      for (int64_t c = 0; c < dh; ++c) o[c] += g[c] / eps;
  }
}

}  // namespace

template <class T>
void additive_attention_forward(const AttnDims& d, int64_t da, const T* q, AttnLayout lq,
                                const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                                const T* w1, const T* w2, const T* wv, const uint8_t* key_pad,
                                bool causal, double dropout_p, uint64_t seed, T* qa, T* ka,
                                T* probs, uint8_t* drop_mask, T* out, AttnLayout lo) {
  const int64_t BH = d.B * d.H, TT = d.Tq * d.Tk, shift = d.Tk - d.Tq;
  const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel
  {
    std::vector<T> p_scratch, qa_scratch, ka_scratch, dropped;
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* Q = head_ptr(q, lq, b, h, d.dh);
      const T* K = head_ptr(k, lk, b, h, d.dh);
      const T* W1 = w1 + h * da * d.dh;
      const T* W2 = w2 + h * da * d.dh;
      const T* vh = wv + h * da;
      T* P = probs ? probs + bh * TT : (p_scratch.resize(static_cast<size_t>(TT)), p_scratch.data());
      T* QA = qa ? qa + bh * d.Tq * da : (qa_scratch.resize(static_cast<size_t>(d.Tq * da)), qa_scratch.data());
      T* KA = ka ? ka + bh * d.Tk * da : (ka_scratch.resize(static_cast<size_t>(d.Tk * da)), ka_scratch.data());
      // W1 q and W2 k once per position: QA (Tq,da) = Q W1^T, KA (Tk,da) = K W2^T
      gemm<T>(false, true, d.Tq, da, d.dh, T(1), Q, lq.row_stride, W1, d.dh, T(0), QA, da);
      gemm<T>(false, true, d.Tk, da, d.dh, T(1), K, lk.row_stride, W2, d.dh, T(0), KA, da);
      const uint8_t* pad = key_pad ? key_pad + b * d.Tk : nullptr;
      for (int64_t i = 0; i < d.Tq; ++i) {
        const T* qi = QA + i * da;
        for (int64_t j = 0; j < d.Tk; ++j) {
          if (is_masked(pad, causal, i, j, shift)) {
            P[i * d.Tk + j] = neg_inf;
            continue;
          }
          const T* kj = KA + j * da;
          T s = 0;
          for (int64_t a = 0; a < da; ++a) s += vh[a] * std::tanh(qi[a] + kj[a]);
          P[i * d.Tk + j] = s;
        }
      }
      softmax_times_v<T>(d, bh, P, head_ptr(v, lv, b, h, d.dh), lv, dropout_p, seed, drop_mask,
                         dropped, head_ptr(out, lo, b, h, d.dh), lo);
    }
  }
}

template <class T>
void additive_attention_backward(const AttnDims& d, int64_t da, const T* q, AttnLayout lq,
                                 const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                                 const T* w1, const T* w2, const T* wv, const T* qa, const T* ka,
                                 const T* probs, const uint8_t* drop_mask, double dropout_p,
                                 const T* dout, AttnLayout lo, T* dq, T* dk, T* dv, T* dw1,
                                 T* dw2, T* dwv) {
  const int64_t BH = d.B * d.H, TT = d.Tq * d.Tk;
  // Per (b,h) gradients of the projected positions and of v, summed over b afterwards in order.
  std::vector<T> dqa(static_cast<size_t>(BH * d.Tq * da), T(0));
  std::vector<T> dka(static_cast<size_t>(BH * d.Tk * da), T(0));
  std::vector<T> dvh(static_cast<size_t>(BH * da), T(0));
#pragma omp parallel
  {
    std::vector<T> dS(static_cast<size_t>(TT)), Pd;
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* vh = wv + h * da;
      const T* QA = qa + bh * d.Tq * da;
      const T* KA = ka + bh * d.Tk * da;
      T* dQA = dqa.data() + bh * d.Tq * da;
      T* dKA = dka.data() + bh * d.Tk * da;
      T* dV_ = dvh.data() + bh * da;
      softmax_times_v_backward<T>(d, bh, probs + bh * TT, drop_mask, dropout_p,
                                  head_ptr(v, lv, b, h, d.dh), lv, head_ptr(dout, lo, b, h, d.dh),
                                  lo, head_ptr(dv, lv, b, h, d.dh), Pd, dS.data());
      // The pairwise tanh again, one (i, j) pair at a time: d/dx tanh(x) = 1 - tanh(x)^2
      for (int64_t i = 0; i < d.Tq; ++i) {
        const T* qi = QA + i * da;
        T* dqi = dQA + i * da;
        for (int64_t j = 0; j < d.Tk; ++j) {
          const T g0 = dS[i * d.Tk + j];
          if (g0 == T(0)) continue;  // masked pairs (P = 0) among them
          const T* kj = KA + j * da;
          T* dkj = dKA + j * da;
          for (int64_t a = 0; a < da; ++a) {
            const T t = std::tanh(qi[a] + kj[a]);
            dV_[a] += g0 * t;
            const T g = g0 * vh[a] * (T(1) - t * t);
            dqi[a] += g;
            dkj[a] += g;
          }
        }
      }
      // dQ += dQA W1 (Tq,dh);  dK += dKA W2 (Tk,dh)
      gemm<T>(false, false, d.Tq, d.dh, da, T(1), dQA, da, w1 + h * da * d.dh, d.dh, T(1),
              head_ptr(dq, lq, b, h, d.dh), lq.row_stride);
      gemm<T>(false, false, d.Tk, d.dh, da, T(1), dKA, da, w2 + h * da * d.dh, d.dh, T(1),
              head_ptr(dk, lk, b, h, d.dh), lk.row_stride);
    }
  }
  // dW1_h += sum_b dQA^T Q;  dW2_h += sum_b dKA^T K;  dv_h += sum_b dv_bh  (heads in parallel)
#pragma omp parallel for schedule(static)
  for (int64_t h = 0; h < d.H; ++h) {
    for (int64_t b = 0; b < d.B; ++b) {
      const int64_t bh = b * d.H + h;
      gemm<T>(true, false, da, d.dh, d.Tq, T(1), dqa.data() + bh * d.Tq * da, da,
              head_ptr(q, lq, b, h, d.dh), lq.row_stride, T(1), dw1 + h * da * d.dh, d.dh);
      gemm<T>(true, false, da, d.dh, d.Tk, T(1), dka.data() + bh * d.Tk * da, da,
              head_ptr(k, lk, b, h, d.dh), lk.row_stride, T(1), dw2 + h * da * d.dh, d.dh);
      for (int64_t a = 0; a < da; ++a) dwv[h * da + a] += dvh[bh * da + a];
    }
  }
}

template <class T>
void cosine_attention_forward(const AttnDims& d, const T* q, AttnLayout lq, const T* k,
                              AttnLayout lk, const T* v, AttnLayout lv, const T* beta_raw, T eps,
                              const uint8_t* key_pad, bool causal, double dropout_p, uint64_t seed,
                              T* qn, T* kn, T* probs, uint8_t* drop_mask, T* out, AttnLayout lo) {
  const int64_t BH = d.B * d.H, TT = d.Tq * d.Tk, shift = d.Tk - d.Tq;
  const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel
  {
    std::vector<T> p_scratch, qh(static_cast<size_t>(d.Tq * d.dh)), kh(static_cast<size_t>(d.Tk * d.dh)), dropped;
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      T* P = probs ? probs + bh * TT : (p_scratch.resize(static_cast<size_t>(TT)), p_scratch.data());
      normalize_rows<T>(head_ptr(q, lq, b, h, d.dh), lq.row_stride, d.Tq, d.dh, eps,
                        qn ? qn + bh * d.Tq : nullptr, qh.data());
      normalize_rows<T>(head_ptr(k, lk, b, h, d.dh), lk.row_stride, d.Tk, d.dh, eps,
                        kn ? kn + bh * d.Tk : nullptr, kh.data());
      // S = beta q^ k^T  (Tq, Tk)
      const T beta = static_cast<T>(softplus(static_cast<double>(beta_raw[h])));
      gemm<T>(false, true, d.Tq, d.Tk, d.dh, beta, qh.data(), d.dh, kh.data(), d.dh, T(0), P, d.Tk);
      if (key_pad || causal) {
        const uint8_t* pad = key_pad ? key_pad + b * d.Tk : nullptr;
        for (int64_t i = 0; i < d.Tq; ++i)
          for (int64_t j = 0; j < d.Tk; ++j)
            if (is_masked(pad, causal, i, j, shift)) P[i * d.Tk + j] = neg_inf;
      }
      softmax_times_v<T>(d, bh, P, head_ptr(v, lv, b, h, d.dh), lv, dropout_p, seed, drop_mask,
                         dropped, head_ptr(out, lo, b, h, d.dh), lo);
    }
  }
}

template <class T>
void cosine_attention_backward(const AttnDims& d, const T* q, AttnLayout lq, const T* k,
                               AttnLayout lk, const T* v, AttnLayout lv, const T* beta_raw,
                               T eps, const T* qn, const T* kn, const T* probs,
                               const uint8_t* drop_mask, double dropout_p, const T* dout,
                               AttnLayout lo, T* dq, T* dk, T* dv, T* dbeta_raw) {
  const int64_t BH = d.B * d.H, TT = d.Tq * d.Tk;
  std::vector<T> dbeta(static_cast<size_t>(BH), T(0));  // per (b,h), summed over b in order
#pragma omp parallel
  {
    std::vector<T> dS(static_cast<size_t>(TT)), Pd;
    std::vector<T> qh(static_cast<size_t>(d.Tq * d.dh)), kh(static_cast<size_t>(d.Tk * d.dh));
    std::vector<T> G(static_cast<size_t>(d.Tq * d.dh)), dkh(static_cast<size_t>(d.Tk * d.dh));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / d.H, h = bh % d.H;
      const T* Q = head_ptr(q, lq, b, h, d.dh);
      const T* K = head_ptr(k, lk, b, h, d.dh);
      // q^ and k^ from the saved norms (cheaper to recompute than to keep)
      for (int64_t i = 0; i < d.Tq; ++i)
        for (int64_t c = 0; c < d.dh; ++c) qh[i * d.dh + c] = Q[i * lq.row_stride + c] / qn[bh * d.Tq + i];
      for (int64_t j = 0; j < d.Tk; ++j)
        for (int64_t c = 0; c < d.dh; ++c) kh[j * d.dh + c] = K[j * lk.row_stride + c] / kn[bh * d.Tk + j];
      softmax_times_v_backward<T>(d, bh, probs + bh * TT, drop_mask, dropout_p,
                                  head_ptr(v, lv, b, h, d.dh), lv, head_ptr(dout, lo, b, h, d.dh),
                                  lo, head_ptr(dv, lv, b, h, d.dh), Pd, dS.data());
      const T beta = static_cast<T>(softplus(static_cast<double>(beta_raw[h])));
      // G = dS k^ (Tq,dh);  dbeta = sum_i q^_i . G_i;  dq^ = beta G (in place)
      gemm<T>(false, false, d.Tq, d.dh, d.Tk, T(1), dS.data(), d.Tk, kh.data(), d.dh, T(0), G.data(), d.dh);
      T db = 0;
      for (int64_t e = 0; e < d.Tq * d.dh; ++e) db += qh[e] * G[e];
      dbeta[bh] = db;
      for (T& g : G) g *= beta;
      // dk^ = beta dS^T q^  (Tk,dh)
      gemm<T>(true, false, d.Tk, d.dh, d.Tq, beta, dS.data(), d.Tk, qh.data(), d.dh, T(0), dkh.data(), d.dh);
      normalize_rows_backward<T>(Q, lq.row_stride, d.Tq, d.dh, eps, qh.data(), G.data(),
                                 head_ptr(dq, lq, b, h, d.dh));
      normalize_rows_backward<T>(K, lk.row_stride, d.Tk, d.dh, eps, kh.data(), dkh.data(),
                                 head_ptr(dk, lk, b, h, d.dh));
    }
  }
  // beta = softplus(raw): d beta / d raw = sigmoid(raw)
  for (int64_t h = 0; h < d.H; ++h) {
    T s = 0;
    for (int64_t b = 0; b < d.B; ++b) s += dbeta[b * d.H + h];
    const double raw = static_cast<double>(beta_raw[h]);
    dbeta_raw[h] += static_cast<T>(1.0 / (1.0 + std::exp(-raw))) * s;
  }
}

#define TFM_INSTANTIATE(T)                                                                         \
  template void additive_attention_forward<T>(                                                     \
      const AttnDims&, int64_t, const T*, AttnLayout, const T*, AttnLayout, const T*, AttnLayout,  \
      const T*, const T*, const T*, const uint8_t*, bool, double, uint64_t, T*, T*, T*, uint8_t*,  \
      T*, AttnLayout);                                                                             \
  template void additive_attention_backward<T>(                                                    \
      const AttnDims&, int64_t, const T*, AttnLayout, const T*, AttnLayout, const T*, AttnLayout,  \
      const T*, const T*, const T*, const T*, const T*, const T*, const uint8_t*, double,          \
      const T*, AttnLayout, T*, T*, T*, T*, T*, T*);                                               \
  template void cosine_attention_forward<T>(const AttnDims&, const T*, AttnLayout, const T*,      \
                                            AttnLayout, const T*, AttnLayout, const T*, T,        \
                                            const uint8_t*, bool, double, uint64_t, T*, T*, T*,   \
                                            uint8_t*, T*, AttnLayout);                            \
  template void cosine_attention_backward<T>(const AttnDims&, const T*, AttnLayout, const T*,     \
                                             AttnLayout, const T*, AttnLayout, const T*, T,       \
                                             const T*, const T*, const T*, const uint8_t*, double, \
                                             const T*, AttnLayout, T*, T*, T*, T*);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
