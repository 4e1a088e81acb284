#include "kernels/recurrent.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/elementwise.h"
#include "kernels/gemm.h"

namespace tfm::kernels {

namespace {

constexpr int64_t kParallelMin = 1 << 14;

template <class T> inline T sigmoid(T a) { return T(1) / (T(1) + std::exp(-a)); }

// One LSTM row. pre (4H) = W_ih x + b_ih + W_hh h (b_hh is added here); act (4H) receives the
// activated gates (may alias pre); c_out may alias c_prev (element-wise).
template <class T>
void lstm_cell(const T* pre, const T* b_hh, const T* c_prev, int64_t H, T* act, T* c_out, T* h_out) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = sigmoid(pre[j] + b_hh[j]);
    const T f = sigmoid(pre[H + j] + b_hh[H + j]);
    const T g = std::tanh(pre[2 * H + j] + b_hh[2 * H + j]);
    const T o = sigmoid(pre[3 * H + j] + b_hh[3 * H + j]);
    const T c = f * (c_prev ? c_prev[j] : T(0)) + i * g;
    act[j] = i, act[H + j] = f, act[2 * H + j] = g, act[3 * H + j] = o;
    c_out[j] = c;
    h_out[j] = o * std::tanh(c);
  }
}

// One GRU row. xp (3H) = W_ih x + b_ih, hp (3H) = W_hh h (b_hh added here); act (3H) receives
// r, z, n (may alias xp); hn_out (H) = W_hn h + b_hn or null; h_out may alias h_prev.
template <class T>
void gru_cell(const T* xp, const T* hp, const T* b_hh, const T* h_prev, int64_t H, T* act, T* hn_out,
              T* h_out) {
  for (int64_t j = 0; j < H; ++j) {
    const T r = sigmoid(xp[j] + hp[j] + b_hh[j]);
    const T z = sigmoid(xp[H + j] + hp[H + j] + b_hh[H + j]);
    const T hn = hp[2 * H + j] + b_hh[2 * H + j];
    const T n = std::tanh(xp[2 * H + j] + r * hn);
    const T hp_j = h_prev ? h_prev[j] : T(0);
    act[j] = r, act[H + j] = z, act[2 * H + j] = n;
    if (hn_out) hn_out[j] = hn;
    h_out[j] = (T(1) - z) * n + z * hp_j;
  }
}

template <class T> std::vector<T> initial(const T* s, int64_t n) {
  return s ? std::vector<T>(s, s + n) : std::vector<T>(static_cast<size_t>(n), T(0));
}

// Hprev (B,T,H): row (b,t) = h_{t-1} = out[b,t-1], or h0[b] (zero when null) at t = 0.
template <class T> std::vector<T> previous_states(const RnnDims& d, const T* h0, const T* out) {
  const int64_t B = d.B, T_ = d.T, H = d.H;
  std::vector<T> hprev(static_cast<size_t>(B * T_ * H), T(0));
  for (int64_t b = 0; b < B; ++b) {
    if (h0) std::memcpy(&hprev[b * T_ * H], h0 + b * H, sizeof(T) * H);
    if (T_ > 1) std::memcpy(&hprev[(b * T_ + 1) * H], out + b * T_ * H, sizeof(T) * (T_ - 1) * H);
  }
  return hprev;
}

// The parameter and input gradients shared by both cells, from the pre-activation gradients:
// dW_ih += dXP^T x, db_ih += sum dXP, dx += dXP W_ih, dW_hh += dHP^T Hprev, db_hh += sum dHP.
template <class T>
void projection_backward(const RnnDims& d, int64_t G, const T* x, const T* w_ih, const T* hprev,
                         const T* dxp, const T* dhp, T* dx, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh) {
  const int64_t N = d.B * d.T;
  if (N == 0) return;
  if (dw_ih) gemm<T>(true, false, G, d.I, N, T(1), dxp, G, x, d.I, T(1), dw_ih, d.I);
  if (db_ih) bias_backward<T>(dxp, N, G, db_ih);
  if (dx) gemm<T>(false, false, N, d.I, G, T(1), dxp, G, w_ih, d.I, T(1), dx, d.I);
  if (dw_hh) gemm<T>(true, false, G, d.H, N, T(1), dhp, G, hprev, d.H, T(1), dw_hh, d.H);
  if (db_hh) bias_backward<T>(dhp, N, G, db_hh);
}

}  // namespace

template <class T>
void lstm_forward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, T* out, T* h_n, T* c_n,
                  T* gates, T* cells) {
  const int64_t B = d.B, T_ = d.T, H = d.H, G = 4 * H;
  // All input projections at once: gates (B*T, 4H) = x W_ih^T + b_ih.
  if (B * T_ > 0) {
    gemm<T>(false, true, B * T_, G, d.I, T(1), x, d.I, w_ih, d.I, T(0), gates, G);
    add_bias<T>(gates, b_ih, B * T_, G);
  }
  std::vector<T> h = initial(h0, B * H), c = initial(c0, B * H);
  for (int64_t t = 0; t < T_; ++t) {
    // gates[:, t] += h_{t-1} W_hh^T  (one GEMM per step; rows strided by T*4H)
    gemm<T>(false, true, B, G, H, T(1), h.data(), H, w_hh, H, T(1), gates + t * G, T_ * G);
#pragma omp parallel for if (B * G > kParallelMin)
    for (int64_t b = 0; b < B; ++b) {
      T* a = gates + (b * T_ + t) * G;
      T* o = out + (b * T_ + t) * H;
      T* cs = cells + (b * T_ + t) * H;
      if (t < lengths[b]) {
        lstm_cell(a, b_hh, &c[b * H], H, a, &c[b * H], &h[b * H]);
        std::memcpy(o, &h[b * H], sizeof(T) * H);
      } else {  // padding: state unchanged, output zero
        std::memset(o, 0, sizeof(T) * H);
        std::memset(a, 0, sizeof(T) * G);
      }
      std::memcpy(cs, &c[b * H], sizeof(T) * H);
    }
  }
  std::memcpy(h_n, h.data(), sizeof(T) * B * H);
  std::memcpy(c_n, c.data(), sizeof(T) * B * H);
}

template <class T>
void lstm_backward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                   const T* h0, const T* c0, const T* out, const T* gates, const T* cells,
                   const T* dout, const T* dh_n, const T* dc_n, T* dx, T* dw_ih, T* dw_hh, T* db_ih,
                   T* db_hh, T* dh0, T* dc0) {
  const int64_t B = d.B, T_ = d.T, H = d.H, G = 4 * H;
  std::vector<T> da(static_cast<size_t>(B * T_ * G), T(0));  // d(pre-activations), (B,T,4H)
  std::vector<T> dh = initial(dh_n, B * H), dc = initial(dc_n, B * H), tmp(static_cast<size_t>(B * H));
  for (int64_t t = T_ - 1; t >= 0; --t) {
#pragma omp parallel for if (B * G > kParallelMin)
    for (int64_t b = 0; b < B; ++b) {
      if (t >= lengths[b]) continue;  // padding passes the state gradient through unchanged
      const T* a = gates + (b * T_ + t) * G;
      const T* c = cells + (b * T_ + t) * H;
      const T* cp = t > 0 ? cells + (b * T_ + t - 1) * H : (c0 ? c0 + b * H : nullptr);
      const T* go = dout ? dout + (b * T_ + t) * H : nullptr;
      T* g_a = &da[(b * T_ + t) * G];
      for (int64_t j = 0; j < H; ++j) {
        const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
        const T tc = std::tanh(c[j]);
        const T dhj = dh[b * H + j] + (go ? go[j] : T(0));
        // h = o tanh(c): do = dh tanh(c), dc += dh o (1 - tanh^2 c); c = f c_prev + i g
        const T dcj = dc[b * H + j] + dhj * o * (T(1) - tc * tc);
        g_a[j] = dcj * g * i * (T(1) - i);
        g_a[H + j] = dcj * (cp ? cp[j] : T(0)) * f * (T(1) - f);
        g_a[2 * H + j] = dcj * i * (T(1) - g * g);
        g_a[3 * H + j] = dhj * tc * o * (T(1) - o);
        dc[b * H + j] = dcj * f;
      }
    }
    // dh_{t-1} = da_t W_hh  (rows of padded steps are zero and are not copied)
    gemm<T>(false, false, B, H, G, T(1), &da[t * G], T_ * G, w_hh, H, T(0), tmp.data(), H);
    for (int64_t b = 0; b < B; ++b)
      if (t < lengths[b]) std::memcpy(&dh[b * H], &tmp[b * H], sizeof(T) * H);
  }
  if (dh0) axpy<T>(T(1), dh.data(), B * H, dh0);
  if (dc0) axpy<T>(T(1), dc.data(), B * H, dc0);
  std::vector<T> hprev = previous_states(d, h0, out);
  // One pre-activation feeds both projections: dXP = dHP = da.
  projection_backward(d, G, x, w_ih, hprev.data(), da.data(), da.data(), dx, dw_ih, dw_hh, db_ih, db_hh);
}

template <class T>
void lstm_step(int64_t B, int64_t I, int64_t H, const T* x, const T* h, const T* c, const T* w_ih,
               const T* w_hh, const T* b_ih, const T* b_hh, T* h_new, T* c_new) {
  const int64_t G = 4 * H;
  std::vector<T> pre(static_cast<size_t>(B * G));
  // The same order of operations as lstm_forward, so a step equals the sequence's step.
  gemm<T>(false, true, B, G, I, T(1), x, I, w_ih, I, T(0), pre.data(), G);
  add_bias<T>(pre.data(), b_ih, B, G);
  gemm<T>(false, true, B, G, H, T(1), h, H, w_hh, H, T(1), pre.data(), G);
  for (int64_t b = 0; b < B; ++b)
    lstm_cell(&pre[b * G], b_hh, c + b * H, H, &pre[b * G], c_new + b * H, h_new + b * H);
}

template <class T>
void gru_forward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                 const T* b_ih, const T* b_hh, const T* h0, T* out, T* h_n, T* gates, T* hn) {
  const int64_t B = d.B, T_ = d.T, H = d.H, G = 3 * H;
  if (B * T_ > 0) {
    gemm<T>(false, true, B * T_, G, d.I, T(1), x, d.I, w_ih, d.I, T(0), gates, G);
    add_bias<T>(gates, b_ih, B * T_, G);
  }
  std::vector<T> h = initial(h0, B * H), hp(static_cast<size_t>(B * G));
  for (int64_t t = 0; t < T_; ++t) {
    // hp = h_{t-1} W_hh^T, kept apart from the input projection: r multiplies only W_hn h + b_hn.
    gemm<T>(false, true, B, G, H, T(1), h.data(), H, w_hh, H, T(0), hp.data(), G);
#pragma omp parallel for if (B * G > kParallelMin)
    for (int64_t b = 0; b < B; ++b) {
      T* a = gates + (b * T_ + t) * G;
      T* o = out + (b * T_ + t) * H;
      T* s = hn + (b * T_ + t) * H;
      if (t < lengths[b]) {
        gru_cell(a, &hp[b * G], b_hh, &h[b * H], H, a, s, &h[b * H]);
        std::memcpy(o, &h[b * H], sizeof(T) * H);
      } else {
        std::memset(o, 0, sizeof(T) * H);
        std::memset(a, 0, sizeof(T) * G);
        std::memset(s, 0, sizeof(T) * H);
      }
    }
  }
  std::memcpy(h_n, h.data(), sizeof(T) * B * H);
}

template <class T>
void gru_backward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                  const T* h0, const T* out, const T* gates, const T* hn, const T* dout,
                  const T* dh_n, T* dx, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh, T* dh0) {
  const int64_t B = d.B, T_ = d.T, H = d.H, G = 3 * H;
  std::vector<T> dxp(static_cast<size_t>(B * T_ * G), T(0)), dhp(dxp.size(), T(0));
  std::vector<T> dh = initial(dh_n, B * H), direct(static_cast<size_t>(B * H)), tmp(direct.size());
  for (int64_t t = T_ - 1; t >= 0; --t) {
#pragma omp parallel for if (B * G > kParallelMin)
    for (int64_t b = 0; b < B; ++b) {
      if (t >= lengths[b]) continue;
      const T* a = gates + (b * T_ + t) * G;
      const T* s = hn + (b * T_ + t) * H;
      const T* hprev = t > 0 ? out + (b * T_ + t - 1) * H : (h0 ? h0 + b * H : nullptr);
      const T* go = dout ? dout + (b * T_ + t) * H : nullptr;
      T* gx = &dxp[(b * T_ + t) * G];
      T* gh = &dhp[(b * T_ + t) * G];
      for (int64_t j = 0; j < H; ++j) {
        const T r = a[j], z = a[H + j], n = a[2 * H + j];
        const T hpj = hprev ? hprev[j] : T(0);
        const T dhj = dh[b * H + j] + (go ? go[j] : T(0));
        // h = (1 - z) n + z h_prev;  n = tanh(xn + r hn)
        const T dan = dhj * (T(1) - z) * (T(1) - n * n);
        const T dar = dan * s[j] * r * (T(1) - r);
        const T daz = dhj * (hpj - n) * z * (T(1) - z);
        gx[j] = dar, gx[H + j] = daz, gx[2 * H + j] = dan;
        gh[j] = dar, gh[H + j] = daz, gh[2 * H + j] = dan * r;
        direct[b * H + j] = dhj * z;
      }
    }
    // dh_{t-1} = dh z + dHP_t W_hh
    gemm<T>(false, false, B, H, G, T(1), &dhp[t * G], T_ * G, w_hh, H, T(0), tmp.data(), H);
    for (int64_t b = 0; b < B; ++b)
      if (t < lengths[b])
        for (int64_t j = 0; j < H; ++j) dh[b * H + j] = tmp[b * H + j] + direct[b * H + j];
  }
  if (dh0) axpy<T>(T(1), dh.data(), B * H, dh0);
  std::vector<T> hprev = previous_states(d, h0, out);
  projection_backward(d, G, x, w_ih, hprev.data(), dxp.data(), dhp.data(), dx, dw_ih, dw_hh, db_ih, db_hh);
}

template <class T>
void gru_step(int64_t B, int64_t I, int64_t H, const T* x, const T* h, const T* w_ih, const T* w_hh,
              const T* b_ih, const T* b_hh, T* h_new) {
  const int64_t G = 3 * H;
  std::vector<T> xp(static_cast<size_t>(B * G)), hp(xp.size());
  gemm<T>(false, true, B, G, I, T(1), x, I, w_ih, I, T(0), xp.data(), G);
  add_bias<T>(xp.data(), b_ih, B, G);
  gemm<T>(false, true, B, G, H, T(1), h, H, w_hh, H, T(0), hp.data(), G);
  for (int64_t b = 0; b < B; ++b)
    gru_cell(&xp[b * G], &hp[b * G], b_hh, h + b * H, H, &xp[b * G], static_cast<T*>(nullptr),
             h_new + b * H);
}

#define TFM_INSTANTIATE(T)                                                                        \
  template void lstm_forward<T>(const RnnDims&, const int32_t*, const T*, const T*, const T*,     \
                                const T*, const T*, const T*, const T*, T*, T*, T*, T*, T*);      \
  template void lstm_backward<T>(const RnnDims&, const int32_t*, const T*, const T*, const T*,    \
                                 const T*, const T*, const T*, const T*, const T*, const T*,      \
                                 const T*, const T*, T*, T*, T*, T*, T*, T*, T*);                 \
  template void lstm_step<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, const T*,   \
                             const T*, const T*, const T*, T*, T*);                               \
  template void gru_forward<T>(const RnnDims&, const int32_t*, const T*, const T*, const T*,      \
                               const T*, const T*, const T*, T*, T*, T*, T*);                     \
  template void gru_backward<T>(const RnnDims&, const int32_t*, const T*, const T*, const T*,     \
                                const T*, const T*, const T*, const T*, const T*, const T*, T*,   \
                                T*, T*, T*, T*, T*);                                              \
  template void gru_step<T>(int64_t, int64_t, int64_t, const T*, const T*, const T*, const T*,    \
                            const T*, const T*, T*);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
