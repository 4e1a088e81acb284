// Sampling from a model (the way a language model generates): at each step the next token is
// drawn from the model's distribution, reshaped by
//   temperature  p_i proportional to exp(log p_i / temperature) (< 1 sharper, > 1 flatter);
//   top-k        only the k most probable tokens are kept (Fan et al., 2018);
//   top-p        only the smallest set of most probable tokens whose probability reaches p is
//                kept ("nucleus sampling", Holtzman et al., 2020);
// in that order, then renormalised. Reproducible: the draws come from a seeded counter-based
// generator, one stream per output row.
#pragma once
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "decode/search.h"
#include "models/seq2seq.h"

namespace tfm {

struct SampleOptions {
  double temperature = 1.0;  // > 0
  int top_k = 0;             // 0: no limit
  double top_p = 1.0;        // in (0, 1]; 1: no limit
  int max_tokens = 100;      // generated tokens at most (also bounded by max_len)
  uint64_t seed = 1;
  // Throws tfm::Error naming the option when a value is out of range.
  void validate() const;
};

// The filtered, renormalised distribution over a row of log-probabilities (what sample_token
// draws from): probabilities, zero for tokens filtered out.
std::vector<double> sampling_distribution(const float* logprobs, int64_t V, const SampleOptions& o);

// One draw from sampling_distribution.
int32_t sample_token(const float* logprobs, int64_t V, const SampleOptions& o, Rng& rng);

// Continues each prompt (ids, without bos) by sampling until eos or the length limit; the
// hypothesis holds the generated tokens only (not the prompt), with their log-probabilities
// under the unfiltered model. For a sequence-to-sequence model, src[i] is the source of row i
// (ids without eos) and the prompt a forced start of the output; a language model takes no
// source (src empty). Row i draws from the stream (o.seed, first_stream + i), so a long job cut
// into calls gives the same samples as one call.
std::vector<Hypothesis> sample_sequences(const Seq2SeqModel& model, const std::vector<std::vector<int32_t>>& prompts,
                                         const std::vector<std::vector<int32_t>>& src, const SampleOptions& o,
                                         uint64_t first_stream = 0);

}  // namespace tfm
