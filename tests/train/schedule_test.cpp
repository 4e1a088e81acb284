#include <gtest/gtest.h>

#include <cmath>

#include "train/schedule.h"
#include "train_test_util.h"

namespace tfm {
namespace {

TEST(TrainSchedule, PaperValuesAtKnownSteps) {
  // Section 5.3: lrate = d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), d_model 512, warmup 4000.
  const Schedule s = Schedule::paper(512, 4000);
  const double d = 1.0 / std::sqrt(512.0);
  EXPECT_DOUBLE_EQ(s.rate(1), d * 1.0 / std::pow(4000.0, 1.5));
  EXPECT_DOUBLE_EQ(s.rate(1000), d * 1000.0 / std::pow(4000.0, 1.5));
  // The peak, where the two branches meet: (d_model * warmup)^-0.5 = 6.9877e-4.
  EXPECT_DOUBLE_EQ(s.rate(4000), 1.0 / std::sqrt(512.0 * 4000.0));
  EXPECT_NEAR(s.rate(4000), 6.98771242e-4, 1e-12);
  EXPECT_GT(s.rate(4000), s.rate(3999));
  EXPECT_GT(s.rate(4000), s.rate(4001));
  EXPECT_DOUBLE_EQ(s.rate(16000), d / std::sqrt(16000.0));
  EXPECT_DOUBLE_EQ(s.rate(16000), s.rate(4000) / 2);
  EXPECT_DOUBLE_EQ(Schedule::paper(512, 4000, 2.0).rate(100), 2 * s.rate(100));
}

TEST(TrainSchedule, PaperTakesTheModelsDModelWhenZero) {
  Schedule s;  // the default: paper, d_model 0
  EXPECT_EQ(s.kind, ScheduleKind::Paper);
  EXPECT_NE(train_test::error_of([&] { s.rate(1); }).find("d_model"), std::string::npos);
  EXPECT_DOUBLE_EQ(s.resolved(256).rate(4000), 1.0 / std::sqrt(256.0 * 4000.0));
  EXPECT_EQ(Schedule::paper(128).resolved(256).d_model, 128);  // an explicit value stays
}

TEST(TrainSchedule, ConstantAndInverseSqrt) {
  EXPECT_EQ(Schedule::constant(1e-3).rate(1), 1e-3);
  EXPECT_EQ(Schedule::constant(1e-3).rate(123456), 1e-3);
  const Schedule s = Schedule::inverse_sqrt(5e-4, 100);
  EXPECT_DOUBLE_EQ(s.rate(1), 5e-4 / 100);
  EXPECT_DOUBLE_EQ(s.rate(50), 5e-4 / 2);
  EXPECT_DOUBLE_EQ(s.rate(100), 5e-4);  // the peak
  EXPECT_DOUBLE_EQ(s.rate(400), 5e-4 / 2);
  EXPECT_EQ(s.describe(), "inverse_sqrt(peak=0.0005, warmup=100)");
}

TEST(TrainSchedule, LinearRisesThenFallsToZeroAtTotal) {
  const Schedule s = Schedule::linear(2e-3, 100, 1100);
  EXPECT_DOUBLE_EQ(s.rate(1), 2e-3 / 100);
  EXPECT_DOUBLE_EQ(s.rate(50), 1e-3);
  EXPECT_DOUBLE_EQ(s.rate(100), 2e-3);   // the peak
  EXPECT_DOUBLE_EQ(s.rate(600), 1e-3);   // half way down
  EXPECT_DOUBLE_EQ(s.rate(1000), 2e-4);
  EXPECT_GT(s.rate(1099), 0.0);
  EXPECT_EQ(s.rate(1100), 0.0);
  EXPECT_EQ(s.rate(5000), 0.0);          // never negative past the end
  for (int64_t t = 101; t < 1100; ++t) EXPECT_LT(s.rate(t + 1), s.rate(t)) << t;
  EXPECT_EQ(s.describe(), "linear(peak=0.002, warmup=100, total=1100)");
}

TEST(TrainSchedule, RefusesBadValues) {
  using train_test::error_of;
  EXPECT_NE(error_of([] { Schedule::paper(512, 0); }).find("warmup"), std::string::npos);
  EXPECT_NE(error_of([] { Schedule::constant(-1); }).find("lr"), std::string::npos);
  EXPECT_NE(error_of([] { Schedule::constant(1e-3).rate(0); }).find("from 1"), std::string::npos);
  EXPECT_NE(error_of([] { Schedule::linear(1e-3, 100, 100); }).find("greater than the warmup"), std::string::npos);
  EXPECT_NE(error_of([] { Schedule::linear(0, 10, 100); }).find("peak lr"), std::string::npos);
}

}  // namespace
}  // namespace tfm
