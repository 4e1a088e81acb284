// Relative positional self-attention (Music Transformer): the skewing procedure against Shaw et
// al.'s direct O(L^2 * dh) formulation, the whole op against a direct attention, and the layer
// against the PyTorch reference (tests/fixtures/relative/make_relative.py).
// (The kernel-level tests live here because this file is the relative attention's own.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops_relative.h"
#include "io/safetensors.h"
#include "kernels/relative_attention.h"
#include "nn/relative_attention.h"
#include "../autograd/gradcheck.h"

namespace tfm {
namespace {

std::vector<double> randn(int64_t n, Rng& rng) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = rng.normal();
  return v;
}

// Shaw et al.: for each (i, j), gather E[clip(j - i) + k] and dot it with q_i.
double direct_rel(const double* q, int64_t ldq, const double* E, int64_t k, int64_t dh, int64_t i,
                  int64_t j) {
  const int64_t r = std::clamp<int64_t>(j - i, -k, k) + k;
  double s = 0;
  for (int64_t c = 0; c < dh; ++c) s += q[i * ldq + c] * E[r * dh + c];
  return s;
}

// Masked and unmasked, with clipping (k < L - 1) and without (k >= L - 1), L from 1 to 40.
TEST(KernelsRelativeSkew, SkewingEqualsShawDirectFormulation) {
  const double tol = 1e-12;
  double worst = 0;
  int cases = 0;
  for (bool causal : {false, true})
    for (int64_t k : {0, 1, 3, 50})
      for (int64_t L : {1, 2, 5, 13, 40}) {
        for (bool half_table : {false, true}) {
          if (half_table && !causal) continue;
          const int64_t dh = 5, ldq = 7;  // q is a column block of a wider matrix
          const int64_t R = half_table ? k + 1 : 2 * k + 1;
          Rng rng(static_cast<uint64_t>(1000 * L + 10 * k + causal + 3 * half_table));
          std::vector<double> q = randn(L * ldq, rng), E = randn(R * dh, rng);
          std::vector<double> S(static_cast<size_t>(L * L), 0.0);
          std::vector<double> work(static_cast<size_t>(kernels::relative_window(L, causal) * dh +
                                                       kernels::relative_skew_buffer(L, causal)),
                                   std::numeric_limits<double>::quiet_NaN());  // any stale value would show
          kernels::relative_logits_skewed<double>(q.data(), ldq, E.data(), k, L, dh, causal, 1.0, 0.0,
                                                  S.data(), L, work.data());
          for (int64_t i = 0; i < L; ++i)
            for (int64_t j = 0; j < L; ++j) {
              if (causal && j > i) {
                EXPECT_EQ(S[i * L + j], 0.0) << "masked entry written";
                continue;
              }
              const double ref = direct_rel(q.data(), ldq, E.data(), k, dh, i, j);
              const double err = std::abs(S[i * L + j] - ref);
              worst = std::max(worst, err);
              ASSERT_LE(err, tol * (1 + std::abs(ref)))
                  << (causal ? "masked" : "unmasked") << " L=" << L << " k=" << k << " (" << i << ","
                  << j << "): skewed " << S[i * L + j] << " direct " << ref;
            }
          ++cases;
        }
      }
  std::printf("[skew vs direct] %d cases, max |diff| %.3g\n", cases, worst);
}

// The whole op (float64) against attention written out directly with Shaw's S_rel.
TEST(KernelsRelativeSkew, OpEqualsDirectAttentionWithPaddingMaskedAndUnmasked) {
  double worst = 0;
  for (bool causal : {false, true})
    for (int64_t k : {1, 2, 30}) {
      const int64_t B = 2, L = 9, H = 3, dh = 4, C = H * dh;
      const int64_t R = causal ? k + 1 : 2 * k + 1;
      Rng rng(static_cast<uint64_t>(70 + k + causal));
      Tensor q = testing::random_tensor({B * L, C}, rng), kt = testing::random_tensor({B * L, C}, rng);
      Tensor v = testing::random_tensor({B * L, C}, rng), E = testing::random_tensor({H, R, dh}, rng);
      std::vector<uint8_t> pad(B * L, 0);
      pad[2 * L - 1] = pad[2 * L - 2] = pad[2 * L - 3] = 1;
      ops::RelativeAttentionArgs a;
      a.B = B, a.L = L, a.H = H, a.dh = dh, a.max_distance = k, a.causal = causal, a.key_pad = &pad;
      Tensor y = ops::relative_attention(Var(q), Var(kt), Var(v), Var(E), a).value();
      const double sc = 1 / std::sqrt(double(dh));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t h = 0; h < H; ++h) {
          const double* Q = q.data<double>() + b * L * C + h * dh;
          const double* K = kt.data<double>() + b * L * C + h * dh;
          const double* V = v.data<double>() + b * L * C + h * dh;
          const double* Eh = E.data<double>() + h * R * dh;
          for (int64_t i = 0; i < L; ++i) {
            std::vector<double> s(L, -std::numeric_limits<double>::infinity());
            double mx = -std::numeric_limits<double>::infinity();
            for (int64_t j = 0; j < L; ++j) {
              if (pad[b * L + j] || (causal && j > i)) continue;
              double qk = 0;
              for (int64_t c = 0; c < dh; ++c) qk += Q[i * C + c] * K[j * C + c];
              s[j] = sc * (qk + direct_rel(Q, C, Eh, k, dh, i, j));
              mx = std::max(mx, s[j]);
            }
            double z = 0;
            for (double& x : s) z += (x = std::exp(x - mx));
            for (int64_t c = 0; c < dh; ++c) {
              double o = 0;
              for (int64_t j = 0; j < L; ++j) o += s[j] / z * V[j * C + c];
              const double err = std::abs(y.data<double>()[(b * L + i) * C + h * dh + c] - o);
              worst = std::max(worst, err);
              ASSERT_LE(err, 1e-12 * (1 + std::abs(o))) << "b " << b << " h " << h << " i " << i;
            }
          }
        }
    }
  std::printf("[op vs direct attention] max |diff| %.3g\n", worst);
}

// The KV-cache path: one new position at a time (and a block of 3 at the end) gives the rows of
// the full causal forward, with clipping (k = 2 < L = 11) and a padded key.
TEST(KernelsRelativeSkew, BlockForwardForTheKvCacheEqualsRowsOfTheFullForward) {
  const int64_t B = 2, L = 11, H = 2, dh = 3, k = 2, C = H * dh;
  double worst = 0;
  for (int64_t R : {k + 1, 2 * k + 1}) {
    Rng rng(static_cast<uint64_t>(90 + R));
    Tensor q = testing::random_tensor({B * L, C}, rng), kt = testing::random_tensor({B * L, C}, rng);
    Tensor v = testing::random_tensor({B * L, C}, rng), E = testing::random_tensor({H, R, dh}, rng);
    std::vector<uint8_t> pad(B * L, 0);
    pad[L + 4] = 1;  // a padded key in the middle of sequence 1 (every query still sees key 0)
    ops::RelativeAttentionArgs a;
    a.B = B, a.L = L, a.H = H, a.dh = dh, a.max_distance = k, a.causal = true, a.key_pad = &pad;
    Tensor full = ops::relative_attention(Var(q), Var(kt), Var(v), Var(E), a).value();
    const kernels::AttnLayout lkv{L * C, C};
    const double sc = 1 / std::sqrt(double(dh));
    for (int64_t Tq : {int64_t(1), int64_t(3)})
      for (int64_t Tk = Tq; Tk <= L; ++Tk) {
        const kernels::AttnDims d{B, H, Tq, Tk, dh};
        std::vector<double> out(static_cast<size_t>(B * Tq * C));
        std::vector<uint8_t> block_pad(B * Tk);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; j < Tk; ++j) block_pad[b * Tk + j] = pad[b * L + j];
        kernels::relative_attention_block_forward<double>(
            d, k, H, R, q.data<double>() + (Tk - Tq) * C, lkv, kt.data<double>(), lkv, v.data<double>(), lkv,
            E.data<double>(), block_pad.data(), sc, out.data(), {Tq * C, C});
        for (int64_t b = 0; b < B; ++b)
          for (int64_t i = 0; i < Tq; ++i)
            for (int64_t c = 0; c < C; ++c) {
              const double ref = full.data<double>()[(b * L + Tk - Tq + i) * C + c];
              const double err = std::abs(out[(b * Tq + i) * C + c] - ref);
              worst = std::max(worst, err);
              ASSERT_LE(err, 1e-12 * (1 + std::abs(ref))) << "R " << R << " Tq " << Tq << " Tk " << Tk;
            }
      }
  }
  std::printf("[kv-cache block vs full] max |diff| %.3g\n", worst);
}

TEST(NnRelativeAttention, ParametersAreNamedAndShapedForTheStateDict) {
  RelativeSelfAttention enc(12, 3, 4, false, 0.0, DType::F32);
  RelativeSelfAttention dec(12, 3, 4, true, 0.0, DType::F32);
  RelativeSelfAttention shared(12, 3, 4, false, 0.0, DType::F32, true);
  auto shapes = [](const Module& m) {
    std::map<std::string, std::string> s;
    for (auto& [name, t] : m.state_dict()) s[name] = shape_str(t.shape());
    return s;
  };
  std::map<std::string, std::string> want = {{"in_proj_weight", "(36, 12)"}, {"in_proj_bias", "(36)"},
                                             {"out_proj.weight", "(12, 12)"}, {"out_proj.bias", "(12)"},
                                             {"relative_embeddings", "(3, 9, 4)"}};
  EXPECT_EQ(shapes(enc), want);
  want["relative_embeddings"] = "(3, 5, 4)";
  EXPECT_EQ(shapes(dec), want);
  want["relative_embeddings"] = "(1, 9, 4)";
  EXPECT_EQ(shapes(shared), want);
}

// Clipping makes the table independent of the length: a layer with k = 3 runs on a sequence of
// 60 (the exactness at such lengths is the skew-vs-direct test's, L = 40 with k = 1 and 3).
TEST(NnRelativeAttention, RunsOnSequencesFarLongerThanTheClipDistance) {
  RelativeSelfAttention layer(8, 2, 3, true, 0.0, DType::F32);
  Rng rng(5);
  layer.init_relative_embeddings(rng);
  layer.in_proj_weight.value().copy_from(testing::random_tensor({24, 8}, rng, 0.3, DType::F32));
  layer.out_proj.weight.value().copy_from(testing::random_tensor({8, 8}, rng, 0.3, DType::F32));
  ForwardContext ctx;
  Var x(testing::random_tensor({1 * 60, 8}, rng, 1.0, DType::F32));
  Tensor y = layer.forward(x, 1, 60, nullptr, ctx).value();
  for (int64_t i = 0; i < y.numel(); ++i) ASSERT_TRUE(std::isfinite(y.item(i))) << i;
}

std::string fixture_path() { return std::string(TFM_SOURCE_DIR) + "/tests/fixtures/relative/relative.safetensors"; }

// Layer output and every gradient against PyTorch (make_relative.py: Huang et al.'s skewing
// with plain torch ops, float64), in float64 and float32. Tolerance fixed: 1e-5 + 1e-5 |ref|.
TEST(NnRelativeAttention, MatchesPyTorchReferenceOutputAndGradients) {
  std::map<std::string, std::string> meta;
  TensorMap fx = load_safetensors(fixture_path(), &meta);
  const double atol = 1e-5, rtol = 1e-5;
  std::string cases = meta.at("cases");
  int ncases = 0;
  for (size_t pos = 0; pos <= cases.size();) {
    size_t comma = std::min(cases.find(',', pos), cases.size());
    const std::string name = cases.substr(pos, comma - pos);
    pos = comma + 1;
    ++ncases;
    const int64_t H = std::stoll(meta.at(name + ".heads")), k = std::stoll(meta.at(name + ".max_distance"));
    const bool causal = meta.at(name + ".causal") == "1", shared = meta.at(name + ".shared_heads") == "1";
    const Tensor& x3 = fx.at(name + ".x");
    const int64_t B = x3.dim(0), L = x3.dim(1), C = x3.dim(2);
    std::vector<uint8_t> pad(static_cast<size_t>(B * L));
    for (int64_t i = 0; i < B * L; ++i) pad[i] = fx.at(name + ".key_pad").item(i) != 0;
    const std::vector<std::string> params = {"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias", "relative_embeddings"};
    for (DType dt : {DType::F64, DType::F32}) {
      RelativeSelfAttention layer(C, H, k, causal, 0.0, dt, shared);
      std::map<std::string, Tensor> sd;
      for (const auto& p : params) sd[p] = fx.at(name + "." + p);
      layer.load_state_dict(sd, fixture_path());
      Var x(x3.reshape({B * L, C}).to(dt), true);
      ForwardContext ctx;
      Var y = layer.forward(x, B, L, &pad, ctx);
      ops::weighted_sum(y, fx.at(name + ".probe").reshape({B * L, C}).to(dt)).backward();
      auto compare = [&](const char* what, const Tensor& got, const Tensor& ref) {
        ASSERT_EQ(got.numel(), ref.numel()) << name << " " << what;
        double worst = 0;
        for (int64_t i = 0; i < ref.numel(); ++i) {
          const double g = got.item(i), r = ref.item(i), err = std::abs(g - r);
          worst = std::max(worst, err);
          EXPECT_LE(err, atol + rtol * std::abs(r)) << name << " " << what << " element " << i << ": "
                                                    << g << " vs torch " << r;
        }
        std::printf("[torch parity] %-14s %s %-26s max |diff| %.3g\n", name.c_str(),
                    dt == DType::F64 ? "f64" : "f32", what, worst);
      };
      compare("out", y.value(), fx.at(name + ".out"));
      compare("grad x", x.grad(), fx.at(name + ".grad.x"));
      for (auto& [pname, var] : layer.named_parameters())
        compare(("grad " + pname).c_str(), var->grad(), fx.at(name + ".grad." + pname));
    }
  }
  EXPECT_EQ(ncases, 3);
}

}  // namespace
}  // namespace tfm
