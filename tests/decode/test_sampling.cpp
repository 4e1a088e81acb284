// The sampling distribution: temperature, top-k and top-p reshape it as documented, and draws
// follow it.
#include <gtest/gtest.h>

#include <cmath>

#include "../common/scratch.h"
#include "decode/sampling.h"

namespace tfm {
namespace {

std::vector<float> logprobs_of(const std::vector<double>& p) {
  std::vector<float> lp;
  for (double v : p) lp.push_back(static_cast<float>(std::log(v)));
  return lp;
}

TEST(Sampling, NoFilterIsTheModelsDistribution) {
  const std::vector<double> p = {0.5, 0.25, 0.125, 0.125};
  const auto lp = logprobs_of(p);
  const auto q = sampling_distribution(lp.data(), 4, SampleOptions{});
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(q[i], p[i], 1e-7);
}

TEST(Sampling, TemperatureSharpensAndFlattens) {
  const std::vector<double> p = {0.5, 0.25, 0.125, 0.125};
  const auto lp = logprobs_of(p);
  SampleOptions o;
  o.temperature = 0.5;  // p^2, renormalised
  auto q = sampling_distribution(lp.data(), 4, o);
  const double z = 0.25 + 0.0625 + 2 * 0.015625;
  EXPECT_NEAR(q[0], 0.25 / z, 1e-6);
  EXPECT_NEAR(q[3], 0.015625 / z, 1e-6);
  o.temperature = 1e6;  // nearly uniform
  q = sampling_distribution(lp.data(), 4, o);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(q[i], 0.25, 1e-5);
}

TEST(Sampling, TopKKeepsTheKMostProbable) {
  const std::vector<double> p = {0.1, 0.4, 0.2, 0.3};
  const auto lp = logprobs_of(p);
  SampleOptions o;
  o.top_k = 2;
  const auto q = sampling_distribution(lp.data(), 4, o);
  EXPECT_EQ(q[0], 0.0);
  EXPECT_EQ(q[2], 0.0);
  EXPECT_NEAR(q[1], 0.4 / 0.7, 1e-6);
  EXPECT_NEAR(q[3], 0.3 / 0.7, 1e-6);
}

TEST(Sampling, TopPKeepsTheSmallestSetReachingP) {
  const std::vector<double> p = {0.1, 0.4, 0.2, 0.3};
  const auto lp = logprobs_of(p);
  SampleOptions o;
  o.top_p = 0.6;  // 0.4 alone is short of 0.6; 0.4 + 0.3 reaches it
  auto q = sampling_distribution(lp.data(), 4, o);
  EXPECT_EQ(q[0], 0.0);
  EXPECT_EQ(q[2], 0.0);
  EXPECT_NEAR(q[1], 0.4 / 0.7, 1e-6);
  o.top_p = 0.35;  // the most probable token alone
  q = sampling_distribution(lp.data(), 4, o);
  EXPECT_EQ(q[1], 1.0);
  // top-k first, then top-p within the k kept.
  o.top_p = 0.9, o.top_k = 3;  // kept {0.4, 0.3, 0.2}: 0.9 of 0.9 needs all three
  q = sampling_distribution(lp.data(), 4, o);
  EXPECT_EQ(q[0], 0.0);
  EXPECT_GT(q[2], 0.0);
}

// 40,000 draws: each token's frequency within 4 standard deviations of its probability, and
// filtered tokens never drawn.
TEST(Sampling, DrawsFollowTheFilteredDistribution) {
  const std::vector<double> p = {0.05, 0.4, 0.15, 0.3, 0.1};
  const auto lp = logprobs_of(p);
  SampleOptions o;
  o.temperature = 0.8, o.top_k = 4;
  const auto q = sampling_distribution(lp.data(), 5, o);
  ASSERT_EQ(q[0], 0.0);
  Rng rng(12);
  const int n = 40000;
  std::vector<int> count(5, 0);
  for (int i = 0; i < n; ++i) ++count[sample_token(lp.data(), 5, o, rng)];
  EXPECT_EQ(count[0], 0);
  for (int v = 1; v < 5; ++v) {
    const double sd = std::sqrt(n * q[v] * (1 - q[v]));
    EXPECT_NEAR(count[v], n * q[v], 4 * sd) << "token " << v;
  }
}

TEST(Sampling, BadOptionsAreRefused) {
  auto msg = [](SampleOptions o) { return test::error_of([&] { o.validate(); }); };
  SampleOptions o;
  o.temperature = 0;
  EXPECT_NE(msg(o).find("temperature must be positive"), std::string::npos);
  o = {};
  o.top_p = 0;
  EXPECT_NE(msg(o).find("top-p must be in (0, 1]"), std::string::npos);
  o = {};
  o.top_k = -1;
  EXPECT_NE(msg(o).find("top-k"), std::string::npos);
  o = {};
  o.max_tokens = 0;
  EXPECT_NE(msg(o).find("max-tokens"), std::string::npos);
}

}  // namespace
}  // namespace tfm
