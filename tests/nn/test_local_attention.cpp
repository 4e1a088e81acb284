// Local self-attention (Image Transformer): the block kernels against the existing full attention
// kernel run under the equivalent explicit n x n mask, forward and backward, 1D and 2D, masked
// and unmasked, lengths that are not multiples of the block, with key padding, in float64; and
// the layer against full multi-head attention when the blocks cover the whole sequence.
// (The kernel-level tests live here because this file is local attention's own.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops_local.h"
#include "kernels/attention.h"
#include "kernels/local_attention.h"
#include "nn/local_attention.h"
#include "nn/scored_attention.h"
#include "../autograd/gradcheck.h"

namespace tfm {
namespace {

using kernels::AttnDims;
using kernels::AttnLayout;
using kernels::LocalPattern;

std::vector<double> randn(int64_t n, Rng& rng) {
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = rng.normal();
  return v;
}

// The local pattern written from the paper's description, independently of the kernel's block
// enumeration: may query i see key j?
bool reference_allowed(const LocalPattern& p, int64_t i, int64_t j) {
  if (p.causal && j > i) return false;
  const int64_t qr = i / p.width, qc = i % p.width, kr = j / p.width, kc = j % p.width;
  // the query's block: rows [top, top + block_h), columns [left, left + block_w)
  const int64_t top = qr - qr % p.block_h, left = qc - qc % p.block_w;
  const bool rows_ok = kr >= top - p.flange_top && kr < top + p.block_h;
  const bool cols_ok = kc >= left - p.flange_left && kc < left + p.block_w + p.flange_right;
  return rows_ok && cols_ok;
}

struct Case {
  std::string name;
  LocalPattern p;
};

std::vector<Case> cases() {
  return {
      {"1D n=11 lq=4 lm=3", kernels::local_pattern_1d(11, 4, 3, false)},
      {"1D masked n=11 lq=4 lm=3", kernels::local_pattern_1d(11, 4, 3, true)},
      {"1D n=7 lq=3 lm=0", kernels::local_pattern_1d(7, 3, 0, false)},
      {"1D masked n=13 lq=5 lm=7", kernels::local_pattern_1d(13, 5, 7, true)},
      {"1D n=5 lq=8 lm=2 (block > n)", kernels::local_pattern_1d(5, 8, 2, false)},
      {"2D 5x7 q2x3 f1,2", kernels::local_pattern_2d(5, 7, 2, 3, 1, 2, false)},
      {"2D masked 5x7 q2x3 f1,2", kernels::local_pattern_2d(5, 7, 2, 3, 1, 2, true)},
      {"2D 4x6 q3x4 f0,0", kernels::local_pattern_2d(4, 6, 3, 4, 0, 0, false)},
      {"2D masked 6x5 q2x2 f2,1", kernels::local_pattern_2d(6, 5, 2, 2, 2, 1, true)},
  };
}

TEST(KernelsLocalAttention, PatternIsTheQueryBlockPlusItsFlange) {
  for (const Case& c : cases())
    for (int64_t i = 0; i < c.p.length(); ++i)
      for (int64_t j = 0; j < c.p.length(); ++j)
        ASSERT_EQ(kernels::local_allowed(c.p, i, j), reference_allowed(c.p, i, j))
            << c.name << " query " << i << " key " << j;
  // The paper's 1D form: query 9 of blocks of 4 (block [8, 12)) with l_m = 3 sees keys 5..11.
  const LocalPattern p = kernels::local_pattern_1d(12, 4, 3, false);
  for (int64_t j = 0; j < 12; ++j) EXPECT_EQ(kernels::local_allowed(p, 9, j), j >= 5) << j;
}

// Full attention (kernels/attention.h) under the explicit n x n mask. The kernel takes a key
// mask per sequence, so each sequence b runs as n one-query sequences: sequence i is a copy of b
// holding query i, and its key mask is row i of the n x n mask, mask[i][j] = !allowed(i, j) ||
// pad[b, j]. (Copies, not a stride of 0, so the backward's per-sequence gradients never
// overlap; they are summed afterwards.) Forward and backward.
void full_attention_masked(const LocalPattern& p, int64_t B, int64_t H, int64_t dh, const double* qkv,
                           const uint8_t* pad, const double* dout, double* out, double* dqkv) {
  const int64_t n = p.length(), C = H * dh, W = 3 * C;
  const AttnDims d{n, H, 1, n, dh};
  const AttnLayout lkv{n * W, W}, lq{(n + 1) * W, W}, lo{C, C};  // query i is row i of copy i
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  std::vector<uint8_t> mask(static_cast<size_t>(n * n));
  std::vector<double> copies(static_cast<size_t>(n * n * W)), dcopies(copies.size());
  std::vector<double> probs(static_cast<size_t>(n * H * n));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) mask[i * n + j] = !reference_allowed(p, i, j) || (pad && pad[b * n + j]);
    for (int64_t i = 0; i < n; ++i) std::copy(qkv + b * n * W, qkv + (b + 1) * n * W, copies.begin() + i * n * W);
    std::fill(dcopies.begin(), dcopies.end(), 0.0);
    const double* x = copies.data();
    double* dx = dcopies.data();
    kernels::attention_forward<double>(d, x, lq, x + C, lkv, x + 2 * C, lkv, mask.data(), false, scale,
                                       0.0, 0, probs.data(), nullptr, out + b * n * C, lo);
    kernels::attention_backward<double>(d, x, lq, x + C, lkv, x + 2 * C, lkv, probs.data(), nullptr,
                                        0.0, scale, dout + b * n * C, lo, dx, dx + C, dx + 2 * C);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t e = 0; e < n * W; ++e) dqkv[b * n * W + e] += dcopies[i * n * W + e];
  }
}

TEST(KernelsLocalAttention, EqualsFullAttentionUnderTheExplicitLocalMask) {
  const double atol = 1e-13, rtol = 1e-12;
  double worst_out = 0, worst_grad = 0;
  for (const Case& c : cases())
    for (bool with_pad : {false, true}) {
      const LocalPattern& p = c.p;
      const int64_t B = 2, H = 2, dh = 3, C = H * dh, n = p.length();
      Rng rng(static_cast<uint64_t>(17 * n + with_pad));
      std::vector<double> qkv = randn(B * n * 3 * C, rng), dout = randn(B * n * C, rng);
      std::vector<uint8_t> pad(static_cast<size_t>(B * n), 0);
      if (with_pad)  // the second sequence ends in 3 padding positions
        for (int64_t j = n - 3; j < n; ++j) pad[n + j] = 1;
      std::vector<double> out(static_cast<size_t>(B * n * C)), ref_out(out.size());
      std::vector<double> dqkv(qkv.size(), 0.0), ref_dqkv(qkv.size(), 0.0);
      std::vector<double> probs(static_cast<size_t>(B * H * kernels::local_probs_per_head(p)));
      const AttnLayout lx{n * 3 * C, 3 * C}, lo{n * C, C};
      const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
      const uint8_t* pd = with_pad ? pad.data() : nullptr;
      kernels::local_attention_forward<double>(p, B, H, dh, qkv.data(), lx, qkv.data() + C, lx,
                                               qkv.data() + 2 * C, lx, pd, scale, 0.0, 0, probs.data(),
                                               nullptr, out.data(), lo);
      kernels::local_attention_backward<double>(p, B, H, dh, qkv.data(), lx, qkv.data() + C, lx,
                                                qkv.data() + 2 * C, lx, probs.data(), nullptr, 0.0, scale,
                                                dout.data(), lo, dqkv.data(), dqkv.data() + C,
                                                dqkv.data() + 2 * C);
      full_attention_masked(p, B, H, dh, qkv.data(), pd, dout.data(), ref_out.data(), ref_dqkv.data());
      for (size_t e = 0; e < out.size(); ++e) {
        const double err = std::abs(out[e] - ref_out[e]);
        worst_out = std::max(worst_out, err);
        ASSERT_LE(err, atol + rtol * std::abs(ref_out[e]))
            << c.name << (with_pad ? " padded" : "") << " out[" << e << "]: local " << out[e]
            << " full " << ref_out[e];
      }
      for (size_t e = 0; e < dqkv.size(); ++e) {
        const double err = std::abs(dqkv[e] - ref_dqkv[e]);
        worst_grad = std::max(worst_grad, err);
        ASSERT_LE(err, atol + rtol * std::abs(ref_dqkv[e]))
            << c.name << (with_pad ? " padded" : "") << " dqkv[" << e << "]: local " << dqkv[e]
            << " full " << ref_dqkv[e];
      }
    }
  std::printf("[local vs full masked] %zu patterns x {no pad, pad}: max |diff| out %.3g, grad %.3g\n",
              cases().size(), worst_out, worst_grad);
}

// Blocks that cover the whole sequence are full attention: the layer equals ScoredAttention
// (scaled_dot) with the same state_dict, causal or not.
TEST(NnLocalAttention, WholeSequenceBlockEqualsFullMultiHeadAttention) {
  const int64_t B = 2, T = 9, d = 8, H = 2;
  for (bool masked : {false, true})
    for (bool two_d : {false, true}) {
      LocalAttentionOptions o;
      o.masked = masked, o.two_d = two_d;
      o.query_block = T, o.memory_flange = 0;
      o.image_width = 3, o.block_h = 3, o.block_w = 3;
      LocalSelfAttention local(d, H, o, 0.0, DType::F64);
      ScoredAttention full(d, H, 0.0, DType::F64, AttentionKind::ScaledDot);
      Rng rng(5);
      for (auto& [name, v] : full.named_parameters())
        v->value().copy_from(testing::random_tensor(v->shape(), rng, 0.5));
      local.load_state_dict(full.state_dict(), "test");
      Var x(testing::random_tensor({B * T, d}, rng), false);
      std::vector<uint8_t> pad(static_cast<size_t>(B * T), 0);
      pad[B * T - 1] = pad[B * T - 2] = 1;
      ForwardContext ctx;
      Tensor a = local.forward(x, B, T, &pad, ctx).value();
      Tensor b = full.self_attention(x, B, T, &pad, masked, ctx).value();
      double worst = 0;
      for (int64_t e = 0; e < a.numel(); ++e) worst = std::max(worst, std::abs(a.item(e) - b.item(e)));
      std::printf("[local layer vs full layer] %s %s: max |diff| %.3g\n", two_d ? "2D" : "1D",
                  masked ? "masked" : "unmasked", worst);
      EXPECT_LE(worst, 1e-12);
    }
}

TEST(NnLocalAttention, StateDictNamesAreMultiheadAttentions) {
  LocalAttentionOptions o;
  o.query_block = 4, o.memory_flange = 4;
  LocalSelfAttention layer(8, 2, o, 0.0, DType::F32);
  std::vector<std::string> names;
  for (auto& [name, v] : layer.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias"}));
}

TEST(NnLocalAttention, BadOptionsAreNamed) {
  LocalAttentionOptions o;
  o.query_block = 0;
  try {
    LocalSelfAttention layer(8, 2, o, 0.0, DType::F32);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1D local attention needs query_block > 0"), std::string::npos) << e.what();
  }
  o.two_d = true, o.image_width = 4, o.block_h = 2, o.block_w = 2;
  LocalSelfAttention layer(8, 2, o, 0.0, DType::F32);
  Var x(Tensor::zeros({10, 8}, DType::F32), false);
  ForwardContext ctx;
  try {
    layer.forward(x, 1, 10, nullptr, ctx);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a sequence of 10 positions is not whole rows of image_width 4"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tfm
