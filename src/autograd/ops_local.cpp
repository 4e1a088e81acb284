#include "autograd/ops_local.h"

#include <cmath>
#include <memory>

namespace tfm::ops {

namespace k = tfm::kernels;

Var local_attention(const Var& q, const Var& kv_k, const Var& v, const LocalAttentionArgs& a) {
  const k::LocalPattern& pt = a.pattern;
  const int64_t n = pt.length(), HD = a.H * a.dh;
  const int64_t Cq = q.value().dim(-1), Ck = kv_k.value().dim(-1), Cv = v.value().dim(-1);
  TFM_CHECK(pt.height > 0 && pt.width > 0 && pt.block_h > 0 && pt.block_w > 0 &&
                pt.flange_top >= 0 && pt.flange_left >= 0 && pt.flange_right >= 0,
            "local attention needs positive image and block sizes and flanges >= 0, got image ",
            pt.height, "x", pt.width, ", block ", pt.block_h, "x", pt.block_w, ", flange top ",
            pt.flange_top, " left ", pt.flange_left, " right ", pt.flange_right);
  TFM_ASSERT(a.B > 0 && a.H > 0 && a.dh > 0, "local_attention: B ", a.B, " H ", a.H, " dh ", a.dh);
  TFM_CHECK(q.value().numel() == a.B * n * Cq && kv_k.value().numel() == a.B * n * Ck &&
                v.value().numel() == a.B * n * Cv && a.q_col + HD <= Cq && a.k_col + HD <= Ck &&
                a.v_col + HD <= Cv,
            "local attention over ", a.B, " sequences of ", pt.height, "x", pt.width, " = ", n,
            " positions, ", a.H, " heads of ", a.dh, ": shapes q ", shape_str(q.shape()), " k ",
            shape_str(kv_k.shape()), " v ", shape_str(v.shape()));
  TFM_ASSERT(!a.key_pad || static_cast<int64_t>(a.key_pad->size()) == a.B * n,
             "local_attention: key_pad size");
  const k::AttnLayout lq{n * Cq, Cq}, lk{n * Ck, Ck}, lv{n * Cv, Cv}, lo{n * HD, HD};
  const double sc = a.scale > 0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(a.dh));
  Tensor out = Tensor::empty({a.B * n, HD}, q.dtype());
  const bool keep = grad_enabled() && (q.requires_grad() || kv_k.requires_grad() || v.requires_grad());
  // What the backward keeps: the block probabilities, O(B*H*n*M); nothing n x n exists.
  Tensor probs = keep ? Tensor::empty({a.B, a.H, pt.blocks(), pt.query_block() * pt.memory_block()}, q.dtype())
                      : Tensor();
  auto mask = std::make_shared<std::vector<uint8_t>>(
      a.dropout > 0 ? static_cast<size_t>(a.B * a.H * k::local_probs_per_head(pt)) : 0);
  if (a.memory) {
    a.memory->saved_probs = keep ? probs.numel() : 0;
    a.memory->saved_drop_mask = static_cast<int64_t>(mask->size());
    a.memory->forward_scratch = k::local_forward_scratch(pt, a.dh);
    a.memory->backward_scratch = k::local_backward_scratch(pt, a.dh);
  }
  const int64_t B = a.B, H = a.H, dh = a.dh;
  dispatch_float(q.dtype(), [&]<class T>() {
    k::local_attention_forward<T>(pt, B, H, dh, q.value().data<T>() + a.q_col, lq,
                                  kv_k.value().data<T>() + a.k_col, lk, v.value().data<T>() + a.v_col,
                                  lv, a.key_pad ? a.key_pad->data() : nullptr, static_cast<T>(sc),
                                  a.dropout, a.seed, keep ? probs.data<T>() : nullptr, mask->data(),
                                  out.data<T>(), lo);
  });
  const int64_t qc = a.q_col, kc = a.k_col, vc = a.v_col;
  const double p = a.dropout;
  return Var::make(out, "local_attention", {q, kv_k, v},
                   [q, kv_k, v, pt, B, H, dh, lq, lk, lv, lo, sc, probs, mask, p, qc, kc, vc](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      // Inputs that need no gradient get a scratch buffer: the kernel writes all three.
      auto grad_of = [](const Var& x) {
        return x.requires_grad() ? x.grad_buffer() : Tensor::zeros(x.shape(), x.dtype());
      };
      Tensor gq = grad_of(q), gk = grad_of(kv_k), gv = grad_of(v);
      k::local_attention_backward<T>(pt, B, H, dh, q.value().data<T>() + qc, lq,
                                     kv_k.value().data<T>() + kc, lk, v.value().data<T>() + vc, lv,
                                     probs.data<T>(), mask->data(), p, static_cast<T>(sc),
                                     self.grad.data<T>(), lo,
                                     gq.data<T>() + qc, gk.data<T>() + kc, gv.data<T>() + vc);
    });
  });
}

}  // namespace tfm::ops
