#include "autograd/ops_scores.h"

#include <cmath>
#include <memory>

#include "kernels/attention.h"
#include "kernels/attention_scores.h"

namespace tfm::ops {

namespace k = tfm::kernels;

namespace {

// Shapes and layouts shared by every scored attention, checked once.
struct Geometry {
  k::AttnDims d;
  k::AttnLayout lq, lk, lv, lo;
  int64_t HD;
};

Geometry geometry(const Var& q, const Var& kk, const Var& v, const AttentionArgs& a, const char* op) {
  const int64_t Cq = q.value().dim(-1), Ck = kk.value().dim(-1), Cv = v.value().dim(-1);
  const int64_t HD = a.H * a.dh;
  TFM_ASSERT(q.value().numel() == a.B * a.Tq * Cq && kk.value().numel() == a.B * a.Tk * Ck &&
                 v.value().numel() == a.B * a.Tk * Cv && a.q_col + HD <= Cq && a.k_col + HD <= Ck &&
                 a.v_col + HD <= Cv && q.dtype() == kk.dtype() && q.dtype() == v.dtype(),
             op, ": shapes q ", shape_str(q.shape()), " k ", shape_str(kk.shape()), " v ",
             shape_str(v.shape()));
  TFM_ASSERT(!a.key_pad || static_cast<int64_t>(a.key_pad->size()) == a.B * a.Tk, op, ": key_pad size");
  return {{a.B, a.H, a.Tq, a.Tk, a.dh}, {a.Tq * Cq, Cq}, {a.Tk * Ck, Ck}, {a.Tk * Cv, Cv}, {a.Tq * HD, HD}, HD};
}

// The gradient buffer of x, or zero scratch when x needs none (the kernels write every gradient).
Tensor grad_or_scratch(const Var& x) {
  return x.requires_grad() ? x.grad_buffer() : Tensor::zeros(x.shape(), x.dtype());
}

}  // namespace

Var dot_attention(const Var& q, const Var& k, const Var& v, AttentionArgs args) {
  args.scale = 1.0;
  return attention(q, k, v, args);
}

Var additive_attention(const Var& q, const Var& kk, const Var& v, const Var& w1, const Var& w2,
                       const Var& wv, const AttentionArgs& a, Tensor* weights) {
  const Geometry g = geometry(q, kk, v, a, "additive_attention");
  const int64_t da = wv.value().numel() / a.H;
  TFM_ASSERT(wv.value().numel() == a.H * da && w1.value().numel() == a.H * da * a.dh &&
                 w2.value().numel() == a.H * da * a.dh && w1.dtype() == q.dtype() &&
                 w2.dtype() == q.dtype() && wv.dtype() == q.dtype(),
             "additive_attention: w1 ", shape_str(w1.shape()), " w2 ", shape_str(w2.shape()), " v ",
             shape_str(wv.shape()), " for H=", a.H, " dh=", a.dh);
  const bool keep = grad_enabled() && (q.requires_grad() || kk.requires_grad() || v.requires_grad() ||
                                       w1.requires_grad() || w2.requires_grad() || wv.requires_grad());
  const DType dt = q.dtype();
  Tensor out = Tensor::empty({a.B * a.Tq, g.HD}, dt);
  Tensor probs = keep || weights ? Tensor::empty({a.B, a.H, a.Tq, a.Tk}, dt) : Tensor();
  Tensor qa = keep ? Tensor::empty({a.B, a.H, a.Tq, da}, dt) : Tensor();
  Tensor ka = keep ? Tensor::empty({a.B, a.H, a.Tk, da}, dt) : Tensor();
  auto mask = std::make_shared<std::vector<uint8_t>>(
      a.dropout > 0 ? static_cast<size_t>(a.B * a.H * a.Tq * a.Tk) : 0);
  dispatch_float(dt, [&]<class T>() {
    auto ptr = [](Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
    k::additive_attention_forward<T>(
        g.d, da, q.value().data<T>() + a.q_col, g.lq, kk.value().data<T>() + a.k_col, g.lk,
        v.value().data<T>() + a.v_col, g.lv, w1.value().data<T>(), w2.value().data<T>(),
        wv.value().data<T>(), a.key_pad ? a.key_pad->data() : nullptr, a.causal, a.dropout, a.seed,
        ptr(qa), ptr(ka), ptr(probs), mask->data(), out.data<T>(), g.lo);
  });
  if (weights) *weights = probs;
  const double p = a.dropout;
  const int64_t qc = a.q_col, kc = a.k_col, vc = a.v_col;
  return Var::make(out, "additive_attention", {q, kk, v, w1, w2, wv},
                   [q, kk, v, w1, w2, wv, g, da, qa, ka, probs, mask, p, qc, kc, vc](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      Tensor gq = grad_or_scratch(q), gk = grad_or_scratch(kk), gv = grad_or_scratch(v);
      Tensor gw1 = grad_or_scratch(w1), gw2 = grad_or_scratch(w2), gwv = grad_or_scratch(wv);
      k::additive_attention_backward<T>(
          g.d, da, q.value().data<T>() + qc, g.lq, kk.value().data<T>() + kc, g.lk,
          v.value().data<T>() + vc, g.lv, w1.value().data<T>(), w2.value().data<T>(),
          wv.value().data<T>(), qa.data<T>(), ka.data<T>(), probs.data<T>(), mask->data(), p,
          self.grad.data<T>(), g.lo, gq.data<T>() + qc, gk.data<T>() + kc, gv.data<T>() + vc,
          gw1.data<T>(), gw2.data<T>(), gwv.data<T>());
    });
  });
}

Var cosine_attention(const Var& q, const Var& kk, const Var& v, const Var& beta_raw,
                     const AttentionArgs& a, double eps, Tensor* weights) {
  const Geometry g = geometry(q, kk, v, a, "cosine_attention");
  TFM_ASSERT(beta_raw.value().numel() == a.H && beta_raw.dtype() == q.dtype() && eps > 0,
             "cosine_attention: beta_raw ", shape_str(beta_raw.shape()), " for H=", a.H, ", eps ", eps);
  const bool keep = grad_enabled() && (q.requires_grad() || kk.requires_grad() || v.requires_grad() ||
                                       beta_raw.requires_grad());
  const DType dt = q.dtype();
  Tensor out = Tensor::empty({a.B * a.Tq, g.HD}, dt);
  Tensor probs = keep || weights ? Tensor::empty({a.B, a.H, a.Tq, a.Tk}, dt) : Tensor();
  Tensor qn = keep ? Tensor::empty({a.B, a.H, a.Tq}, dt) : Tensor();
  Tensor kn = keep ? Tensor::empty({a.B, a.H, a.Tk}, dt) : Tensor();
  auto mask = std::make_shared<std::vector<uint8_t>>(
      a.dropout > 0 ? static_cast<size_t>(a.B * a.H * a.Tq * a.Tk) : 0);
  dispatch_float(dt, [&]<class T>() {
    auto ptr = [](Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
    k::cosine_attention_forward<T>(
        g.d, q.value().data<T>() + a.q_col, g.lq, kk.value().data<T>() + a.k_col, g.lk,
        v.value().data<T>() + a.v_col, g.lv, beta_raw.value().data<T>(), static_cast<T>(eps),
        a.key_pad ? a.key_pad->data() : nullptr, a.causal, a.dropout, a.seed, ptr(qn), ptr(kn),
        ptr(probs), mask->data(), out.data<T>(), g.lo);
  });
  if (weights) *weights = probs;
  const double p = a.dropout;
  const int64_t qc = a.q_col, kc = a.k_col, vc = a.v_col;
  return Var::make(out, "cosine_attention", {q, kk, v, beta_raw},
                   [q, kk, v, beta_raw, g, eps, qn, kn, probs, mask, p, qc, kc, vc](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      Tensor gq = grad_or_scratch(q), gk = grad_or_scratch(kk), gv = grad_or_scratch(v);
      Tensor gb = grad_or_scratch(beta_raw);
      k::cosine_attention_backward<T>(
          g.d, q.value().data<T>() + qc, g.lq, kk.value().data<T>() + kc, g.lk,
          v.value().data<T>() + vc, g.lv, beta_raw.value().data<T>(), static_cast<T>(eps),
          qn.data<T>(), kn.data<T>(), probs.data<T>(), mask->data(), p, self.grad.data<T>(), g.lo,
          gq.data<T>() + qc, gk.data<T>() + kc, gv.data<T>() + vc, gb.data<T>());
    });
  });
}

Tensor dot_product_weights(const Var& q, const Var& kk, const AttentionArgs& a) {
  // V is only read by the kernel's O = P V; K serves (same layout), the output is discarded.
  AttentionArgs kv = a;
  kv.v_col = a.k_col;
  const Geometry g = geometry(q, kk, kk, kv, "dot_product_weights");
  const double sc = a.scale > 0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(a.dh));
  Tensor probs = Tensor::empty({a.B, a.H, a.Tq, a.Tk}, q.dtype());
  Tensor out = Tensor::empty({a.B * a.Tq, g.HD}, q.dtype());
  dispatch_float(q.dtype(), [&]<class T>() {
    const T* kp = kk.value().data<T>() + a.k_col;
    k::attention_forward<T>(g.d, q.value().data<T>() + a.q_col, g.lq, kp, g.lk, kp, g.lk,
                            a.key_pad ? a.key_pad->data() : nullptr, a.causal, static_cast<T>(sc),
                            0.0, 0, probs.data<T>(), nullptr, out.data<T>(), g.lo);
  });
  return probs;
}

}  // namespace tfm::ops
