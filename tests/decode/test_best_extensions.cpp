// best_extensions, the selection of a beam-search step, against sorting every extension: the same
// n best in the same order, ties to the lower beam and then the lower token; empty beams (-inf)
// skipped; fewer than n when there are fewer; blocks that cannot win skipped without losing one
// that can (the best of a block at its last position, and values that only beat the n-th best by
// the beam's score).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "decode/search.h"

namespace tfm {
namespace {

std::vector<Extension> by_sorting(const std::vector<double>& score, const std::vector<float>& lp, int64_t V, size_t n) {
  std::vector<Extension> all;
  for (int64_t k = 0; k < static_cast<int64_t>(score.size()); ++k)
    if (score[k] != -std::numeric_limits<double>::infinity())
      for (int64_t v = 0; v < V; ++v) all.push_back({score[k] + lp[k * V + v], k, static_cast<int32_t>(v)});
  std::stable_sort(all.begin(), all.end(), [](const Extension& a, const Extension& b) { return a.score > b.score; });
  all.resize(std::min(all.size(), n));
  return all;
}

void expect_same(const std::vector<Extension>& got, const std::vector<Extension>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].score, want[i].score) << "rank " << i;
    EXPECT_EQ(got[i].beam, want[i].beam) << "rank " << i;
    EXPECT_EQ(got[i].token, want[i].token) << "rank " << i;
  }
}

TEST(BestExtensions, EqualsSortingEveryExtension) {
  Rng rng(5);
  const double neg_inf = -std::numeric_limits<double>::infinity();
  for (const int64_t V : {1, 7, 64, 333}) {
    for (const int64_t K : {1, 4}) {
      for (int trial = 0; trial < 20; ++trial) {
        SCOPED_TRACE(testing::Message() << "V " << V << " K " << K << " trial " << trial);
        std::vector<float> lp(K * V);
        // Few distinct values, so there are many ties; and log-probabilities' range.
        for (auto& x : lp) x = trial % 2 ? -static_cast<float>(static_cast<int>(rng.uniform() * 6)) : static_cast<float>(-8 * rng.uniform());
        std::vector<double> score(K);
        for (auto& s : score) s = trial % 3 == 0 ? 0.0 : -3 * rng.uniform();
        if (K > 1 && trial % 4 == 1) score[1] = neg_inf;  // an empty beam
        for (const auto n : {size_t{1}, size_t{3}, static_cast<size_t>(2 * K), static_cast<size_t>(K * V + 2)}) {
          SCOPED_TRACE(testing::Message() << "n " << n);
          expect_same(best_extensions(score.data(), K, lp.data(), V, n), by_sorting(score, lp, V, n));
        }
      }
    }
  }
}

TEST(BestExtensions, FindsTheBestAtTheEndOfABlockAndIgnoresNaN) {
  const int64_t V = 100, K = 2;
  std::vector<float> lp(K * V, -10.f);
  lp[31] = -1.f;                                   // beam 0: the last position of the first block
  lp[V + 99] = -0.5f;                              // beam 1: the very last token
  lp[40] = std::numeric_limits<float>::quiet_NaN();  // never selected
  const std::vector<double> score = {0.0, -0.25};  // beam 1's -0.5 - 0.25 = -0.75 beats beam 0's -1
  const auto best = best_extensions(score.data(), K, lp.data(), V, 2);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].beam, 1);
  EXPECT_EQ(best[0].token, 99);
  EXPECT_EQ(best[0].score, -0.75);
  EXPECT_EQ(best[1].beam, 0);
  EXPECT_EQ(best[1].token, 31);
  EXPECT_TRUE(best_extensions(score.data(), K, lp.data(), V, 0).empty());
}

}  // namespace
}  // namespace tfm
