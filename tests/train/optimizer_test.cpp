#include <gtest/gtest.h>

#include <cmath>

#include "train/optimizer.h"
#include "train_test_util.h"

namespace tfm {
namespace {

using train_test::error_of;
using State = std::map<std::string, Tensor>;

// Adam by hand in double (torch.optim.Adam's formula), for one parameter over several steps.
std::vector<double> adam_by_hand(std::vector<double> p, const std::vector<std::vector<double>>& grads,
                                 double lr, double b1, double b2, double eps) {
  std::vector<double> m(p.size(), 0), v(p.size(), 0);
  for (size_t t = 1; t <= grads.size(); ++t) {
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = grads[t - 1][i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const double denom = std::sqrt(v[i]) / std::sqrt(1 - std::pow(b2, t)) + eps;
      p[i] -= lr / (1 - std::pow(b1, t)) * m[i] / denom;
    }
  }
  return p;
}

void set_grad(Var& v, const std::vector<double>& g) {
  Tensor& buf = v.grad_buffer();
  for (size_t i = 0; i < g.size(); ++i) {
    if (buf.dtype() == DType::F64)
      buf.data<double>()[i] = g[i];
    else
      buf.data<float>()[i] = static_cast<float>(g[i]);
  }
}

void check_adam_by_hand(DType dtype, double tol) {
  const std::vector<double> p0 = {1.0, -2.0, 0.5, 3e-3};
  const std::vector<std::vector<double>> grads = {{0.1, -0.3, 0.0, 2.0}, {0.2, 0.1, -1e-4, -1.0}, {-0.05, 0.4, 0.0, 0.5}};
  Var p(Tensor::from_vector<double>(p0, {4}).to(dtype), true);
  Adam adam({{"w", &p}});  // the paper's betas and eps (section 5.3)
  EXPECT_EQ(adam.options().beta1, 0.9);
  EXPECT_EQ(adam.options().beta2, 0.98);
  EXPECT_EQ(adam.options().eps, 1e-9);
  for (const auto& g : grads) {
    adam.zero_grad();
    set_grad(p, g);
    adam.step(0.01);
  }
  const std::vector<double> want = adam_by_hand(p0, grads, 0.01, 0.9, 0.98, 1e-9);
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(p.value().item(i), want[i], tol * (1 + std::abs(want[i]))) << "element " << i;
  EXPECT_EQ(adam.step_count(0), 3);
}

TEST(TrainAdam, ThreeStepsMatchTheFormulaByHandInDouble) { check_adam_by_hand(DType::F64, 1e-14); }
TEST(TrainAdam, ThreeStepsMatchTheFormulaByHandInFloat) { check_adam_by_hand(DType::F32, 1e-6); }

TEST(TrainAdam, FirstStepMovesEveryNonzeroGradientByLr) {
  // At t = 1, m / sqrt(v) = sign(g) after the bias corrections: each element moves by lr.
  Var p(Tensor::from_vector<float>({0.f, 0.f, 0.f}, {3}), true);
  Adam adam({{"w", &p}});
  set_grad(p, {5.0, -1e-3, 0.0});
  adam.step(0.1);
  EXPECT_NEAR(p.value().item(0), -0.1, 1e-6);
  EXPECT_NEAR(p.value().item(1), 0.1, 1e-6);
  EXPECT_EQ(p.value().item(2), 0.0);
}

TEST(TrainAdam, SkipsParametersWithoutGradientAndKeepsTheirStep) {
  Var a(Tensor::full({2}, 1.0), true), b(Tensor::full({2}, 1.0), true);
  Adam adam({{"a", &a}, {"b", &b}});
  set_grad(a, {1.0, 1.0});
  adam.step(0.1);
  EXPECT_EQ(adam.step_count(0), 1);
  EXPECT_EQ(adam.step_count(1), 0);
  EXPECT_EQ(b.value().item(0), 1.0);
}

TEST(TrainAdam, TiedParametersHaveOneState) {
  Config c = train_test::tiny_config();
  c.tie_embeddings = true;
  c.tgt_vocab_size = c.src_vocab_size;
  Transformer model(c);
  Adam adam(model);
  EXPECT_EQ(adam.parameters().size(), model.parameters().size());
  EXPECT_LT(adam.parameters().size(), model.named_parameters().size());
  State state = adam.state_dict();
  EXPECT_TRUE(state.count("adam.m.src_embed.weight"));
  EXPECT_FALSE(state.count("adam.m.tgt_embed.weight"));
  EXPECT_FALSE(state.count("adam.m.generator.weight"));
  EXPECT_EQ(state.size(), 3 * adam.parameters().size());
}

TEST(TrainAdam, StateRoundTripsAndMismatchedStateIsRefused) {
  Var a(Tensor::from_vector<float>({1.f, 2.f}, {2}), true);
  Adam adam({{"a", &a}});
  set_grad(a, {0.5, -0.5});
  adam.step(0.1);
  State state = adam.state_dict();
  ASSERT_TRUE(state.count("adam.m.a") && state.count("adam.v.a") && state.count("adam.step.a"));
  EXPECT_EQ(state.at("adam.step.a").item(), 1.0);

  Var b(Tensor::from_vector<float>({1.f, 2.f}, {2}), true);
  Adam other({{"a", &b}});
  other.load_state_dict(state, "opt.safetensors");
  EXPECT_EQ(other.step_count(0), 1);
  EXPECT_TRUE(train_test::bitwise_equal(other.state_dict().at("adam.v.a"), state.at("adam.v.a")));

  State missing = state;
  missing.erase("adam.v.a");
  std::string msg = error_of([&] { other.load_state_dict(missing, "opt.safetensors"); });
  EXPECT_NE(msg.find("opt.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("adam.v.a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;

  State wrong_shape = state;
  wrong_shape["adam.m.a"] = Tensor::zeros({3});
  msg = error_of([&] { other.load_state_dict(wrong_shape, "opt.safetensors"); });
  EXPECT_NE(msg.find("adam.m.a"), std::string::npos) << msg;
  EXPECT_NE(msg.find("F32 (3), expected F32 (2)"), std::string::npos) << msg;

  State unknown = state;
  unknown["adam.m.b"] = Tensor::zeros({2});
  msg = error_of([&] { other.load_state_dict(unknown, "opt.safetensors"); });
  EXPECT_NE(msg.find("unknown optimizer state 'adam.m.b'"), std::string::npos) << msg;
  EXPECT_EQ(other.step_count(0), 1);  // a refused state changed nothing
}

TEST(TrainAdam, RefusesBadOptions) {
  Var a(Tensor::full({1}, 1.0), true);
  AdamOptions o;
  o.beta2 = 1.0;
  EXPECT_NE(error_of([&] { Adam adam({{"a", &a}}, o); }).find("beta2"), std::string::npos);
}

TEST(TrainClip, ReturnsTheNormAndScalesOnlyAboveTheLimit) {
  Var a(Tensor::zeros({2}), true), b(Tensor::zeros({1}), true), unused(Tensor::zeros({4}), true);
  set_grad(a, {3.0, 4.0});
  set_grad(b, {12.0});
  std::vector<Var*> params = {&a, &b, &unused};  // unused has no gradient: it counts as zero
  EXPECT_NEAR(grad_norm(params), 13.0, 1e-12);

  EXPECT_NEAR(clip_grad_norm(params, 100.0), 13.0, 1e-12);
  EXPECT_EQ(a.grad().item(0), 3.0);  // below the limit: untouched

  EXPECT_NEAR(clip_grad_norm(params, 6.5), 13.0, 1e-12);
  const double coef = 6.5 / (13.0 + 1e-6);  // torch.nn.utils.clip_grad_norm_
  EXPECT_NEAR(a.grad().item(0), 3.0 * coef, 1e-6);
  EXPECT_NEAR(a.grad().item(1), 4.0 * coef, 1e-6);
  EXPECT_NEAR(b.grad().item(0), 12.0 * coef, 1e-6);
  EXPECT_NEAR(grad_norm(params), 6.5, 1e-5);
  EXPECT_FALSE(unused.grad().defined());

  EXPECT_NE(error_of([&] { clip_grad_norm(params, 0.0); }).find("max_norm"), std::string::npos);
}

}  // namespace
}  // namespace tfm
