#include "nn/recurrent.h"

#include <cmath>

namespace tfm {

RecurrentLayer::RecurrentLayer(int64_t in, int64_t hidden, int64_t gates, DType dt)
    : weight_ih_l0(add_parameter("weight_ih_l0", Tensor::zeros({gates * hidden, in}, dt))),
      weight_hh_l0(add_parameter("weight_hh_l0", Tensor::zeros({gates * hidden, hidden}, dt))),
      bias_ih_l0(add_parameter("bias_ih_l0", Tensor::zeros({gates * hidden}, dt))),
      bias_hh_l0(add_parameter("bias_hh_l0", Tensor::zeros({gates * hidden}, dt))),
      input_size(in),
      hidden_size(hidden) {}

void RecurrentLayer::reset_parameters(Rng& rng) {
  const double a = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (Var* p : {&weight_ih_l0, &weight_hh_l0, &bias_ih_l0, &bias_hh_l0}) {
    Tensor init = Tensor::empty(p->shape(), DType::F64);
    double* v = init.data<double>();
    for (int64_t i = 0; i < init.numel(); ++i) v[i] = a * (2 * rng.uniform() - 1);
    p->value().copy_from(init.to(p->dtype()));
  }
}

}  // namespace tfm
