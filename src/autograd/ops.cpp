#include "autograd/ops.h"

#include <algorithm>
#include <cmath>

#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/layernorm.h"
#include "kernels/inference_linear.h"
#include "kernels/softmax.h"

namespace tfm::ops {

namespace k = tfm::kernels;

namespace {
int64_t rows_of(const Tensor& t) { return t.ndim() == 0 ? 1 : t.numel() / t.dim(-1); }
void check_same(const Var& a, const Var& b, const char* op) {
  TFM_ASSERT(a.shape() == b.shape() && a.dtype() == b.dtype(), op, ": ", shape_str(a.shape()),
             " vs ", shape_str(b.shape()));
}
// x's gradient += alpha * g, or = alpha * g when this is the first gradient x receives.
template <class T>
void add_grad(const Var& x, T alpha, const Tensor& g) {
  if (x.claim_grad()) k::scale_forward<T>(g.data<T>(), alpha, g.numel(), x.grad_buffer().data<T>());
  else k::axpy<T>(alpha, g.data<T>(), g.numel(), x.grad_buffer().data<T>());
}
}  // namespace

Var linear(const Var& x, const Var& W, const Var& b, int64_t row_begin, int64_t row_end) {
  const Tensor& xv = x.value();
  const int64_t C = W.value().dim(1);
  if (row_end < 0) row_end = W.value().dim(0);
  const int64_t OC = row_end - row_begin, N = xv.numel() / C;
  TFM_ASSERT(xv.dim(-1) == C && 0 <= row_begin && row_begin < row_end && row_end <= W.value().dim(0),
             "linear: x ", shape_str(xv.shape()), " W ", shape_str(W.shape()), " rows ", row_begin,
             ":", row_end);
  Shape out_shape = xv.shape();
  out_shape.back() = OC;
  Tensor y = Tensor::empty(out_shape, xv.dtype());
  // Prepared inference weights (kernels/inference_linear.h): only where no gradient can be asked for.
  if (!grad_enabled() && xv.dtype() == DType::F32 && k::inference_linears_active()) {
    k::inference_linear(xv.data<float>(), N, C, W.value().data<float>() + row_begin * C, OC,
                   b.defined() ? b.value().data<float>() + row_begin : nullptr, y.data<float>());
    return Var(y);
  }
  dispatch_float(xv.dtype(), [&]<class T>() {
    // y (N,OC) = x (N,C) @ W_rows (OC,C)^T
    k::gemm<T>(false, true, N, OC, C, T(1), xv.data<T>(), C, W.value().data<T>() + row_begin * C, C,
               T(0), y.data<T>(), OC);
    if (b.defined()) k::add_bias<T>(y.data<T>(), b.value().data<T>() + row_begin, N, OC);
  });
  return Var::make(y, "linear", {x, W, b}, [x, W, b, row_begin, N, C, OC](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      const T* dy = self.grad.data<T>();
      // dx (N,C) += dy (N,OC) @ W_rows (OC,C)   (beta 0: the first gradient x receives)
      if (x.requires_grad()) {
        const T beta = x.claim_grad() ? T(0) : T(1);
        k::gemm<T>(false, false, N, C, OC, T(1), dy, OC, W.value().data<T>() + row_begin * C, C, beta,
                   x.grad_buffer().data<T>(), C);
      }
      // dW_rows (OC,C) += dy^T (OC,N) @ x (N,C); written only when the rows are all of W.
      if (W.requires_grad()) {
        const T beta = row_begin == 0 && OC == W.value().dim(0) && W.claim_grad() ? T(0) : T(1);
        k::gemm<T>(true, false, OC, C, N, T(1), dy, OC, x.value().data<T>(), C, beta,
                   W.grad_buffer().data<T>() + row_begin * C, C);
      }
      // db += column sums of dy
      if (b.defined() && b.requires_grad())
        k::bias_backward<T>(dy, N, OC, b.grad_buffer().data<T>() + row_begin);
    });
  });
}

Var relu(const Var& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() { k::relu_forward<T>(x.value().data<T>(), y.numel(), y.data<T>()); });
  return Var::make(y, "relu", {x}, [x](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      const bool fresh = x.claim_grad();
      k::relu_backward<T>(x.value().data<T>(), self.grad.data<T>(), self.value.numel(),
                          x.grad_buffer().data<T>(), !fresh);
    });
  });
}

Var tanh(const Var& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() { k::tanh_forward<T>(x.value().data<T>(), y.numel(), y.data<T>()); });
  return Var::make(y, "tanh", {x}, [x](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::tanh_backward<T>(self.value.data<T>(), self.grad.data<T>(), self.value.numel(), x.grad_buffer().data<T>());
    });
  });
}

Var reshape(const Var& x, const Shape& shape) {
  TFM_ASSERT(shape_numel(shape) == x.value().numel(), "reshape: ", shape_str(x.shape()), " to ", shape_str(shape));
  Tensor y = x.value().reshape(shape).clone();
  return Var::make(y, "reshape", {x}, [x](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::axpy<T>(T(1), self.grad.data<T>(), self.value.numel(), x.grad_buffer().data<T>());
    });
  });
}

Var gelu(const Var& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() { k::gelu_forward<T>(x.value().data<T>(), y.numel(), y.data<T>()); });
  return Var::make(y, "gelu", {x}, [x](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::gelu_backward<T>(x.value().data<T>(), self.grad.data<T>(), self.value.numel(),
                          x.grad_buffer().data<T>());
    });
  });
}

Var add(const Var& a, const Var& b) {
  check_same(a, b, "add");
  Tensor y = Tensor::empty(a.shape(), a.dtype());
  dispatch_float(a.dtype(), [&]<class T>() {
    k::add_forward<T>(a.value().data<T>(), b.value().data<T>(), y.numel(), y.data<T>());
  });
  return Var::make(y, "add", {a, b}, [a, b](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      if (a.requires_grad()) add_grad<T>(a, T(1), self.grad);
      if (b.requires_grad()) add_grad<T>(b, T(1), self.grad);
    });
  });
}

Var scale(const Var& x, double alpha) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() {
    k::scale_forward<T>(x.value().data<T>(), static_cast<T>(alpha), y.numel(), y.data<T>());
  });
  return Var::make(y, "scale", {x}, [x, alpha](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      add_grad<T>(x, static_cast<T>(alpha), self.grad);
    });
  });
}

namespace {
// Inverted dropout, of x or of relu(x): the kept-and-positive mask is all the backward needs,
// so one backward serves both and relu's output is never kept.
Var masked_dropout(const Var& x, double p, uint64_t seed, bool with_relu) {
  TFM_ASSERT(p > 0 && p < 1, "dropout probability ", p);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  auto mask = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(y.numel()));
  dispatch_float(x.dtype(), [&]<class T>() {
    const T* xs = x.value().data<T>();
    if (with_relu) k::relu_dropout_forward<T>(xs, y.numel(), p, seed, y.data<T>(), mask->data());
    else k::dropout_forward<T>(xs, y.numel(), p, seed, y.data<T>(), mask->data());
  });
  return Var::make(y, with_relu ? "relu_dropout" : "dropout", {x}, [x, p, mask](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      const bool fresh = x.claim_grad();
      k::dropout_backward<T>(self.grad.data<T>(), mask->data(), self.value.numel(), p,
                             x.grad_buffer().data<T>(), !fresh);
    });
  });
}
}  // namespace

Var dropout(const Var& x, double p, uint64_t seed) {
  return p <= 0 ? x : masked_dropout(x, p, seed, /*with_relu=*/false);
}

Var relu_dropout(const Var& x, double p, uint64_t seed) {
  return p <= 0 ? relu(x) : masked_dropout(x, p, seed, /*with_relu=*/true);
}

Var layer_norm(const Var& x, const Var& gamma, const Var& beta, double eps) {
  const int64_t C = x.value().dim(-1), N = rows_of(x.value());
  TFM_ASSERT(gamma.value().numel() == C && beta.value().numel() == C, "layer_norm: C=", C);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor stats = Tensor::empty({2, N}, x.dtype());  // mean, rstd
  dispatch_float(x.dtype(), [&]<class T>() {
    k::layernorm_forward<T>(x.value().data<T>(), gamma.value().data<T>(), beta.value().data<T>(), N, C,
                            eps, y.data<T>(), stats.data<T>(), stats.data<T>() + N);
  });
  return Var::make(y, "layer_norm", {x, gamma, beta}, [x, gamma, beta, stats, N, C](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      const bool fresh = x.claim_grad();
      k::layernorm_backward<T>(self.grad.data<T>(), x.value().data<T>(), stats.data<T>(),
                               stats.data<T>() + N, gamma.value().data<T>(), N, C,
                               x.grad_buffer().data<T>(), gamma.grad_buffer().data<T>(),
                               beta.grad_buffer().data<T>(), !fresh);
    });
  });
}

Var residual_layer_norm(const Var& a, const Var& b, const Var& gamma, const Var& beta, double eps) {
  check_same(a, b, "residual_layer_norm");
  const int64_t C = a.value().dim(-1), N = rows_of(a.value());
  Tensor y = Tensor::empty(a.shape(), a.dtype());
  Tensor sum = Tensor::empty(a.shape(), a.dtype());
  Tensor stats = Tensor::empty({2, N}, a.dtype());
  dispatch_float(a.dtype(), [&]<class T>() {
    k::residual_layernorm_forward<T>(a.value().data<T>(), b.value().data<T>(), gamma.value().data<T>(),
                                     beta.value().data<T>(), N, C, eps, sum.data<T>(), y.data<T>(),
                                     stats.data<T>(), stats.data<T>() + N);
  });
  return Var::make(y, "residual_layer_norm", {a, b, gamma, beta},
                   [a, b, gamma, beta, sum, stats, N, C](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      // d(a+b) is computed once, then flows unchanged to both summands. When a has no gradient
      // yet, d(a+b) is written straight into a's (and b, even if b is a, adds it from there).
      const bool a_fresh = a.requires_grad() && a.claim_grad();
      Tensor dsum = a_fresh ? a.grad_buffer() : Tensor::empty(sum.shape(), sum.dtype());
      k::layernorm_backward<T>(self.grad.data<T>(), sum.data<T>(), stats.data<T>(), stats.data<T>() + N,
                               gamma.value().data<T>(), N, C, dsum.data<T>(),
                               gamma.grad_buffer().data<T>(), beta.grad_buffer().data<T>(),
                               /*accumulate_dx=*/false);
      if (a.requires_grad() && !a_fresh) k::axpy<T>(T(1), dsum.data<T>(), dsum.numel(), a.grad_buffer().data<T>());
      if (b.requires_grad()) add_grad<T>(b, T(1), dsum);
    });
  });
}

Var embedding(const Var& table, const Tensor& ids, double scale_by, const Tensor& pe) {
  TFM_ASSERT(ids.dtype() == DType::I32 && ids.ndim() == 2, "embedding: ids must be (B,T) I32");
  const int64_t B = ids.dim(0), T_ = ids.dim(1), V = table.value().dim(0), C = table.value().dim(1);
  const int32_t* id = ids.data<int32_t>();
  for (int64_t i = 0; i < ids.numel(); ++i)
    TFM_CHECK(id[i] >= 0 && id[i] < V, "token id ", id[i], " is outside the vocabulary [0, ", V, ")");
  TFM_CHECK(!pe.defined() || pe.dim(0) >= T_, "sequence of length ", T_,
            " is longer than the positional table (max_len ", pe.defined() ? pe.dim(0) : 0, ")");
  Tensor y = Tensor::empty({B * T_, C}, table.dtype());
  dispatch_float(table.dtype(), [&]<class T>() {
    k::embedding_forward<T>(id, B, T_, table.value().data<T>(), C, static_cast<T>(scale_by),
                            pe.defined() ? pe.data<T>() : nullptr, y.data<T>());
  });
  return Var::make(y, "embedding", {table}, [table, ids, scale_by, C](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::embedding_backward<T>(ids.data<int32_t>(), ids.numel(), self.grad.data<T>(), C,
                               static_cast<T>(scale_by), table.grad_buffer().data<T>());
    });
  });
}

namespace {
// Whether attention's backward may write (not add) the gradients of q, k and v: it may when
// every input that needs a gradient has none yet and the column blocks of width HD it reads of
// that input (q at qc, k at kc, v at vc; several when one buffer holds Q, K and V) tile its
// whole width. Then it claims those gradients (Node::claim_grad); otherwise it claims nothing.
bool attention_claims_grads(const Var& q, const Var& k, const Var& v, int64_t qc, int64_t kc,
                            int64_t vc, int64_t HD) {
  const std::pair<const Var*, int64_t> roles[3] = {{&q, qc}, {&k, kc}, {&v, vc}};
  for (const auto& [x, col] : roles) {
    (void)col;
    if (!x->requires_grad()) continue;
    if (x->grad().defined()) return false;
    std::vector<int64_t> cols;
    for (const auto& [y, c] : roles)
      if (y->node() == x->node()) cols.push_back(c);
    std::sort(cols.begin(), cols.end());
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i] != static_cast<int64_t>(i) * HD) return false;
    if (static_cast<int64_t>(cols.size()) * HD != x->value().dim(-1)) return false;
  }
  for (const auto& [x, col] : roles) {
    (void)col;
    if (x->requires_grad() && !x->grad().defined()) x->claim_grad();
  }
  return true;
}
}  // namespace

Var attention(const Var& q, const Var& kv_k, const Var& v, const AttentionArgs& a) {
  const int64_t Cq = q.value().dim(-1), Ck = kv_k.value().dim(-1), Cv = v.value().dim(-1);
  const int64_t HD = a.H * a.dh;
  TFM_ASSERT(q.value().numel() == a.B * a.Tq * Cq && kv_k.value().numel() == a.B * a.Tk * Ck &&
                 v.value().numel() == a.B * a.Tk * Cv && a.q_col + HD <= Cq && a.k_col + HD <= Ck &&
                 a.v_col + HD <= Cv,
             "attention: shapes q ", shape_str(q.shape()), " k ", shape_str(kv_k.shape()), " v ",
             shape_str(v.shape()));
  TFM_ASSERT(!a.key_pad || static_cast<int64_t>(a.key_pad->size()) == a.B * a.Tk, "attention: key_pad size");
  const k::AttnDims d{a.B, a.H, a.Tq, a.Tk, a.dh};
  const k::AttnLayout lq{a.Tq * Cq, Cq}, lk{a.Tk * Ck, Ck}, lv{a.Tk * Cv, Cv}, lo{a.Tq * HD, HD};
  const double sc = a.scale > 0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(a.dh));
  Tensor out = Tensor::empty({a.B * a.Tq, HD}, q.dtype());
  const bool keep = grad_enabled() && (q.requires_grad() || kv_k.requires_grad() || v.requires_grad());
  Tensor probs = keep ? Tensor::empty({a.B, a.H, a.Tq, a.Tk}, q.dtype()) : Tensor();
  // Dropout is the caller's choice (ForwardContext), independent of grad mode.
  auto mask = std::make_shared<std::vector<uint8_t>>(
      a.dropout > 0 ? static_cast<size_t>(a.B * a.H * a.Tq * a.Tk) : 0);
  dispatch_float(q.dtype(), [&]<class T>() {
    k::attention_forward<T>(d, q.value().data<T>() + a.q_col, lq, kv_k.value().data<T>() + a.k_col, lk,
                            v.value().data<T>() + a.v_col, lv, a.key_pad ? a.key_pad->data() : nullptr,
                            a.causal, static_cast<T>(sc), a.dropout, a.seed,
                            keep ? probs.data<T>() : nullptr, mask->data(), out.data<T>(), lo);
  });
  const double p = a.dropout;
  const int64_t qc = a.q_col, kc = a.k_col, vc = a.v_col;
  return Var::make(out, "attention", {q, kv_k, v},
                   [q, kv_k, v, d, lq, lk, lv, lo, sc, probs, mask, p, qc, kc, vc](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      // Inputs that need no gradient still get a scratch buffer: the kernel writes all three.
      const bool fresh = attention_claims_grads(q, kv_k, v, qc, kc, vc, d.H * d.dh);
      auto grad_ptr = [fresh](const Var& x) {
        if (x.requires_grad()) return x.grad_buffer();
        return fresh ? Tensor::empty(x.shape(), x.dtype()) : Tensor::zeros(x.shape(), x.dtype());
      };
      Tensor gq = grad_ptr(q), gk = grad_ptr(kv_k), gv = grad_ptr(v);
      k::attention_backward<T>(d, q.value().data<T>() + qc, lq, kv_k.value().data<T>() + kc, lk,
                               v.value().data<T>() + vc, lv, probs.data<T>(), mask->data(), p,
                               static_cast<T>(sc), self.grad.data<T>(), lo, gq.data<T>() + qc,
                               gk.data<T>() + kc, gv.data<T>() + vc, /*accumulate=*/!fresh);
    });
  });
}

Var cross_entropy(const Var& logits, const std::vector<int32_t>& targets, int32_t ignore,
                  double label_smoothing) {
  const int64_t V = logits.value().dim(-1), N = rows_of(logits.value());
  TFM_ASSERT(static_cast<int64_t>(targets.size()) == N, "cross_entropy: ", targets.size(),
             " targets for ", N, " rows");
  for (int64_t n = 0; n < N; ++n)
    TFM_CHECK(targets[n] == ignore || (targets[n] >= 0 && targets[n] < V), "target id ", targets[n],
              " is outside the vocabulary [0, ", V, ")");
  Tensor lse = Tensor::empty({N}, logits.dtype());
  Tensor loss = Tensor::empty({1}, logits.dtype());
  int64_t count = 0;
  auto tg = std::make_shared<std::vector<int32_t>>(targets);
  dispatch_float(logits.dtype(), [&]<class T>() {
    double total = k::cross_entropy_forward<T>(logits.value().data<T>(), tg->data(), N, V, ignore,
                                               label_smoothing, lse.data<T>(), &count);
    loss.data<T>()[0] = static_cast<T>(count ? total / count : 0.0);
  });
  return Var::make(loss, "cross_entropy", {logits},
                   [logits, tg, lse, N, V, ignore, label_smoothing, count](Node& self) {
    if (!count) return;
    dispatch_float(self.value.dtype(), [&]<class T>() {
      T scale_by = self.grad.data<T>()[0] / static_cast<T>(count);
      const bool fresh = logits.claim_grad();
      k::cross_entropy_backward<T>(logits.value().data<T>(), tg->data(), lse.data<T>(), N, V, ignore,
                                   label_smoothing, scale_by, logits.grad_buffer().data<T>(), !fresh);
    });
  });
}

Var log_softmax(const Var& x) {
  const int64_t V = x.value().dim(-1), N = rows_of(x.value());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() { k::log_softmax_forward<T>(x.value().data<T>(), N, V, y.data<T>()); });
  return Var::make(y, "log_softmax", {x}, [x, N, V](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::log_softmax_backward<T>(self.value.data<T>(), self.grad.data<T>(), N, V, x.grad_buffer().data<T>());
    });
  });
}

Var weighted_sum(const Var& x, const Tensor& w) {
  TFM_ASSERT(w.numel() == x.value().numel() && w.dtype() == x.dtype(), "weighted_sum: weights");
  Tensor y = Tensor::empty({1}, x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() {
    double s = 0;
    for (int64_t i = 0; i < w.numel(); ++i) s += static_cast<double>(x.value().data<T>()[i]) * w.data<T>()[i];
    y.data<T>()[0] = static_cast<T>(s);
  });
  return Var::make(y, "weighted_sum", {x}, [x, w](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::axpy<T>(self.grad.data<T>()[0], w.data<T>(), w.numel(), x.grad_buffer().data<T>());
    });
  });
}

}  // namespace tfm::ops
