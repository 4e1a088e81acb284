// ops::lstm and ops::gru against central finite differences in float64, through the one harness
// (gradcheck.h): x, the initial state and all four weights, over a batch of unequal lengths
// (one row full, one of length 1, one of length 0), with the output and the final states all in
// the scalar, so the gradient reaches a row's final state through its padded steps.
#include <gtest/gtest.h>

#include "autograd/ops.h"
#include "autograd/ops_recurrent.h"
#include "gradcheck.h"

namespace tfm {
namespace {

using testing::gradcheck;
using testing::probe;
using testing::random_param;
using testing::report;

constexpr int64_t B = 4, T = 5, I = 3, H = 3;
const std::vector<int32_t> kLengths = {5, 1, 3, 0};

ops::RecurrentWeights random_weights(int64_t gates, Rng& rng) {
  return {random_param({gates * H, I}, rng, 0.5), random_param({gates * H, H}, rng, 0.5),
          random_param({gates * H}, rng, 0.3), random_param({gates * H}, rng, 0.3)};
}

TEST(AutogradGradcheck, LstmUnequalLengthsInitialStateAndAllWeights) {
  Rng rng(41);
  Var x = random_param({B, T, I}, rng), h0 = random_param({B, H}, rng, 0.5), c0 = random_param({B, H}, rng, 0.5);
  ops::RecurrentWeights w = random_weights(4, rng);
  report("lstm (lengths 5,1,3,0; h0, c0)",
         gradcheck({x, h0, c0, w.w_ih, w.w_hh, w.b_ih, w.b_hh}, [&] {
           ops::RecurrentResult r = ops::lstm(x, kLengths, w, {h0, c0});
           return ops::add(ops::add(probe(r.out, 1), probe(r.final.h, 2)), probe(r.final.c, 3));
         }));
}

TEST(AutogradGradcheck, LstmWithoutInitialStateOnlyFinalState) {
  Rng rng(42);
  Var x = random_param({B, T, I}, rng);
  ops::RecurrentWeights w = random_weights(4, rng);
  report("lstm (zero initial state, h_n only)", gradcheck({x, w.w_ih, w.w_hh, w.b_ih, w.b_hh}, [&] {
           return probe(ops::lstm(x, kLengths, w).final.h, 4);
         }));
}

TEST(AutogradGradcheck, GruUnequalLengthsInitialStateAndAllWeights) {
  Rng rng(43);
  Var x = random_param({B, T, I}, rng), h0 = random_param({B, H}, rng, 0.5);
  ops::RecurrentWeights w = random_weights(3, rng);
  report("gru (lengths 5,1,3,0; h0)", gradcheck({x, h0, w.w_ih, w.w_hh, w.b_ih, w.b_hh}, [&] {
           ops::RecurrentResult r = ops::gru(x, kLengths, w, h0);
           return ops::add(probe(r.out, 5), probe(r.final.h, 6));
         }));
}

TEST(AutogradGradcheck, GruWithoutInitialStateOnlyOutputs) {
  Rng rng(44);
  Var x = random_param({B, T, I}, rng);
  ops::RecurrentWeights w = random_weights(3, rng);
  report("gru (zero initial state, out only)", gradcheck({x, w.w_ih, w.w_hh, w.b_ih, w.b_hh}, [&] {
           return probe(ops::gru(x, kLengths, w).out, 7);
         }));
}

}  // namespace
}  // namespace tfm
