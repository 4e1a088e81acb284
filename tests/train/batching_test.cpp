#include <gtest/gtest.h>

#include <algorithm>

#include "train/batching.h"
#include "train_test_util.h"

namespace tfm {
namespace {

using train_test::error_of;

// The padded size of a batch, computed here independently of the Batcher.
int64_t padded(const std::vector<Example>& ex, const BatchIndices& b, TokenBudget budget) {
  size_t longest = 0;
  for (int64_t i : b)
    longest = std::max(longest, budget == TokenBudget::Target ? ex[i].tgt.size()
                                                              : std::max(ex[i].src.size(), ex[i].tgt.size()));
  return static_cast<int64_t>(b.size()) * static_cast<int64_t>(longest + 1);
}

void expect_each_once(const std::vector<BatchIndices>& batches, int64_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& b : batches)
    for (int64_t i : b) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, n);
      ++seen[i];
    }
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[i], 1) << "example " << i;
}

TEST(TrainBatching, BudgetRespectedAndEveryExampleOncePerEpoch) {
  const Config c = train_test::tiny_config();
  const auto ex = train_test::random_examples(300, c, 11, 14);
  for (Bucketing bucketing : {Bucketing::None, Bucketing::Sorted, Bucketing::ShuffledChunks})
    for (TokenBudget budget : {TokenBudget::Target, TokenBudget::Longer}) {
      BatchingOptions o;
      o.max_tokens = 60;
      o.max_sentences = 7;
      o.bucketing = bucketing;
      o.budget = budget;
      o.chunk_size = 50;
      Batcher batcher(ex, o, c);
      for (int64_t epoch = 1; epoch <= 3; ++epoch) {
        const auto batches = batcher.epoch(epoch, 42);
        expect_each_once(batches, static_cast<int64_t>(ex.size()));
        for (const auto& b : batches) {
          EXPECT_LE(padded(ex, b, budget), o.max_tokens);
          EXPECT_EQ(batcher.padded_tokens(b), padded(ex, b, budget));
          EXPECT_LE(static_cast<int64_t>(b.size()), o.max_sentences);
        }
      }
    }
}

TEST(TrainBatching, BucketingReducesPadding) {
  const Config c = train_test::tiny_config();
  const auto ex = train_test::random_examples(400, c, 3, 14);
  auto total_padded = [&](Bucketing bucketing) {
    BatchingOptions o;
    o.max_tokens = 64;
    o.bucketing = bucketing;
    Batcher batcher(ex, o, c);
    int64_t sum = 0;
    for (const auto& b : batcher.epoch(1, 5)) sum += batcher.padded_tokens(b);
    return sum;
  };
  EXPECT_LT(total_padded(Bucketing::Sorted), total_padded(Bucketing::None));
  EXPECT_LT(total_padded(Bucketing::ShuffledChunks), total_padded(Bucketing::None));
}

TEST(TrainBatching, DeterministicForASeedAndDifferentForAnother) {
  const Config c = train_test::tiny_config();
  const auto ex = train_test::random_examples(200, c, 5);
  for (Bucketing bucketing : {Bucketing::Sorted, Bucketing::ShuffledChunks}) {
    BatchingOptions o;
    o.max_tokens = 50;
    o.bucketing = bucketing;
    o.chunk_size = 64;
    Batcher a(ex, o, c), b(ex, o, c);
    EXPECT_EQ(a.epoch(3, 7), b.epoch(3, 7));
    EXPECT_EQ(a.epoch(3, 7), a.epoch(3, 7));
    EXPECT_NE(a.epoch(3, 7), a.epoch(3, 8));  // another seed
    EXPECT_NE(a.epoch(3, 7), a.epoch(4, 7));  // another epoch
  }
  BatchingOptions fixed;
  fixed.bucketing = Bucketing::None;
  fixed.shuffle = false;
  fixed.max_sentences = 4;
  fixed.max_tokens = 1000;
  const auto batches = Batcher(ex, fixed, c).epoch(1, 1);  // in order: 4 at a time
  ASSERT_EQ(batches.size(), 50u);
  EXPECT_EQ(batches[1], (BatchIndices{4, 5, 6, 7}));
}

TEST(TrainBatching, LongExamplesAreAnErrorNamingTheIndexUnlessSkipped) {
  const Config c = train_test::tiny_config();  // max_len 16: at most 15 ids a side
  auto ex = train_test::random_examples(10, c, 1);
  ex[6].tgt.assign(16, 5);
  BatchingOptions o;
  std::string msg = error_of([&] { Batcher(ex, o, c); });
  EXPECT_NE(msg.find("example 6"), std::string::npos) << msg;
  EXPECT_NE(msg.find("max_len - 1 = 15"), std::string::npos) << msg;
  EXPECT_NE(msg.find("skip_long"), std::string::npos) << msg;

  ex[6].tgt.assign(15, 5);  // fits exactly
  EXPECT_NO_THROW(Batcher(ex, o, c));

  ex[2].src.assign(30, 5);
  o.max_tokens = 12;  // the others need at most 10 positions, example 6 needs 16
  o.skip_long = true;
  Batcher skipping(ex, o, c);
  EXPECT_EQ(skipping.skipped(), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(skipping.size(), 8);
  for (const auto& b : skipping.epoch(1, 1))
    for (int64_t i : b) EXPECT_TRUE(i != 2 && i != 6);

  o.skip_long = false;
  msg = error_of([&] { Batcher(ex, o, c); });
  EXPECT_NE(msg.find("example 2"), std::string::npos) << msg;
}

TEST(TrainBatching, BadIdsAreAnErrorNamingTheIndex) {
  const Config c = train_test::tiny_config();
  auto ex = train_test::random_examples(5, c, 1);
  ex[3].src = {4, 20};
  std::string msg = error_of([&] { Batcher(ex, BatchingOptions{}, c); });
  EXPECT_NE(msg.find("example 3: source token 1 is id 20"), std::string::npos) << msg;
  ex[3].src = {4};
  ex[1].tgt = {5, 0};
  msg = error_of([&] { Batcher(ex, BatchingOptions{}, c); });
  EXPECT_NE(msg.find("example 1: target token 1 is the pad id"), std::string::npos) << msg;
}

TEST(TrainBatching, TrainBatchFollowsTheReferenceConvention) {
  Config c = train_test::tiny_config();
  std::vector<Example> ex = {{{7, 8, 9}, {10}}, {{}, {4, 5, 6}}};
  TrainBatch b = make_train_batch(ex, {0, 1}, c);
  // Encoder input src + [eos], decoder input [bos] + tgt, targets tgt + [eos], pad 0.
  ASSERT_EQ(b.src.ids.shape(), (Shape{2, 4}));
  ASSERT_EQ(b.tgt_in.ids.shape(), (Shape{2, 4}));
  const std::vector<int32_t> src(b.src.ids.data<int32_t>(), b.src.ids.data<int32_t>() + 8);
  const std::vector<int32_t> tgt_in(b.tgt_in.ids.data<int32_t>(), b.tgt_in.ids.data<int32_t>() + 8);
  EXPECT_EQ(src, (std::vector<int32_t>{7, 8, 9, 2, 2, 0, 0, 0}));
  EXPECT_EQ(tgt_in, (std::vector<int32_t>{1, 10, 0, 0, 1, 4, 5, 6}));
  EXPECT_EQ(b.targets, (std::vector<int32_t>{10, 2, 0, 0, 4, 5, 6, 2}));
  EXPECT_EQ(b.src.pad, (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(b.tgt_in.pad, (std::vector<uint8_t>{0, 0, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(b.target_tokens, 6);
  EXPECT_EQ(b.src_tokens, 5);
}

}  // namespace
}  // namespace tfm
