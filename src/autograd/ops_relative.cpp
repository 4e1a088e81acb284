#include "autograd/ops_relative.h"

#include <cmath>
#include <memory>

#include "kernels/relative_attention.h"

namespace tfm::ops {

namespace k = tfm::kernels;

Var relative_attention(const Var& q, const Var& kv_k, const Var& v, const Var& table,
                       const RelativeAttentionArgs& a) {
  const int64_t Cq = q.value().dim(-1), Ck = kv_k.value().dim(-1), Cv = v.value().dim(-1);
  const int64_t HD = a.H * a.dh;
  TFM_ASSERT(a.B > 0 && a.L > 0 && a.H > 0 && a.dh > 0 && a.max_distance >= 0,
             "relative_attention: B ", a.B, " L ", a.L, " H ", a.H, " dh ", a.dh, " k ", a.max_distance);
  TFM_ASSERT(q.value().numel() == a.B * a.L * Cq && kv_k.value().numel() == a.B * a.L * Ck &&
                 v.value().numel() == a.B * a.L * Cv && a.q_col + HD <= Cq && a.k_col + HD <= Ck &&
                 a.v_col + HD <= Cv,
             "relative_attention: shapes q ", shape_str(q.shape()), " k ", shape_str(kv_k.shape()),
             " v ", shape_str(v.shape()));
  TFM_ASSERT(!a.key_pad || static_cast<int64_t>(a.key_pad->size()) == a.B * a.L,
             "relative_attention: key_pad size");
  const Tensor& tv = table.value();
  const int64_t R = tv.ndim() == 3 ? tv.dim(1) : -1;
  const int64_t full_rows = k::relative_table_rows(a.max_distance, false);
  const int64_t causal_rows = k::relative_table_rows(a.max_distance, true);
  TFM_CHECK(tv.ndim() == 3 && (tv.dim(0) == a.H || tv.dim(0) == 1) && tv.dim(2) == a.dh &&
                (R == full_rows || (a.causal && R == causal_rows)) && tv.dtype() == q.dtype(),
            "relative embedding table has shape ", shape_str(tv.shape()), ", expected (", a.H,
            " or 1, ", a.causal ? std::to_string(causal_rows) + " or " : std::string(), full_rows,
            ", ", a.dh, ") for ", a.H, " heads of ", a.dh, " channels and max_relative_distance ",
            a.max_distance);
  const k::RelAttnDims d{a.B, a.H, a.L, a.dh, a.max_distance, tv.dim(0), R, a.causal};
  const k::AttnLayout lq{a.L * Cq, Cq}, lk{a.L * Ck, Ck}, lv{a.L * Cv, Cv}, lo{a.L * HD, HD};
  const double sc = a.scale > 0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(a.dh));
  Tensor out = Tensor::empty({a.B * a.L, HD}, q.dtype());
  const bool keep = grad_enabled() && (q.requires_grad() || kv_k.requires_grad() ||
                                       v.requires_grad() || table.requires_grad());
  // What the backward keeps: the probabilities (and the dropout mask), O(B*H*L*L); nothing of
  // size L*L*dh exists anywhere.
  Tensor probs = keep ? Tensor::empty({a.B, a.H, a.L, a.L}, q.dtype()) : Tensor();
  auto mask = std::make_shared<std::vector<uint8_t>>(
      a.dropout > 0 ? static_cast<size_t>(a.B * a.H * a.L * a.L) : 0);
  if (a.memory) {
    a.memory->saved_probs = keep ? probs.numel() : 0;
    a.memory->saved_drop_mask = static_cast<int64_t>(mask->size());
    a.memory->forward_scratch = k::relative_forward_scratch(a.L, a.dh, a.causal);
    a.memory->backward_scratch = k::relative_backward_scratch(a.L, a.dh, a.causal);
  }
  dispatch_float(q.dtype(), [&]<class T>() {
    k::relative_attention_forward<T>(d, q.value().data<T>() + a.q_col, lq,
                                     kv_k.value().data<T>() + a.k_col, lk,
                                     v.value().data<T>() + a.v_col, lv, tv.data<T>(),
                                     a.key_pad ? a.key_pad->data() : nullptr, static_cast<T>(sc),
                                     a.dropout, a.seed, keep ? probs.data<T>() : nullptr,
                                     mask->data(), out.data<T>(), lo);
  });
  const double p = a.dropout;
  const int64_t qc = a.q_col, kc = a.k_col, vc = a.v_col;
  return Var::make(out, "relative_attention", {q, kv_k, v, table},
                   [q, kv_k, v, table, d, lq, lk, lv, lo, sc, probs, mask, p, qc, kc, vc](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      // Inputs that need no gradient get a scratch buffer: the kernel writes all four.
      auto grad_of = [](const Var& x) {
        return x.requires_grad() ? x.grad_buffer() : Tensor::zeros(x.shape(), x.dtype());
      };
      Tensor gq = grad_of(q), gk = grad_of(kv_k), gv = grad_of(v), gt = grad_of(table);
      k::relative_attention_backward<T>(d, q.value().data<T>() + qc, lq,
                                        kv_k.value().data<T>() + kc, lk, v.value().data<T>() + vc,
                                        lv, table.value().data<T>(), probs.data<T>(), mask->data(),
                                        p, static_cast<T>(sc), self.grad.data<T>(), lo,
                                        gq.data<T>() + qc, gk.data<T>() + kc, gv.data<T>() + vc,
                                        gt.data<T>());
    });
  });
}

}  // namespace tfm::ops
