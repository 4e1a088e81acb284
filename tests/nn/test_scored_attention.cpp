// ScoredAttention against the PyTorch reference (tests/fixtures/scores/make_scores.py): for every
// score kind, self-attention (causal, key padding) and cross-attention (memory padding), the
// outputs, the attention weights and the gradients of every input and parameter, in float64 and
// float32. Tolerance, fixed before the first run: |ours - ref| <= 1e-5 + 1e-5 |ref|.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "autograd/ops_scores.h"
#include "io/safetensors.h"
#include "nn/scored_attention.h"

namespace tfm {
namespace {

constexpr int64_t B = 2, TQ = 4, TK = 5, C = 8, H = 2, DA = 3;
constexpr double kAtol = 1e-5, kRtol = 1e-5;

const TensorMap& fixture() {
  static const TensorMap m =
      load_safetensors(std::string(TFM_SOURCE_DIR) + "/tests/fixtures/scores/scores.safetensors");
  return m;
}

const Tensor& at(const std::string& name) {
  auto it = fixture().find(name);
  if (it == fixture().end()) throw std::runtime_error("fixture has no tensor " + name);
  return it->second;
}

std::vector<uint8_t> mask_of(const Tensor& t) {
  std::vector<uint8_t> m(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) m[i] = t.item(i) != 0;
  return m;
}

// Largest |ours - ref| (into worst) and of |ours - ref| / (atol + rtol |ref|) (into worst_ratio,
// the share of the tolerance used); every element must be within atol + rtol |ref|.
double worst_ratio = 0;
double compare(const std::string& what, const Tensor& ours, const Tensor& ref, double& worst) {
  EXPECT_EQ(ours.numel(), ref.numel()) << what;
  double max_diff = 0;
  int64_t bad = 0;
  for (int64_t i = 0; i < std::min(ours.numel(), ref.numel()); ++i) {
    const double d = std::abs(ours.item(i) - ref.item(i));
    max_diff = std::max(max_diff, d);
    worst_ratio = std::max(worst_ratio, d / (kAtol + kRtol * std::abs(ref.item(i))));
    if (!(d <= kAtol + kRtol * std::abs(ref.item(i)))) ++bad;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " elements out of tolerance, max |diff| " << max_diff;
  worst = std::max(worst, max_diff);
  return max_diff;
}

void check_kind(const std::string& name, DType dt) {
  const AttentionKind kind = parse_attention_kind(name);
  ScoredAttention attn(C, H, 0.0, dt, kind, DA);
  TensorMap state;
  for (auto& [n, v] : attn.named_parameters()) state[n] = at(n);
  attn.load_state_dict(state, "scores.safetensors");

  Var x(at("x").reshape({B * TQ, C}).to(dt), true);
  Var memory(at("memory").reshape({B * TK, C}).to(dt), true);
  const std::vector<uint8_t> x_pad = mask_of(at("x_pad")), mem_pad = mask_of(at("memory_pad"));
  ForwardContext ctx;
  Tensor ws, wc;
  Var ys = attn.self_attention(x, B, TQ, &x_pad, true, ctx, &ws);
  Var yc = attn.cross_attention(x, memory, B, TQ, TK, &mem_pad, ctx, &wc);
  Var loss = ops::add(ops::weighted_sum(ys, at("probe_self").reshape({B * TQ, C}).to(dt)),
                      ops::weighted_sum(yc, at("probe_cross").reshape({B * TQ, C}).to(dt)));
  loss.backward();

  double out_diff = 0, w_diff = 0, g_diff = 0;
  worst_ratio = 0;
  compare("self out", ys.value(), at(name + ".self.out"), out_diff);
  compare("cross out", yc.value(), at(name + ".cross.out"), out_diff);
  compare("self weights", ws, at(name + ".self.weights"), w_diff);
  compare("cross weights", wc, at(name + ".cross.weights"), w_diff);
  compare("grad x", x.grad(), at(name + ".grad.x"), g_diff);
  compare("grad memory", memory.grad(), at(name + ".grad.memory"), g_diff);
  int64_t grads = 2;
  for (auto& [n, v] : attn.named_parameters()) {
    compare("grad " + n, v->grad(), at(name + ".grad." + n), g_diff);
    ++grads;
  }
  std::printf("[scores parity] %-10s %s: max |diff| out %.3g, weights %.3g, %lld gradients %.3g "
              "(%.0f%% of the tolerance)\n",
              name.c_str(), dt == DType::F64 ? "f64" : "f32", out_diff, w_diff,
              static_cast<long long>(grads), g_diff, 100 * worst_ratio);
}

TEST(NnScoredAttention, ScaledDotMatchesPyTorch) {
  check_kind("scaled_dot", DType::F64);
  check_kind("scaled_dot", DType::F32);
}
TEST(NnScoredAttention, DotMatchesPyTorch) {
  check_kind("dot", DType::F64);
  check_kind("dot", DType::F32);
}
TEST(NnScoredAttention, AdditiveMatchesPyTorch) {
  check_kind("additive", DType::F64);
  check_kind("additive", DType::F32);
}
TEST(NnScoredAttention, CosineMatchesPyTorch) {
  check_kind("cosine", DType::F64);
  check_kind("cosine", DType::F32);
}

TEST(NnScoredAttention, ScaledDotHasMultiheadAttentionsParameterNames) {
  ScoredAttention a(C, H, 0.0, DType::F32, AttentionKind::ScaledDot);
  std::vector<std::string> names;
  for (auto& [n, v] : a.named_parameters()) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias"}));
  ScoredAttention add(C, H, 0.0, DType::F32, AttentionKind::Additive, DA);
  EXPECT_EQ(add.score_w1.shape(), (Shape{H * DA, C / H}));
  EXPECT_EQ(add.score_v.shape(), (Shape{H, DA}));
  ScoredAttention cos(C, H, 0.0, DType::F32, AttentionKind::Cosine);
  // beta = softplus(beta_raw) starts at sqrt(dh)
  EXPECT_NEAR(std::log1p(std::exp(cos.score_beta_raw.value().item(0))), std::sqrt(C / H), 1e-6);
}

TEST(NnScoredAttention, KindNamesRoundTripAndUnknownIsAnError) {
  for (const char* n : {"scaled_dot", "dot", "additive", "cosine"})
    EXPECT_STREQ(attention_kind_name(parse_attention_kind(n)), n);
  try {
    parse_attention_kind("bilinear");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown attention kind \"bilinear\" (expected scaled_dot, "
                                         "dot, additive or cosine)"),
              std::string::npos)
        << e.what();
  }
}

// Dropout in training mode: same seed, same output; the weights stay the pre-dropout ones.
TEST(NnScoredAttention, DropoutIsReproducibleAndLeavesWeightsUnchanged) {
  for (AttentionKind kind : {AttentionKind::Additive, AttentionKind::Cosine}) {
    ScoredAttention attn(C, H, 0.3, DType::F64, kind, DA);
    TensorMap state;
    for (auto& [n, v] : attn.named_parameters()) state[n] = at(n);
    attn.load_state_dict(state, "scores.safetensors");
    Var x(at("x").reshape({B * TQ, C}).to(DType::F64));
    auto run = [&](bool training, Tensor* w) {
      Rng rng(5);
      ForwardContext ctx{training, &rng};
      return attn.self_attention(x, B, TQ, nullptr, true, ctx, w).value();
    };
    Tensor w1, w2, w0;
    Tensor a = run(true, &w1), b = run(true, &w2), eval = run(false, &w0);
    double same = 0, differs = 0;
    for (int64_t i = 0; i < a.numel(); ++i) {
      same = std::max(same, std::abs(a.item(i) - b.item(i)));
      differs = std::max(differs, std::abs(a.item(i) - eval.item(i)));
    }
    EXPECT_EQ(same, 0.0) << attention_kind_name(kind);
    EXPECT_GT(differs, 1e-3) << attention_kind_name(kind);
    for (int64_t i = 0; i < w0.numel(); ++i) EXPECT_EQ(w1.item(i), w0.item(i));
  }
}

}  // namespace
}  // namespace tfm
