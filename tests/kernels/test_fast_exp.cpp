// fast_exp.h's vectorised exp, used by the softmaxes of inference: within 2 ulp of std::exp over
// the range where exp is a normal float, exactly 0 below it and for -inf, NaN for NaN; the
// inference softmax, the sums and the cross-entropy gradient's row against std::exp's, on
// lengths around the 16-lane vector.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "kernels/fast_exp.h"

namespace tfm::kernels {
namespace {

// Distance in units in the last place between two positive normal floats.
double ulps(float got, float want) {
  return std::abs(static_cast<double>(got) - static_cast<double>(want)) /
         (std::nextafter(want, std::numeric_limits<float>::infinity()) - want);
}

TEST(FastExp, WithinTwoUlpOfStdExp) {
  std::vector<float> x;
  for (float v = -87.f; v <= 88.f; v += 0.0137f) x.push_back(v);
  for (float v : {0.f, -0.f, 1.f, -1.f, 0.5f, -0.3465f, 0.3466f, 88.7f, -87.3f}) x.push_back(v);
  std::vector<float> y(x.size());
  exp_shifted(x.data(), static_cast<int64_t>(x.size()), 0.f, y.data());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float want = std::exp(x[i]);
    if (want < std::numeric_limits<float>::min()) continue;  // below the normal range
    worst = std::max(worst, ulps(y[i], want));
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(y[x.size() - 9], 1.f) << "exp(0)";
}

TEST(FastExp, ZeroBelowTheRangeNanForNan) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {-inf, -200.f, -104.f, std::nanf(""), 0.f};
  std::vector<float> y(x.size());
  exp_shifted(x.data(), 5, 0.f, y.data());
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[2], 0.f);
  EXPECT_TRUE(std::isnan(y[3]));
  EXPECT_EQ(y[4], 1.f);
}

TEST(FastExp, SoftmaxAndSumsMatchStdExp) {
  Rng rng(3);
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t n : {1, 7, 15, 16, 17, 31, 32, 33, 100, 8000}) {
    std::vector<float> x(n);
    for (auto& v : x) v = static_cast<float>(4 * rng.normal());
    if (n > 2) x[1] = -inf;  // a masked key
    float m = -inf;
    for (float v : x) m = std::max(m, v);
    double sum = 0;
    for (float v : x) sum += std::exp(static_cast<double>(v) - m);
    EXPECT_NEAR(sum_exp_shifted(x.data(), n, m), sum, 1e-6 * sum + 1e-6 * n) << "n " << n;
    std::vector<float> p(n);
    softmax_row_inference(x.data(), n, p.data());
    double worst = 0, total = 0;
    for (int64_t i = 0; i < n; ++i) {
      worst = std::max(worst, std::abs(p[i] - std::exp(static_cast<double>(x[i]) - m) / sum));
      total += p[i];
    }
    EXPECT_LE(worst, 1e-6) << "n " << n;
    EXPECT_NEAR(total, 1.0, 1e-5) << "n " << n;
    if (n > 2) {
      EXPECT_EQ(p[1], 0.f);
    }
  }
  std::vector<float> masked(5, -inf), p(5, 1.f);
  softmax_row_inference(masked.data(), 5, p.data());
  for (float v : p) EXPECT_EQ(v, 0.f) << "every key masked: attends to nothing";
}

// The cross-entropy gradient's row: a * (exp(x - shift) - b), written or added, and nothing
// past n touched (the masked tail of the last vector).
TEST(FastExp, ScaledExpWritesOrAddsExactlyTheRow) {
  Rng rng(4);
  for (int64_t n : {1, 15, 16, 17, 33, 8000})
    for (bool accumulate : {false, true}) {
      std::vector<float> x(n), y(n + 16, 0.25f);
      for (auto& v : x) v = static_cast<float>(3 * rng.normal());
      const float shift = 2.5f, a = -0.125f, b = 0.01f;
      scaled_exp_shifted(x.data(), n, shift, a, b, y.data(), accumulate);
      // Error budget in float epsilons: exp's 2 ulp, then one rounding each for the subtraction,
      // the product and the sum, each bounded by the magnitudes before cancellation.
      const double eps = std::numeric_limits<float>::epsilon();
      int64_t outside = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double e = std::exp(static_cast<double>(x[i]) - shift);
        const double want = (accumulate ? 0.25 : 0.0) + a * (e - b);
        const double budget = 4 * eps * (std::abs(a) * (e + b) + (accumulate ? 0.25 : 0.0));
        outside += std::abs(y[i] - want) > budget;
      }
      EXPECT_EQ(outside, 0) << "n " << n << " accumulate " << accumulate;
      for (int64_t i = n; i < n + 16; ++i) EXPECT_EQ(y[i], 0.25f) << "past the row: " << i;
    }
}

}  // namespace
}  // namespace tfm::kernels
