#include "autograd/ops_recurrent.h"

#include <memory>

#include "kernels/recurrent.h"

namespace tfm::ops {

namespace k = tfm::kernels;

namespace {

// The op's final state is a second (and third) output: a small node per state whose backward
// hands its gradient to the sequence node through `FinalGrads`. Each state node has the
// sequence node as its input, so its backward runs first.
struct FinalGrads {
  Tensor dh, dc;  // undefined: no gradient reached that output
};

Var final_output(Tensor value, const char* op, const Var& seq, std::shared_ptr<FinalGrads> g, bool cell) {
  return Var::make(std::move(value), op, {seq}, [g, cell](Node& self) {
    Tensor& dst = cell ? g->dc : g->dh;
    if (!dst.defined()) dst = Tensor::zeros(self.value.shape(), self.value.dtype());
    dispatch_float(self.value.dtype(), [&]<class T>() {
      const T* s = self.grad.data<T>();
      T* d = dst.data<T>();
      for (int64_t i = 0; i < self.value.numel(); ++i) d[i] += s[i];
    });
  });
}

template <class T> const T* ptr(const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; }
template <class T> T* grad_ptr(const Var& v) {
  return v.defined() && v.requires_grad() ? v.grad_buffer().data<T>() : nullptr;
}

k::RnnDims check_inputs(const char* op, const Var& x, const std::vector<int32_t>& lengths,
                        const RecurrentWeights& w, int64_t gates, const Var& h0, const Var& c0) {
  TFM_ASSERT(x.defined() && x.value().ndim() == 3, op, ": x must be (B, T, I)");
  const k::RnnDims d{x.value().dim(0), x.value().dim(1), x.value().dim(2), w.w_hh.value().dim(1)};
  const int64_t G = gates * d.H;
  TFM_ASSERT(w.w_ih.shape() == Shape({G, d.I}) && w.w_hh.shape() == Shape({G, d.H}) &&
                 w.b_ih.shape() == Shape({G}) && w.b_hh.shape() == Shape({G}),
             op, ": weights ", shape_str(w.w_ih.shape()), " ", shape_str(w.w_hh.shape()), " ",
             shape_str(w.b_ih.shape()), " ", shape_str(w.b_hh.shape()), " for I=", d.I, " H=", d.H);
  for (const Var* v : {&w.w_ih, &w.w_hh, &w.b_ih, &w.b_hh, &h0, &c0})
    TFM_ASSERT(!v->defined() || v->dtype() == x.dtype(), op, ": mixed dtypes");
  for (const Var* s : {&h0, &c0})
    TFM_ASSERT(!s->defined() || s->shape() == Shape({d.B, d.H}), op, ": initial state ",
               shape_str(s->shape()), ", expected ", shape_str({d.B, d.H}));
  TFM_CHECK(static_cast<int64_t>(lengths.size()) == d.B, op, ": ", lengths.size(),
            " lengths for a batch of ", d.B);
  for (int32_t len : lengths)
    TFM_CHECK(len >= 0 && len <= d.T, op, ": length ", len, " outside [0, ", d.T, "]");
  return d;
}

}  // namespace

RecurrentResult lstm(const Var& x, const std::vector<int32_t>& lengths, const RecurrentWeights& w,
                     const RecurrentState& initial) {
  const Var h0 = initial.h, c0 = initial.c;
  const k::RnnDims d = check_inputs("lstm", x, lengths, w, 4, h0, c0);
  const DType dt = x.dtype();
  Tensor out = Tensor::empty({d.B, d.T, d.H}, dt), h_n = Tensor::empty({d.B, d.H}, dt),
         c_n = Tensor::empty({d.B, d.H}, dt);
  Tensor gates = Tensor::empty({d.B, d.T, 4 * d.H}, dt), cells = Tensor::empty({d.B, d.T, d.H}, dt);
  auto len = std::make_shared<const std::vector<int32_t>>(lengths);
  dispatch_float(dt, [&]<class T>() {
    k::lstm_forward<T>(d, len->data(), x.value().data<T>(), w.w_ih.value().data<T>(),
                       w.w_hh.value().data<T>(), w.b_ih.value().data<T>(), w.b_hh.value().data<T>(),
                       h0.defined() ? h0.value().data<T>() : nullptr,
                       c0.defined() ? c0.value().data<T>() : nullptr, out.data<T>(), h_n.data<T>(),
                       c_n.data<T>(), gates.data<T>(), cells.data<T>());
  });
  auto fg = std::make_shared<FinalGrads>();
  Var seq = Var::make(out, "lstm", {x, w.w_ih, w.w_hh, w.b_ih, w.b_hh, h0, c0},
                      [x, w, h0, c0, d, len, gates, cells, fg](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::lstm_backward<T>(d, len->data(), x.value().data<T>(), w.w_ih.value().data<T>(),
                          w.w_hh.value().data<T>(), h0.defined() ? h0.value().data<T>() : nullptr,
                          c0.defined() ? c0.value().data<T>() : nullptr, self.value.data<T>(),
                          gates.data<T>(), cells.data<T>(), self.grad.data<T>(), ptr<T>(fg->dh),
                          ptr<T>(fg->dc), grad_ptr<T>(x), grad_ptr<T>(w.w_ih), grad_ptr<T>(w.w_hh),
                          grad_ptr<T>(w.b_ih), grad_ptr<T>(w.b_hh), grad_ptr<T>(h0), grad_ptr<T>(c0));
    });
  });
  RecurrentResult r;
  r.out = seq;
  r.final.h = final_output(h_n, "lstm_final_h", seq, fg, false);
  r.final.c = final_output(c_n, "lstm_final_c", seq, fg, true);
  return r;
}

RecurrentResult gru(const Var& x, const std::vector<int32_t>& lengths, const RecurrentWeights& w,
                    const Var& h0) {
  const k::RnnDims d = check_inputs("gru", x, lengths, w, 3, h0, Var());
  const DType dt = x.dtype();
  Tensor out = Tensor::empty({d.B, d.T, d.H}, dt), h_n = Tensor::empty({d.B, d.H}, dt);
  Tensor gates = Tensor::empty({d.B, d.T, 3 * d.H}, dt), hn = Tensor::empty({d.B, d.T, d.H}, dt);
  auto len = std::make_shared<const std::vector<int32_t>>(lengths);
  dispatch_float(dt, [&]<class T>() {
    k::gru_forward<T>(d, len->data(), x.value().data<T>(), w.w_ih.value().data<T>(),
                      w.w_hh.value().data<T>(), w.b_ih.value().data<T>(), w.b_hh.value().data<T>(),
                      h0.defined() ? h0.value().data<T>() : nullptr, out.data<T>(), h_n.data<T>(),
                      gates.data<T>(), hn.data<T>());
  });
  auto fg = std::make_shared<FinalGrads>();
  Var seq = Var::make(out, "gru", {x, w.w_ih, w.w_hh, w.b_ih, w.b_hh, h0},
                      [x, w, h0, d, len, gates, hn, fg](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class T>() {
      k::gru_backward<T>(d, len->data(), x.value().data<T>(), w.w_ih.value().data<T>(),
                         w.w_hh.value().data<T>(), h0.defined() ? h0.value().data<T>() : nullptr,
                         self.value.data<T>(), gates.data<T>(), hn.data<T>(), self.grad.data<T>(),
                         ptr<T>(fg->dh), grad_ptr<T>(x), grad_ptr<T>(w.w_ih), grad_ptr<T>(w.w_hh),
                         grad_ptr<T>(w.b_ih), grad_ptr<T>(w.b_hh), grad_ptr<T>(h0));
    });
  });
  RecurrentResult r;
  r.out = seq;
  r.final.h = final_output(h_n, "gru_final_h", seq, fg, false);
  return r;
}

namespace {
void check_step(const char* op, const Var& x, const Var& h, const RecurrentWeights& w, int64_t gates) {
  TFM_ASSERT(x.defined() && h.defined() && x.value().ndim() == 2 && h.value().ndim() == 2 &&
                 x.value().dim(0) == h.value().dim(0),
             op, ": x (B, I) and h (B, H) expected, got ", shape_str(x.shape()), " ", shape_str(h.shape()));
  const int64_t I = x.value().dim(1), H = h.value().dim(1), G = gates * H;
  TFM_ASSERT(w.w_ih.shape() == Shape({G, I}) && w.w_hh.shape() == Shape({G, H}) &&
                 w.b_ih.shape() == Shape({G}) && w.b_hh.shape() == Shape({G}),
             op, ": weights ", shape_str(w.w_ih.shape()), " ", shape_str(w.w_hh.shape()), " for I=", I,
             " H=", H);
}
}  // namespace

RecurrentState lstm_step(const Var& x, const RecurrentState& s, const RecurrentWeights& w) {
  check_step("lstm_step", x, s.h, w, 4);
  TFM_ASSERT(s.c.defined() && s.c.shape() == s.h.shape(), "lstm_step: c must have h's shape");
  const int64_t B = x.value().dim(0), I = x.value().dim(1), H = s.h.value().dim(1);
  Tensor h = Tensor::empty({B, H}, x.dtype()), c = Tensor::empty({B, H}, x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() {
    k::lstm_step<T>(B, I, H, x.value().data<T>(), s.h.value().data<T>(), s.c.value().data<T>(),
                    w.w_ih.value().data<T>(), w.w_hh.value().data<T>(), w.b_ih.value().data<T>(),
                    w.b_hh.value().data<T>(), h.data<T>(), c.data<T>());
  });
  // Forward only: no backward is registered, so a backward through it names the op.
  std::vector<Var> in{x, s.h, s.c, w.w_ih, w.w_hh, w.b_ih, w.b_hh};
  return {Var::make(h, "lstm_step", in, nullptr), Var::make(c, "lstm_step", in, nullptr)};
}

Var gru_step(const Var& x, const Var& h_prev, const RecurrentWeights& w) {
  check_step("gru_step", x, h_prev, w, 3);
  const int64_t B = x.value().dim(0), I = x.value().dim(1), H = h_prev.value().dim(1);
  Tensor h = Tensor::empty({B, H}, x.dtype());
  dispatch_float(x.dtype(), [&]<class T>() {
    k::gru_step<T>(B, I, H, x.value().data<T>(), h_prev.value().data<T>(), w.w_ih.value().data<T>(),
                   w.w_hh.value().data<T>(), w.b_ih.value().data<T>(), w.b_hh.value().data<T>(),
                   h.data<T>());
  });
  return Var::make(h, "gru_step", {x, h_prev, w.w_ih, w.w_hh, w.b_ih, w.b_hh}, nullptr);
}

}  // namespace tfm::ops
