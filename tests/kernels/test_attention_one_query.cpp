// The decoding kernel attention_one_query against attention_forward with one query a sequence:
// the same probabilities and outputs, in the layouts decoding uses (a query inside a fused QKV
// row, keys and values as column blocks of a cache row), with key padding, a fully masked row,
// head sizes on and off the 16-float vector width, and enough rows to run on every thread.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/attention.h"

namespace tfm::kernels {
namespace {

struct Case {
  int64_t R, H, Tk, dh;
  bool pad;
};

class OneQuery : public ::testing::TestWithParam<Case> {};

template <class T>
void check(const Case& c, double tol) {
  const int64_t R = c.R, H = c.H, Tk = c.Tk, dh = c.dh, C = H * dh;
  // q is the first block of a (R, 3C) row; K and V are interleaved column blocks of a (R, Tk + 2, 2C)
  // cache (two spare rows, so the batch stride is not Tk * 2C).
  const int64_t q_stride = 3 * C, kv_row = 2 * C, kv_batch = (Tk + 2) * kv_row;
  Rng rng(static_cast<uint64_t>(R * 1000 + H * 100 + Tk * 10 + dh));
  std::vector<T> q(R * q_stride), kv(R * kv_batch);
  for (auto& x : q) x = static_cast<T>(rng.normal());
  for (auto& x : kv) x = static_cast<T>(rng.normal());
  std::vector<uint8_t> pad;
  if (c.pad) {
    pad.assign(R * Tk, 0);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t j = 0; j < Tk; ++j) pad[r * Tk + j] = (r == 1) || (j >= Tk - (r % 3));  // row 1: all masked
  }
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(dh)));
  const AttnLayout lq{q_stride, q_stride}, lkv{kv_batch, kv_row}, lo{C, C};
  std::vector<T> want(R * C), got(R * C, T(7));
  attention_forward<T>(AttnDims{R, H, 1, Tk, dh}, q.data(), lq, kv.data(), lkv, kv.data() + C, lkv,
                       c.pad ? pad.data() : nullptr, false, scale, 0.0, 0, nullptr, nullptr, want.data(), lo);
  attention_one_query<T>(R, H, Tk, dh, q.data(), q_stride, kv.data(), lkv, kv.data() + C, lkv,
                         c.pad ? pad.data() : nullptr, scale, got.data(), C);
  double worst = 0;
  for (int64_t i = 0; i < R * C; ++i) worst = std::max(worst, std::abs(static_cast<double>(want[i] - got[i])));
  EXPECT_LE(worst, tol) << "R " << R << " H " << H << " Tk " << Tk << " dh " << dh << " pad " << c.pad;
  if (c.pad && R > 1) {
    for (int64_t i = 0; i < C; ++i) EXPECT_EQ(got[C + i], T(0)) << "a row with every key masked attends to nothing";
  }
}

TEST_P(OneQuery, FloatEqualsAttentionForwardWithOneQuery) { check<float>(GetParam(), 2e-6); }
TEST_P(OneQuery, DoubleEqualsAttentionForwardWithOneQuery) { check<double>(GetParam(), 1e-13); }

INSTANTIATE_TEST_SUITE_P(Shapes, OneQuery,
                         ::testing::Values(Case{1, 4, 1, 64, false}, Case{1, 4, 24, 64, false},
                                           Case{3, 2, 7, 20, true}, Case{64, 4, 24, 64, false},
                                           Case{64, 4, 13, 64, true}, Case{5, 8, 33, 17, true}));

}  // namespace
}  // namespace tfm::kernels
