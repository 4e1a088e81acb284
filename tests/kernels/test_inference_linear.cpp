// Linear layers with prepared inference weights: packed fp32 against the plain product, the int8
// quantization rule, int8 against the exact product of the quantized values computed here in
// double, and when ops::linear takes these paths (only inside an InferenceLinears, only without
// gradients).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/ops.h"
#include "autograd/var.h"
#include "core/error.h"
#include "core/rng.h"
#include "kernels/inference_linear.h"

namespace tfm::kernels {
namespace {

TEST(Int8, QuantizeRoundsToNearestEvenAndClamps) {
  EXPECT_EQ(quantize_int8(0.f, 1.f), 0);
  EXPECT_EQ(quantize_int8(2.4f, 1.f), 2);
  EXPECT_EQ(quantize_int8(2.5f, 1.f), 2);
  EXPECT_EQ(quantize_int8(3.5f, 1.f), 4);
  EXPECT_EQ(quantize_int8(-2.6f, 1.f), -3);
  EXPECT_EQ(quantize_int8(1000.f, 1.f), 127);
  EXPECT_EQ(quantize_int8(-1000.f, 1.f), -127);  // symmetric: -128 is never used
  EXPECT_EQ(quantize_int8(0.5f, 254.f), 127);
}

// The int8 result by the rule of kernels/inference_linear.h, in double.
std::vector<double> reference(const std::vector<float>& x, int64_t N, int64_t C, const std::vector<float>& W,
                              int64_t OC, const std::vector<float>& b) {
  auto scales = [](const float* v, int64_t rows, int64_t cols) {
    std::vector<float> s(rows);
    for (int64_t r = 0; r < rows; ++r) {
      float amax = 0.f;
      for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::abs(v[r * cols + c]));
      s[r] = amax > 0.f ? amax / 127.f : 1.f;
    }
    return s;
  };
  const auto sx = scales(x.data(), N, C), sw = scales(W.data(), OC, C);
  std::vector<double> y(N * OC);
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < OC; ++j) {
      int64_t acc = 0;
      for (int64_t k = 0; k < C; ++k)
        acc += int64_t{quantize_int8(x[i * C + k], 1.f / sx[i])} * quantize_int8(W[j * C + k], 1.f / sw[j]);
      y[i * OC + j] = double(sx[i]) * sw[j] * acc + b[j];
    }
  return y;
}

std::vector<float> random(Rng& rng, int64_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(scale * rng.normal());
  return v;
}

TEST(Int8, LinearEqualsTheExactProductOfTheQuantizedValues) {
  if (!int8_supported()) GTEST_SKIP() << "no VNNI on this CPU";
  InferenceLinears on(LinearPrecision::INT8);
  Rng rng(4);
  const int64_t C = 96, OC = 70;
  const auto W = random(rng, OC * C, 0.1), b = random(rng, OC);
  // Several batch sizes against the same weights (quantized once, reused), a zero row, and a
  // row with one large value (its scale is its own).
  // 500 rows: N x OC is above the size at which quantization and scaling run on all threads.
  for (const int64_t N : {1, 5, 64, 33, 500}) {
    SCOPED_TRACE(testing::Message() << "N " << N);
    auto x = random(rng, N * C);
    if (N > 2) {
      std::fill(x.begin() + C, x.begin() + 2 * C, 0.f);
      x[2 * C + 7] = 50.f;
    }
    std::vector<float> y(N * OC);
    inference_linear(x.data(), N, C, W.data(), OC, b.data(), y.data());
    const auto ref = reference(x, N, C, W, OC, b);
    double worst = 0;
    for (int64_t i = 0; i < N * OC; ++i) worst = std::max(worst, std::abs(y[i] - ref[i]) / (1 + std::abs(ref[i])));
    EXPECT_LT(worst, 1e-5);  // int32 accumulation is exact; what remains is fp32 rounding of the scaling
    if (N > 2) {
      for (int64_t j = 0; j < OC; ++j) EXPECT_FLOAT_EQ(y[OC + j], b[j]) << "a zero row gives the bias";
    }
  }
}

TEST(Int8, LinearIsCloseToFp32) {
  if (!int8_supported()) GTEST_SKIP() << "no VNNI on this CPU";
  Rng rng(5);
  const int64_t N = 40, C = 256, OC = 128;
  const auto x = random(rng, N * C), W = random(rng, OC * C, 0.05), b = random(rng, OC, 0.1);
  std::vector<float> y(N * OC);
  {
    InferenceLinears on(LinearPrecision::INT8);
    inference_linear(x.data(), N, C, W.data(), OC, b.data(), y.data());
  }
  double err = 0, norm = 0;
  for (int64_t i = 0; i < N; ++i)
    for (int64_t j = 0; j < OC; ++j) {
      double s = b[j];
      for (int64_t k = 0; k < C; ++k) s += double(x[i * C + k]) * W[j * C + k];
      err += (y[i * OC + j] - s) * (y[i * OC + j] - s);
      norm += s * s;
    }
  // Two 8-bit roundings of Gaussian data: a relative error of about 1%, far from 0 and from 1.
  const double rel = std::sqrt(err / norm);
  EXPECT_LT(rel, 0.03);
  EXPECT_GT(rel, 1e-4) << "int8 gave fp32's numbers: the quantized path was not taken";
}

// The largest error of y (N, OC at stride ldy) against x W^T + b summed in double, relative to
// the sum of the terms' magnitudes.
double worst_relative_error(const std::vector<float>& x, int64_t N, int64_t C, const std::vector<float>& W,
                            int64_t OC, const std::vector<float>& b, const std::vector<float>& y, int64_t ldy) {
  double worst = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < OC; ++o) {
      double s = b[o], mag = std::abs(b[o]);
      for (int64_t c = 0; c < C; ++c) {
        s += double(x[n * C + c]) * W[o * C + c];
        mag += std::abs(double(x[n * C + c]) * W[o * C + c]);
      }
      worst = std::max(worst, std::abs(y[n * ldy + o] - s) / mag);
    }
  return worst;
}

TEST(PackedFp32, EqualsThePlainProductAtEveryBatchSize) {
  Rng rng(7);
  InferenceLinears on(LinearPrecision::FP32);
  EXPECT_EQ(inference_linears_precision(), LinearPrecision::FP32);
  // Below 4 rows the matrix-vector loop (C = 200: a tail after the vector loop; 256 x 300: large
  // enough to split over the threads); from 4 on the packed primitive, one per batch size, one
  // packing. OC = 512: where oneDNN keeps the weights plain (CPUs without AVX-512), rows 2 KiB
  // apart, which are stored 16 floats longer.
  for (const auto& [C, OC] : {std::pair<int64_t, int64_t>{200, 150}, {256, 300}, {48, 512}}) {
    const auto W = random(rng, OC * C, 0.1), b = random(rng, OC);
    for (const int64_t N : {1, 3, 4, 64, 33, 64}) {
      SCOPED_TRACE(testing::Message() << "C " << C << " OC " << OC << " N " << N);
      const auto x = random(rng, N * C);
      std::vector<float> y(N * OC);
      inference_linear(x.data(), N, C, W.data(), OC, b.data(), y.data());
      EXPECT_LT(worst_relative_error(x, N, C, W, OC, b, y, OC), 1e-6);  // fp32 sums of C terms, in some order
    }
  }
}

// The few-rows kernel (CPUs with AVX2 and without AVX-512): every output is the fp32 chain
// acc = fma(x[n, c], W[o, c], acc) over c in order from 0, then acc + b[o], to the last bit, for
// every row count it takes (a 6-row tile and each remainder, 1 to 5, after it), C across and off
// its 256-float blocks (40, 256, 600), OC a multiple of 16 or not (the last panel partial), with
// and without a bias, and on one thread or two.
TEST(FewRowsPanels, EachOutputIsOneFmaChainInOrderThenTheBias) {
  if (!few_rows_panels_available()) GTEST_SKIP() << "this build uses oneDNN for products of a few rows";
  Rng rng(13);
  InferenceLinears on(LinearPrecision::FP32);
  for (const auto& [C, OC] : {std::pair<int64_t, int64_t>{40, 21}, {256, 512}, {600, 150}}) {
    const auto W = random(rng, OC * C, 0.1), b = random(rng, OC);
    for (const int64_t N : std::vector<int64_t>{4, 5, 6, 7, 8, 9, 10, 11, 13, 24, kPanelRowsMax}) {
      for (const bool bias : {true, false}) {
        SCOPED_TRACE(testing::Message() << "C " << C << " OC " << OC << " N " << N << " bias " << bias);
        const auto x = random(rng, N * C);
        std::vector<float> y(N * OC, -1.f);
        inference_linear(x.data(), N, C, W.data(), OC, bias ? b.data() : nullptr, y.data());
        int64_t wrong = 0;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t o = 0; o < OC; ++o) {
            float acc = 0.f;
            for (int64_t c = 0; c < C; ++c) acc = std::fma(x[n * C + c], W[o * C + c], acc);
            if (bias) acc += b[o];
            wrong += std::memcmp(&acc, &y[n * OC + o], sizeof acc) != 0;
          }
        EXPECT_EQ(wrong, 0) << "of " << N * OC << " outputs";
      }
    }
  }
  // The same bits on one thread (the panels split over two above when the product is large).
  const int64_t C = 256, OC = 512, N = 24;
  const auto W = random(rng, OC * C, 0.1), b = random(rng, OC), x = random(rng, N * C);
  std::vector<float> two(N * OC), one(N * OC);
  inference_linear(x.data(), N, C, W.data(), OC, b.data(), two.data());
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  inference_linear(x.data(), N, C, W.data(), OC, b.data(), one.data());
  omp_set_num_threads(threads);
  EXPECT_EQ(0, std::memcmp(one.data(), two.data(), one.size() * sizeof(float)));
}

// The fused decoding step and the general one both run matrix_vector_rows on their threads'
// blocks of rows, and must agree to the last bit; a kernel that blocked rows (tried: four at a
// time) must keep it so. Each output must not depend on the range it was computed in: one call
// over all rows, calls over ranges that start off the block of four, and one call per row give the
// same bits (C = 77: a 32-float loop, a 16-float step and a scalar tail). Also close to the
// product in double, with the bias, written at stride ldy.
TEST(MatrixVectorRows, EveryRowTheSameBitsWhateverTheRangeAndCloseToExact) {
  Rng rng(11);
  for (const int64_t C : {77, 256, 8}) {
    const int64_t OC = 23, ldy = OC + 5;
    const auto W = random(rng, OC * C, 0.1), b = random(rng, OC);
    for (const int64_t N : {1, 2, 3}) {
      SCOPED_TRACE(testing::Message() << "C " << C << " N " << N);
      const auto x = random(rng, N * C);
      std::vector<float> whole(N * ldy, -1.f), pieces(N * ldy, -1.f), single(N * ldy, -1.f);
      matrix_vector_rows(x.data(), N, C, W.data(), 0, OC, b.data(), whole.data(), ldy);
      for (const auto& [o0, o1] : {std::pair<int64_t, int64_t>{0, 3}, {3, 10}, {10, 11}, {11, 23}})
        matrix_vector_rows(x.data(), N, C, W.data(), o0, o1, b.data(), pieces.data(), ldy);
      for (int64_t o = 0; o < OC; ++o) matrix_vector_rows(x.data(), N, C, W.data(), o, o + 1, b.data(), single.data(), ldy);
      EXPECT_EQ(0, std::memcmp(whole.data(), pieces.data(), whole.size() * sizeof(float)));
      EXPECT_EQ(0, std::memcmp(whole.data(), single.data(), whole.size() * sizeof(float)));
      for (int64_t n = 0; n < N; ++n)
        for (int64_t o = OC; o < ldy; ++o) EXPECT_EQ(whole[n * ldy + o], -1.f) << "wrote past its rows";
      EXPECT_LT(worst_relative_error(x, N, C, W, OC, b, whole, ldy), 1e-6);  // fp32 sums of C terms
    }
  }
}

TEST(Int8, OpsLinearUsesItOnlyInsideTheScopeAndWithoutGradients) {
  if (!int8_supported()) GTEST_SKIP() << "no VNNI on this CPU";
  Rng rng(6);
  const int64_t N = 8, C = 48, OC = 40;
  const Var x(Tensor::from_vector(random(rng, N * C), {N, C}));
  const Var W(Tensor::from_vector(random(rng, OC * C, 0.1), {OC, C}), true);
  const Var b(Tensor::from_vector(random(rng, OC), {OC}), true);
  auto values = [](const Var& v) {
    const float* p = v.value().data<float>();
    return std::vector<float>(p, p + v.value().numel());
  };
  std::vector<float> fp32, no_grad_fp32, in_scope_grad, in_scope_no_grad;
  fp32 = values(ops::linear(x, W, b));
  {
    NoGradGuard g;
    no_grad_fp32 = values(ops::linear(x, W, b));
  }
  {
    InferenceLinears on(LinearPrecision::INT8);
    EXPECT_TRUE(inference_linears_active());
    EXPECT_THROW(InferenceLinears again(LinearPrecision::FP32), Error);
    const Var y = ops::linear(x, W, b);
    in_scope_grad = values(y);
    EXPECT_TRUE(y.requires_grad()) << "with gradients the fp32 op (and its backward) is used";
    NoGradGuard g;
    in_scope_no_grad = values(ops::linear(x, W, b, 8, 40));  // a row range, as fused QKV uses
    std::vector<float> direct((OC - 8) * N);
    inference_linear(x.value().data<float>(), N, C, W.value().data<float>() + 8 * C, OC - 8,
                b.value().data<float>() + 8, direct.data());
    EXPECT_EQ(in_scope_no_grad, direct);
  }
  EXPECT_FALSE(inference_linears_active());
  EXPECT_EQ(no_grad_fp32, fp32);
  EXPECT_EQ(in_scope_grad, fp32);
}

}  // namespace
}  // namespace tfm::kernels
