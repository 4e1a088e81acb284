// Dropout's forward kernel against the one mask rule (kernels/dropout_mask.h), element by
// element: the 16-at-a-time AVX-512 path (where built), its scalar tail and its threaded path
// must keep exactly the elements dropout_keep keeps and scale them exactly as x / (1 - p).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "kernels/dropout_mask.h"
#include "kernels/elementwise.h"

namespace tfm::kernels {
namespace {

void check(int64_t n, double p, uint64_t seed) {
  Rng rng(seed ^ static_cast<uint64_t>(n));
  std::vector<float> x(n), y(n, -1.f);
  std::vector<uint8_t> mask(n, 7);
  for (auto& v : x) v = static_cast<float>(rng.normal());
  dropout_forward<float>(x.data(), n, p, seed, y.data(), mask.data());
  const uint64_t thr = dropout_threshold(p);
  const float inv_keep = static_cast<float>(1.0 / (1.0 - p));
  int64_t wrong_mask = 0, wrong_y = 0, kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool keep = dropout_keep(seed, static_cast<uint64_t>(i), thr);
    kept += keep;
    wrong_mask += mask[i] != (keep ? 1 : 0);
    wrong_y += y[i] != (keep ? x[i] * inv_keep : 0.f);
  }
  EXPECT_EQ(wrong_mask, 0) << "n " << n << " p " << p << " seed " << seed;
  EXPECT_EQ(wrong_y, 0) << "n " << n << " p " << p << " seed " << seed;
  if (n >= 100000) {  // the keep rate: 1 - p within 10 standard deviations
    const double rate = static_cast<double>(kept) / n, sd = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(rate, 1 - p, 10 * sd) << "n " << n << " p " << p;
  }
}

TEST(KernelsDropout, ForwardKeepsExactlyTheMaskRulesElements) {
  for (int64_t n : {1, 15, 16, 17, 33, 1000, 16 * 4096 + 5, 1 << 20})
    for (double p : {0.1, 0.5, 0.9})
      for (uint64_t seed : {uint64_t{0}, uint64_t{42}, uint64_t{0xfedcba9876543210ull}}) check(n, p, seed);
}

// The fused relu + dropout: the same outputs as dropout over relu's, and a mask that is the
// dropout mask with the non-positive inputs cleared (so dropout_backward is the backward of both).
TEST(KernelsDropout, ReluDropoutEqualsDropoutOfRelu) {
  for (int64_t n : {1, 17, 16 * 4096 + 5, 1 << 20}) {
    Rng rng(static_cast<uint64_t>(n));
    std::vector<float> x(n), r(n), want(n, -1.f), got(n, -1.f);
    std::vector<uint8_t> want_mask(n, 7), got_mask(n, 7);
    for (auto& v : x) v = static_cast<float>(rng.normal());
    if (n > 2) x[1] = 0.f, x[2] = -0.f;
    relu_forward<float>(x.data(), n, r.data());
    dropout_forward<float>(r.data(), n, 0.3, 99, want.data(), want_mask.data());
    relu_dropout_forward<float>(x.data(), n, 0.3, 99, got.data(), got_mask.data());
    int64_t wrong_y = 0, wrong_mask = 0;
    for (int64_t i = 0; i < n; ++i) {
      wrong_y += got[i] != want[i];
      wrong_mask += got_mask[i] != (want_mask[i] && x[i] > 0.f ? 1 : 0);
    }
    EXPECT_EQ(wrong_y, 0) << "n " << n;
    EXPECT_EQ(wrong_mask, 0) << "n " << n;
  }
}

}  // namespace
}  // namespace tfm::kernels
