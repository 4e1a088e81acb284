#include <gtest/gtest.h>

#include "core/rng.h"
#include "core/tensor.h"

namespace tfm {

TEST(CoreTensor, ZerosFullAndItem) {
  Tensor t = Tensor::full({2, 3}, 1.5, DType::F64);
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.item(5), 1.5);
  t.zero_();
  EXPECT_EQ(t.item(2), 0.0);
}

TEST(CoreTensor, RowsShareStorage) {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor r = t.rows(1, 3);
  EXPECT_EQ(r.shape(), (Shape{2, 2}));
  EXPECT_EQ(r.item(0), 3.0);
  r.data<float>()[0] = 9;
  EXPECT_EQ(t.item(2), 9.0);
}

TEST(CoreTensor, WrongDtypeAccessIsAnInternalError) {
  Tensor t = Tensor::zeros({2}, DType::F32);
  EXPECT_THROW(t.data<double>(), InternalError);
}

TEST(CoreTensor, Bf16RoundsToNearestEven) {
  Tensor t = Tensor::from_vector<float>({1.0f, 1.00390625f, -2.5f}, {3});
  Tensor b = t.to(DType::BF16);
  EXPECT_EQ(b.item(0), 1.0);
  EXPECT_EQ(b.item(1), 1.0);  // exactly half-way: ties to even
  EXPECT_EQ(b.item(2), -2.5);
}

TEST(CoreRng, SameSeedSameStreamDifferentSeedDifferent) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 10; ++i) {
    uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(CoreRng, UniformMeanIsAboutHalf) {
  Rng r(1);
  double s = 0;
  for (int i = 0; i < 100000; ++i) s += r.uniform();
  EXPECT_NEAR(s / 100000, 0.5, 0.01);
}

}  // namespace tfm
