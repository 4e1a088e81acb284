#include "train/batching.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"

namespace tfm {

namespace {

// The stream of epoch `epoch`: independent of every other epoch and of the dropout stream.
Rng epoch_rng(uint64_t seed, int64_t epoch) {
  return Rng(splitmix64(seed ^ 0x5851f42d4c957f2dull) + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(epoch));
}

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {  // Fisher-Yates
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
}

void check_ids(const std::vector<int32_t>& ids, int vocab, int pad, int64_t index, const char* side) {
  for (size_t t = 0; t < ids.size(); ++t) {
    TFM_CHECK(ids[t] >= 0 && ids[t] < vocab, "example ", index, ": ", side, " token ", t, " is id ",
              ids[t], ", outside the vocabulary [0, ", vocab, ")");
    TFM_CHECK(ids[t] != pad, "example ", index, ": ", side, " token ", t, " is the pad id ", pad,
              " (padding is added by batching; the data must not hold it)");
  }
}

}  // namespace

void BatchingOptions::validate() const {
  TFM_CHECK(max_tokens >= 1, "batching: max_tokens must be positive, got ", max_tokens);
  TFM_CHECK(max_sentences >= 0, "batching: max_sentences must be >= 0 (0: no limit), got ", max_sentences);
  TFM_CHECK(chunk_size >= 1, "batching: chunk_size must be positive, got ", chunk_size);
}

Batcher::Batcher(std::vector<Example> examples, const BatchingOptions& options, const Config& model)
    : examples_(std::move(examples)), options_(options) {
  options_.validate();
  const int64_t max_side = model.max_len - 1;  // one position goes to eos (source) or bos (target)
  for (int64_t i = 0; i < static_cast<int64_t>(examples_.size()); ++i) {
    const Example& e = examples_[i];
    check_ids(e.src, model.src_vocab_size, model.pad_id, i, "source");
    check_ids(e.tgt, model.tgt_vocab_size, model.pad_id, i, "target");
    const int64_t src_len = static_cast<int64_t>(e.src.size()), tgt_len = static_cast<int64_t>(e.tgt.size());
    const int64_t need = options_.budget == TokenBudget::Target ? tgt_len + 1 : std::max(src_len, tgt_len) + 1;
    const bool too_long = src_len > max_side || tgt_len > max_side;
    const bool over_budget = need > options_.max_tokens;
    if ((too_long || over_budget) && options_.skip_long) {
      skipped_.push_back(i);
      continue;
    }
    TFM_CHECK(!too_long, "example ", i, ": ", (src_len > max_side ? "the source" : "the target"), " has ",
              std::max(src_len, tgt_len), " tokens, but the model takes at most max_len - 1 = ", max_side,
              " (one position goes to eos/bos); shorten it or set skip_long to leave such examples out");
    TFM_CHECK(!over_budget, "example ", i, " needs ", need, " tokens in a batch, more than max_tokens = ",
              options_.max_tokens, "; raise max_tokens or set skip_long to leave such examples out");
    kept_.push_back(i);
  }
  if (options_.bucketing == Bucketing::Sorted) {
    std::vector<int64_t> order = kept_;
    sort_by_length(order.begin(), order.end());
    sorted_batches_ = pack(order);
  }
}

void Batcher::sort_by_length(std::vector<int64_t>::iterator begin, std::vector<int64_t>::iterator end) const {
  const bool target_first = options_.budget == TokenBudget::Target;
  // Stable: ties keep their order (the index for Sorted, the shuffle for ShuffledChunks).
  std::stable_sort(begin, end, [&](int64_t a, int64_t b) {
    const Example &x = examples_[a], &y = examples_[b];
    auto key = [&](const Example& e) {
      return target_first ? std::pair(e.tgt.size(), e.src.size()) : std::pair(e.src.size(), e.tgt.size());
    };
    return key(x) < key(y);
  });
}

int64_t Batcher::padded_tokens(const BatchIndices& batch) const {
  size_t longest = 0;
  for (int64_t i : batch) {
    const Example& e = examples_[i];
    longest = std::max(longest, options_.budget == TokenBudget::Target ? e.tgt.size()
                                                                      : std::max(e.src.size(), e.tgt.size()));
  }
  return static_cast<int64_t>(batch.size()) * (static_cast<int64_t>(longest) + 1);
}

// Cuts `order` into consecutive batches, each as large as the budget allows.
std::vector<BatchIndices> Batcher::pack(const std::vector<int64_t>& order) const {
  std::vector<BatchIndices> out;
  BatchIndices current;
  int64_t longest = 0;  // in positions (length + 1)
  for (int64_t i : order) {
    const Example& e = examples_[i];
    const int64_t len = static_cast<int64_t>(options_.budget == TokenBudget::Target
                                                 ? e.tgt.size()
                                                 : std::max(e.src.size(), e.tgt.size())) + 1;
    const int64_t rows = static_cast<int64_t>(current.size()) + 1;
    const bool fits = rows * std::max(longest, len) <= options_.max_tokens &&
                      (options_.max_sentences == 0 || rows <= options_.max_sentences);
    if (!fits && !current.empty()) {
      out.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, len);
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::vector<BatchIndices> Batcher::epoch(int64_t epoch, uint64_t seed) const {
  Rng rng = epoch_rng(seed, epoch);
  std::vector<BatchIndices> batches;
  switch (options_.bucketing) {
    case Bucketing::None:
      batches = pack(kept_);
      break;
    case Bucketing::Sorted:
      batches = sorted_batches_;
      break;
    case Bucketing::ShuffledChunks: {
      std::vector<int64_t> order = kept_;
      shuffle(order, rng);
      const int64_t n = static_cast<int64_t>(order.size());
      for (int64_t begin = 0; begin < n; begin += options_.chunk_size) {
        const int64_t end = std::min(n, begin + options_.chunk_size);
        std::vector<int64_t> chunk(order.begin() + begin, order.begin() + end);
        sort_by_length(chunk.begin(), chunk.end());
        for (auto& b : pack(chunk)) batches.push_back(std::move(b));
      }
      break;
    }
  }
  if (options_.shuffle) shuffle(batches, rng);
  return batches;
}

TrainBatch make_train_batch(const std::vector<Example>& examples, const BatchIndices& batch,
                            const Config& ids) {
  TFM_CHECK(!batch.empty(), "make_train_batch: empty batch");
  std::vector<std::vector<int32_t>> src, tgt_in;
  src.reserve(batch.size());
  tgt_in.reserve(batch.size());
  TrainBatch b;
  for (int64_t i : batch) {
    TFM_ASSERT(i >= 0 && i < static_cast<int64_t>(examples.size()), "batch index ", i);
    const Example& e = examples[i];
    src.push_back(e.src);
    src.back().push_back(ids.eos_id);
    tgt_in.push_back({ids.bos_id});
    tgt_in.back().insert(tgt_in.back().end(), e.tgt.begin(), e.tgt.end());
    b.src_tokens += static_cast<int64_t>(e.src.size()) + 1;
    b.target_tokens += static_cast<int64_t>(e.tgt.size()) + 1;
  }
  b.src = make_batch(src, ids.pad_id);
  b.tgt_in = make_batch(tgt_in, ids.pad_id);
  const int64_t T = b.tgt_in.T();
  b.targets.assign(batch.size() * T, ids.pad_id);
  for (size_t r = 0; r < batch.size(); ++r) {
    const Example& e = examples[batch[r]];
    std::copy(e.tgt.begin(), e.tgt.end(), b.targets.begin() + r * T);
    b.targets[r * T + e.tgt.size()] = ids.eos_id;
  }
  return b;
}

}  // namespace tfm
