// Text in, text out: what `transformer translate` and `transformer score` do with a model
// directory, as library calls (the CLI only parses options and prints).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "decode/sampling.h"
#include "decode/search.h"
#include "io/model_dir.h"

namespace tfm {

// Where input lines come from, for messages: "name:line".
struct LineSource {
  std::string name;       // a file name, or "<stdin>"
  int64_t first_line = 1; // the line number of element 0
};

// Turns input lines into model ids. Text mode: the model's tokenizer; an unknown symbol maps to
// unk and produces one warning naming the line. Ids mode (ids = true): space-separated ids, an id
// outside [0, vocab) is an error naming the line. Either way a sequence longer than
// max_len - 1 (room for eos) is an error naming the line.
std::vector<std::vector<int32_t>> encode_lines(const LoadedModel& m, bool source_side,
                                               const std::vector<std::string>& lines, bool ids,
                                               const LineSource& where,
                                               const std::function<void(const std::string&)>& warn);

struct TranslateOptions {
  DecodeOptions decode;
  int batch = 32;     // sentences decoded together
  bool ids = false;   // input and output are token ids
};

// One output line per input line, in input order. Batches are formed from sentences of similar
// length; the result does not depend on the batch size.
std::vector<std::string> translate_lines(const LoadedModel& m, const std::vector<std::string>& lines,
                                         const TranslateOptions& o, const LineSource& where,
                                         const std::function<void(const std::string&)>& warn);

struct SampleLinesOptions {
  SampleOptions sample;
  int num = 1;       // samples per input line
  int batch = 64;    // sequences sampled together
  bool ids = false;  // input and output are token ids
};

// Samples from the model, num outputs per input line, in input order (line 0's num samples
// first). A language model continues each line (a prompt; may be empty) and the output is the
// prompt followed by the continuation; a sequence-to-sequence model samples a translation of
// each line (a source).
std::vector<std::string> sample_lines(const LoadedModel& m, const std::vector<std::string>& lines,
                                      const SampleLinesOptions& o, const LineSource& where,
                                      const std::function<void(const std::string&)>& warn);

// Teacher-forced log-probabilities of each target token and the final eos, per pair. A language
// model has no source: src must then be empty (it scores the target lines alone).
std::vector<std::vector<double>> score_lines(const LoadedModel& m, const std::vector<std::string>& src,
                                             const std::vector<std::string>& tgt, bool ids,
                                             const LineSource& src_where, const LineSource& tgt_where,
                                             int batch, const std::function<void(const std::string&)>& warn);

}  // namespace tfm
