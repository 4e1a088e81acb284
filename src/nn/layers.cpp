#include "nn/layers.h"

#include <cmath>

namespace tfm {

namespace {
// Parameters are created zero; models/init.cpp gives them their initial values.
Tensor zeros(Shape s, DType dt) { return Tensor::zeros(std::move(s), dt); }
}  // namespace

Linear::Linear(int64_t in, int64_t out, DType dt, bool with_bias)
    : weight(add_parameter("weight", zeros({out, in}, dt))) {
  if (with_bias) bias = add_parameter("bias", zeros({out}, dt));
}

Embedding::Embedding(int64_t vocab, int64_t dim, DType dt)
    : weight(add_parameter("weight", zeros({vocab, dim}, dt))) {}

LayerNorm::LayerNorm(int64_t dim, double eps_, DType dt)
    : weight(add_parameter("weight", Tensor::full({dim}, 1.0, dt))),
      bias(add_parameter("bias", zeros({dim}, dt))),
      eps(eps_) {}

FeedForward::FeedForward(int64_t d_model, int64_t d_ff, const std::string& activation, double p,
                         DType dt)
    : linear1(d_model, d_ff, dt), linear2(d_ff, d_model, dt), gelu(activation == "gelu"), dropout(p) {
  add_child("linear1", linear1);
  add_child("linear2", linear2);
}

Var FeedForward::forward(const Var& x, ForwardContext& ctx) const {
  Var h = linear1.forward(x);
  if (gelu) h = ops::dropout(ops::gelu(h), ctx.p(dropout), ctx.next_seed());
  else h = ops::relu_dropout(h, ctx.p(dropout), ctx.next_seed());  // one pass, one 4x-wide tensor fewer
  return linear2.forward(h);
}

Tensor sinusoidal_table(int64_t max_len, int64_t d, DType dt) {
  Tensor pe = Tensor::empty({max_len, d}, DType::F64);
  double* p = pe.data<double>();
  for (int64_t pos = 0; pos < max_len; ++pos)
    for (int64_t c = 0; c < d; ++c) {
      const double angle = static_cast<double>(pos) / std::pow(10000.0, static_cast<double>(c - c % 2) / d);
      p[pos * d + c] = (c % 2 == 0) ? std::sin(angle) : std::cos(angle);
    }
  return dt == DType::F64 ? pe : pe.to(dt);
}

}  // namespace tfm
