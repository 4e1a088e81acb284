// KvCache::reorder keeps rows `from` of the cache: row i afterwards holds what row from[i] held,
// in its first `steps` positions, for keys and values. Reorders of every kind a decoder makes, one
// after another on the same cache (it alternates between two buffers): the identity, one row
// moved, two rows trading places, beams copied from a sibling, a rotation, rows dropped, and
// random choices with repeats.
#include <gtest/gtest.h>

#include <vector>

#include "core/rng.h"
#include "decode/kv_self_attention.h"

namespace tfm {
namespace {

TEST(KvCacheReorder, EveryRowTakesItsSourcesPositions) {
  Rng rng(3);
  const int64_t rows = 8, max_steps = 5, C = 6;
  KvCache cache(rows, max_steps, C, DType::F32);
  // The model of the cache: plain vectors, reordered by definition.
  std::vector<std::vector<float>> mk(rows), mv(rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < max_steps * C; ++i) {
      const auto a = static_cast<float>(rng.normal()), b = static_cast<float>(rng.normal());
      cache.k.data<float>()[r * max_steps * C + i] = a;
      cache.v.data<float>()[r * max_steps * C + i] = b;
      mk[r].push_back(a);
      mv[r].push_back(b);
    }
  std::vector<std::vector<int64_t>> orders = {
      {0, 1, 2, 3, 4, 5, 6, 7},  // nothing moves
      {0, 1, 2, 3, 4, 5, 6, 2},  // one row takes another's
      {1, 0, 2, 3, 4, 5, 6, 7},  // two rows trade places, the rest stay
      {0, 0, 2, 2, 4, 4, 6, 6},  // beams copied from a sibling
      {7, 0, 1, 2, 3, 4, 5, 6},  // a rotation
      {1, 0, 3, 2, 5, 4, 7, 6},  // swaps
      {0, 1, 2, 4, 5},           // rows dropped (greedy decoding's finished sentences)
      {4, 3, 2, 1, 0},
  };
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<int64_t> f(5);
    for (auto& x : f) x = static_cast<int64_t>(rng.uniform() * 5);
    orders.push_back(f);
  }
  int64_t live = rows;
  for (size_t o = 0; o < orders.size(); ++o) {
    const std::vector<int64_t>& from = orders[o];
    for (int64_t x : from) ASSERT_LT(x, live);
    const int64_t steps = 1 + static_cast<int64_t>(o % max_steps);
    cache.reorder(from, steps);
    std::vector<std::vector<float>> nk, nv;
    for (int64_t x : from) nk.push_back(mk[x]), nv.push_back(mv[x]);
    mk = nk, mv = nv;
    live = static_cast<int64_t>(from.size());
    // Positions from `steps` on are not kept; the model forgets them too, so later checks look
    // only at the positions every reorder so far has kept.
    for (int64_t r = 0; r < live; ++r)
      for (int64_t i = steps * C; i < max_steps * C; ++i) mk[r][i] = mv[r][i] = 0.f;
    int64_t wrong = 0;
    for (int64_t r = 0; r < live; ++r)
      for (int64_t i = 0; i < steps * C; ++i) {
        wrong += cache.k.data<float>()[r * max_steps * C + i] != mk[r][i];
        wrong += cache.v.data<float>()[r * max_steps * C + i] != mv[r][i];
      }
    EXPECT_EQ(wrong, 0) << "after order " << o;
    // Forget what this reorder did not keep in the cache itself as well, so a position dropped
    // here cannot pass a later check by luck.
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = steps * C; i < max_steps * C; ++i)
        cache.k.data<float>()[r * max_steps * C + i] = cache.v.data<float>()[r * max_steps * C + i] = 0.f;
  }
}

}  // namespace
}  // namespace tfm
