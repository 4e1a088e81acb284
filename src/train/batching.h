// Batching for training: examples grouped into batches by token count, with length bucketing
// (section 5.1: "Sentence pairs were batched together by approximate sequence length. Each
// training batch contained a set of sentence pairs containing approximately 25000 source tokens
// and 25000 target tokens"), and the conversion of a batch to the model's inputs.
//
// An example is a pair of id sequences without bos/eos. As the model sees it (the reference's
// convention, see DESIGN.md): encoder input src + [eos], decoder input [bos] + tgt, targets
// tgt + [eos], right-padded with the pad id, which the loss ignores. So an example takes
// len + 1 positions on each side.
#pragma once
#include <cstdint>
#include <vector>

#include "models/config.h"
#include "models/transformer.h"

namespace tfm {

struct Example {
  std::vector<int32_t> src, tgt;
};

// What max_tokens counts: rows times the longest target (tgt + 1), or rows times the longer of
// the longest source (src + 1) and the longest target.
enum class TokenBudget { Target, Longer };

// How examples are put next to each other before they are cut into batches:
//   None            in the given order (no bucketing);
//   Sorted          all examples sorted by length (source then target length for the Longer
//                   budget, target then source for Target), the batches fixed across epochs;
//   ShuffledChunks  each epoch: shuffled, cut into chunks of chunk_size examples, each chunk
//                   sorted by length; so the batches themselves change from epoch to epoch.
enum class Bucketing { None, Sorted, ShuffledChunks };

struct BatchingOptions {
  int64_t max_tokens = 4096;   // padded tokens a batch may hold (see TokenBudget)
  int64_t max_sentences = 0;   // rows a batch may hold; 0: no limit
  TokenBudget budget = TokenBudget::Longer;
  Bucketing bucketing = Bucketing::ShuffledChunks;
  int64_t chunk_size = 16384;  // ShuffledChunks: examples sorted together
  bool shuffle = true;         // the order of the batches, shuffled each epoch
  // An example longer than the model takes (max_len - 1 ids on a side) or than max_tokens is an
  // error naming its index; with skip_long it is left out instead, and counted.
  bool skip_long = false;
  // Throws tfm::Error naming the field when a value is out of range.
  void validate() const;
};

// The indices (into the examples given to the Batcher) of one batch.
using BatchIndices = std::vector<int64_t>;

class Batcher {
 public:
  // Checks every example against the model: ids inside the vocabularies and not the pad id,
  // lengths within max_len - 1 and within max_tokens. Errors name the 0-based example index
  // (the caller maps it to a line of its file).
  Batcher(std::vector<Example> examples, const BatchingOptions& options, const Config& model);

  // The batches of epoch `epoch`, in training order. Every kept example is in exactly one
  // batch. A function of (seed, epoch) only: the same on every call and after a resume.
  std::vector<BatchIndices> epoch(int64_t epoch, uint64_t seed) const;

  const std::vector<Example>& examples() const { return examples_; }
  const BatchingOptions& options() const { return options_; }
  // The examples left out by skip_long (indices, ascending).
  const std::vector<int64_t>& skipped() const { return skipped_; }
  // The examples kept.
  int64_t size() const { return static_cast<int64_t>(kept_.size()); }
  // The padded size of a batch as max_tokens counts it.
  int64_t padded_tokens(const BatchIndices& batch) const;

 private:
  std::vector<BatchIndices> pack(const std::vector<int64_t>& order) const;
  void sort_by_length(std::vector<int64_t>::iterator begin, std::vector<int64_t>::iterator end) const;

  std::vector<Example> examples_;
  BatchingOptions options_;
  std::vector<int64_t> kept_, skipped_;
  std::vector<BatchIndices> sorted_batches_;  // Sorted: made once
};

// A batch as the model takes it.
struct TrainBatch {
  Batch src;                     // src + [eos]            (B, S)
  Batch tgt_in;                  // [bos] + tgt            (B, T)
  std::vector<int32_t> targets;  // tgt + [eos], pad_id where padded   (B*T)
  int64_t target_tokens = 0;     // targets that are not padding (what the loss averages over)
  int64_t src_tokens = 0;        // source positions that are not padding
};

// ids: the model's pad_id, bos_id and eos_id.
TrainBatch make_train_batch(const std::vector<Example>& examples, const BatchIndices& batch,
                            const Config& ids);

}  // namespace tfm
