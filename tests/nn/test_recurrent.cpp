// LSTM and GRU (src/nn/recurrent.h) against PyTorch's nn.LSTM and nn.GRU run with
// pack_padded_sequence on a batch of unequal lengths (tests/fixtures/recurrent/make_recurrent.py):
// outputs, final states and every gradient of a fixed probe; the one-step decoding form against
// the sequence op's steps; PyTorch's parameter names, shapes and initial range.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops_recurrent.h"
#include "io/safetensors.h"
#include "nn/recurrent.h"
#include "../autograd/gradcheck.h"

namespace tfm {
namespace {

const std::string kFixture = std::string(TFM_SOURCE_DIR) + "/tests/fixtures/recurrent/recurrent.safetensors";
const char* kParams[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};

// max |ours - ref| and whether every element is within atol + rtol |ref|
struct Diff {
  double max_abs = 0;
  bool ok = true;
};
void compare(const Tensor& ours, const Tensor& ref, const std::string& what, Diff& d) {
  const double atol = 1e-5, rtol = 1e-5;
  ASSERT_EQ(ours.numel(), ref.numel()) << what;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double e = std::abs(ours.item(i) - ref.item(i));
    d.max_abs = std::max(d.max_abs, e);
    if (e > atol + rtol * std::abs(ref.item(i))) {
      d.ok = false;
      ADD_FAILURE() << what << "[" << i << "]: ours " << ours.item(i) << " torch " << ref.item(i);
    }
  }
}

std::vector<int32_t> lengths_of(const Tensor& t) {
  std::vector<int32_t> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(static_cast<int32_t>(t.item(i)));
  return v;
}

template <class Layer>
void load(Layer& layer, const TensorMap& f, const std::string& name) {
  std::map<std::string, Tensor> sd;
  for (const char* p : kParams) sd[p] = f.at(name + "." + p);
  layer.load_state_dict(sd, kFixture);
}

void matches_pytorch(const std::string& name, DType dt) {
  const TensorMap f = load_safetensors(kFixture);
  auto get = [&](const std::string& k) { return f.at(name + "." + k).to(dt); };
  const bool lstm = name == "lstm";
  const Tensor xv = get("x");
  const int64_t I = xv.dim(2), H = get("h0").dim(1);
  LSTM lstm_layer(I, H, dt);
  GRU gru_layer(I, H, dt);
  RecurrentLayer& layer = lstm ? static_cast<RecurrentLayer&>(lstm_layer) : gru_layer;
  if (lstm) load(lstm_layer, f, name); else load(gru_layer, f, name);
  Var x(xv, true), h0(get("h0"), true), c0 = lstm ? Var(get("c0"), true) : Var();
  const std::vector<int32_t> lengths = lengths_of(f.at(name + ".lengths"));
  ops::RecurrentResult r = lstm ? lstm_layer.forward(x, lengths, {h0, c0}) : gru_layer.forward(x, lengths, h0);
  Var loss = ops::add(ops::weighted_sum(r.out, get("probe.out")), ops::weighted_sum(r.final.h, get("probe.h_n")));
  if (lstm) loss = ops::add(loss, ops::weighted_sum(r.final.c, get("probe.c_n")));
  loss.backward();
  Diff d;
  compare(r.out.value(), get("out"), name + ".out", d);
  compare(r.final.h.value(), get("h_n"), name + ".h_n", d);
  compare(x.grad(), get("grad.x"), name + ".grad.x", d);
  compare(h0.grad(), get("grad.h0"), name + ".grad.h0", d);
  if (lstm) {
    compare(r.final.c.value(), get("c_n"), name + ".c_n", d);
    compare(c0.grad(), get("grad.c0"), name + ".grad.c0", d);
  }
  for (auto& [n, p] : layer.named_parameters()) compare(p->grad(), get("grad." + n), name + ".grad." + n, d);
  std::printf("[torch parity] %-4s %s: max |ours - torch| %.3g over outputs, final states and gradients\n",
              name.c_str(), dt == DType::F64 ? "f64" : "f32", d.max_abs);
  EXPECT_TRUE(d.ok);
}

TEST(NnRecurrent, LstmMatchesPyTorchPackedSequenceOutputsStatesAndGradients) {
  matches_pytorch("lstm", DType::F64);
  matches_pytorch("lstm", DType::F32);
}

TEST(NnRecurrent, GruMatchesPyTorchPackedSequenceOutputsStatesAndGradients) {
  matches_pytorch("gru", DType::F64);
  matches_pytorch("gru", DType::F32);
}

// x[:, t, :] of x (B, T, I) as a (B, I) tensor
Tensor step_input(const Tensor& x, int64_t t) {
  const int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2);
  Tensor s = Tensor::empty({B, I}, x.dtype());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < I; ++i) s.data<double>()[b * I + i] = x.data<double>()[(b * T + t) * I + i];
  return s;
}

double max_row_diff(const Tensor& state, const Tensor& out, int64_t t) {
  const int64_t B = state.dim(0), H = state.dim(1), T = out.dim(1);
  double m = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < H; ++j)
      m = std::max(m, std::abs(state.data<double>()[b * H + j] - out.data<double>()[(b * T + t) * H + j]));
  return m;
}

// Decoding runs the cell one step at a time; it must reproduce the sequence op's steps.
TEST(NnRecurrent, OneStepFormEqualsTheSequenceOpStepByStep) {
  const int64_t B = 3, T = 6, I = 4, H = 5;
  const std::vector<int32_t> full(B, static_cast<int32_t>(T));
  Rng rng(7);
  LSTM lstm(I, H, DType::F64);
  GRU gru(I, H, DType::F64);
  lstm.reset_parameters(rng);
  gru.reset_parameters(rng);
  NoGradGuard no_grad;
  Var x(testing::random_tensor({B, T, I}, rng));
  Var h0(testing::random_tensor({B, H}, rng, 0.5)), c0(testing::random_tensor({B, H}, rng, 0.5));
  ops::RecurrentResult rl = lstm.forward(x, full, {h0, c0});
  ops::RecurrentResult rg = gru.forward(x, full, h0);
  ops::RecurrentState s{h0, c0};
  Var hg = h0;
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    Var xt(step_input(x.value(), t));
    s = lstm.step(xt, s);
    hg = gru.step(xt, hg);
    worst = std::max({worst, max_row_diff(s.h.value(), rl.out.value(), t), max_row_diff(hg.value(), rg.out.value(), t)});
  }
  for (int64_t i = 0; i < B * H; ++i)
    worst = std::max({worst, std::abs(s.c.value().item(i) - rl.final.c.value().item(i)),
                      std::abs(s.h.value().item(i) - rl.final.h.value().item(i)),
                      std::abs(hg.value().item(i) - rg.final.h.value().item(i))});
  std::printf("[one step] max |step - sequence| %.3g (f64)\n", worst);
  EXPECT_LE(worst, 1e-12);
}

TEST(NnRecurrent, OneStepFormHasNoBackwardAndSaysSo) {
  Rng rng(8);
  GRU gru(2, 3, DType::F64);
  gru.reset_parameters(rng);
  Var h = gru.step(Var(testing::random_tensor({1, 2}, rng)), Var(testing::random_tensor({1, 3}, rng)));
  Var loss = testing::probe(h);
  try {
    loss.backward();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("gru_step"), std::string::npos) << e.what();
  }
}

TEST(NnRecurrent, ParametersUsePyTorchNamesShapesAndInitialRange) {
  LSTM lstm(4, 5, DType::F32);
  GRU gru(4, 5, DType::F32);
  Rng rng(9);
  lstm.reset_parameters(rng);
  gru.reset_parameters(rng);
  const std::map<std::string, Shape> want_lstm = {{"weight_ih_l0", {20, 4}}, {"weight_hh_l0", {20, 5}},
                                                  {"bias_ih_l0", {20}}, {"bias_hh_l0", {20}}};
  const std::map<std::string, Shape> want_gru = {{"weight_ih_l0", {15, 4}}, {"weight_hh_l0", {15, 5}},
                                                 {"bias_ih_l0", {15}}, {"bias_hh_l0", {15}}};
  const double bound = 1.0 / std::sqrt(5.0);
  for (auto [layer, want] : {std::pair<RecurrentLayer*, const std::map<std::string, Shape>*>{&lstm, &want_lstm},
                             {&gru, &want_gru}}) {
    auto sd = layer->state_dict();
    ASSERT_EQ(sd.size(), want->size());
    for (auto& [n, t] : sd) {
      ASSERT_TRUE(want->count(n)) << n;
      EXPECT_EQ(t.shape(), want->at(n)) << n;
      double lo = 1, hi = -1;
      for (int64_t i = 0; i < t.numel(); ++i) lo = std::min(lo, t.item(i)), hi = std::max(hi, t.item(i));
      EXPECT_GE(lo, -bound) << n;
      EXPECT_LE(hi, bound) << n;
      EXPECT_LT(lo, -0.5 * bound) << n << " should spread over the range";
      EXPECT_GT(hi, 0.5 * bound) << n;
    }
  }
}

TEST(NnRecurrent, LengthOutsideTheSequenceIsRefused) {
  Rng rng(10);
  LSTM lstm(2, 3, DType::F64);
  Var x(testing::random_tensor({2, 4, 2}, rng));
  try {
    lstm.forward(x, {4, 5});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lstm: length 5 outside [0, 4]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tfm
