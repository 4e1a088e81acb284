// One generic gradient check for every op and model (ggml's test-backend-ops idea): the analytic
// gradient of a scalar function of some inputs against central finite differences, in float64.
// Tolerance, fixed before the first run: |analytic - numeric| <= 1e-6 + 1e-5 * |numeric|.
// The analytic backward runs with claimed gradients poisoned (autograd/var.h): NaN where unwritten.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/var.h"
#include "core/rng.h"

namespace tfm::testing {

inline Tensor random_tensor(Shape shape, Rng& rng, double scale = 1.0, DType dt = DType::F64) {
  Tensor t = Tensor::empty(std::move(shape), DType::F64);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = scale * rng.normal();
  return dt == DType::F64 ? t : t.to(dt);
}

inline Var random_param(Shape shape, Rng& rng, double scale = 1.0) {
  return Var(random_tensor(std::move(shape), rng, scale), true);
}

struct GradCheckResult {
  double max_abs_err = 0;
  std::string worst;
  int64_t checked = 0;
};

// f builds the scalar from the inputs (it is called many times; it must be deterministic).
// Each element of each input is perturbed by +-h; at most `max_per_input` elements per input,
// spread evenly, are checked (all when the input is small).
inline GradCheckResult gradcheck(std::vector<Var> inputs, const std::function<Var()>& f,
                                 double h = 1e-6, int64_t max_per_input = 64) {
  const double atol = 1e-6, rtol = 1e-5;
  for (Var& v : inputs) v.zero_grad();
  Var out = f();
  // Gradients a backward claims to write whole start as NaN: any element it misses shows.
  set_poison_claimed_grads(true);
  out.backward();
  set_poison_claimed_grads(false);
  GradCheckResult r;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& x = inputs[k].value();
    Tensor analytic = inputs[k].grad().defined() ? inputs[k].grad().clone() : Tensor::zeros(x.shape(), DType::F64);
    int64_t n = x.numel(), step = std::max<int64_t>(1, n / max_per_input);
    for (int64_t i = 0; i < n; i += step) {
      double* p = x.data<double>() + i;
      double saved = *p;
      double plus, minus;
      {
        NoGradGuard g;
        *p = saved + h;
        plus = f().value().item(0);
        *p = saved - h;
        minus = f().value().item(0);
      }
      *p = saved;
      double numeric = (plus - minus) / (2 * h);
      double a = analytic.data<double>()[i];
      double err = std::abs(a - numeric);
      EXPECT_LE(err, atol + rtol * std::abs(numeric))
          << "input " << k << " element " << i << ": analytic " << a << " numeric " << numeric;
      if (err > r.max_abs_err) {
        r.max_abs_err = err;
        r.worst = "input " + std::to_string(k) + " element " + std::to_string(i);
      }
      ++r.checked;
    }
  }
  return r;
}

// A random probe so the scalar depends on every output element differently.
inline Var probe(const Var& y, uint64_t seed = 99) {
  Rng r(seed);
  return ops::weighted_sum(y, random_tensor(y.shape(), r));
}

inline void report(const char* op, const GradCheckResult& r) {
  EXPECT_GT(r.checked, 0);
  std::printf("[gradcheck] %-36s %4lld elements, max |err| %.3g (%s)\n", op,
              static_cast<long long>(r.checked), r.max_abs_err, r.worst.c_str());
}

}  // namespace tfm::testing
