// Decoding (section 6.1 of the paper: "beam search with a beam size of 4 and length penalty
// alpha = 0.6"): greedy and beam search over the incremental decoder, a batch of sentences at a
// time, and teacher-forced scoring.
#pragma once
#include <vector>

#include "models/transformer.h"

namespace tfm {

struct DecodeOptions {
  int beam = 1;               // 1: greedy
  double alpha = 0.6;         // GNMT length penalty ((5 + |Y|) / 6)^alpha; 0: none
  double max_len_ratio = 2.0; // at most ratio * |source| + extra output tokens (and <= max_len)
  int max_len_extra = 10;
};

struct Hypothesis {
  std::vector<int32_t> tokens;          // without bos and eos
  std::vector<float> token_logprobs;    // one per token, and the eos's last when finished
  double score = 0;                     // sum of token_logprobs (natural log)
  double normalized = 0;                // score / length penalty (what beam search ranks by)
  bool finished = false;                // ended with eos (not cut at the length limit)
};

// A continuation of one of K beams: the beam's score plus the token's log-probability.
struct Extension {
  double score;
  int64_t beam;
  int32_t token;
};
// The n best of the extensions score[k] + logprobs[k * V + v] of K beams (a beam whose score is
// -inf is empty and has none), best first; ties go to the lower beam, then the lower token
// (greedy's argmax rule). Fewer than n when there are fewer. One pass over the K x V values,
// keeping the n best so far: what a step of beam search selects, without sorting them all.
std::vector<Extension> best_extensions(const double* score, int64_t K, const float* logprobs, int64_t V, size_t n);

// The output length limit for a source of n tokens (without eos).
int64_t max_output_length(const Config& c, const DecodeOptions& o, int64_t n);

// One hypothesis per source sentence (ids without eos; eos is appended here).
std::vector<Hypothesis> greedy_search(const Seq2SeqModel& model,
                                      const std::vector<std::vector<int32_t>>& src,
                                      const DecodeOptions& opts);
// The best of `opts.beam` hypotheses per source sentence. beam 1 gives greedy's result.
std::vector<Hypothesis> beam_search(const Seq2SeqModel& model,
                                    const std::vector<std::vector<int32_t>>& src,
                                    const DecodeOptions& opts);
// greedy_search when opts.beam == 1, else beam_search.
std::vector<Hypothesis> translate_batch(const Seq2SeqModel& model,
                                        const std::vector<std::vector<int32_t>>& src,
                                        const DecodeOptions& opts);

// Teacher-forced log-probabilities under the reference's convention: encoder input src+[eos],
// decoder input [bos]+tgt, targets tgt+[eos]. One vector per pair, |tgt|+1 values.
std::vector<std::vector<double>> score_batch(const Seq2SeqModel& model,
                                             const std::vector<std::vector<int32_t>>& src,
                                             const std::vector<std::vector<int32_t>>& tgt);

}  // namespace tfm
