// Incremental decoding, one position at a time, for every model kind: what greedy search, beam
// search and sampling drive. Rows are (sentence, hypothesis) pairs; reorder() follows beam
// search's choices.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "models/seq2seq.h"

namespace tfm {

class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  virtual int64_t rows() const = 0;
  // Positions fed so far.
  virtual int64_t steps() const = 0;
  // Feeds one token per row (position steps()), returns the log-probabilities of the next
  // token, (rows, V). The returned tensor is valid until the next call.
  virtual const Tensor& step(const std::vector<int32_t>& tokens) = 0;
  // Keeps rows `from` in the given order: new row i continues old row from[i]. The list may be
  // shorter than rows() (finished sentences dropped) and may repeat rows (beams that split).
  virtual void reorder(const std::vector<int64_t>& from) = 0;
};

// Encodes `src` (ignored by a language model, which needs only its row count) and prepares
// `copies` decoder rows per sentence (1 for greedy, the beam size for beam search): row r
// belongs to sentence r / copies. Room for max_steps positions (at most the model's max_len).
std::unique_ptr<StepDecoder> make_step_decoder(const Seq2SeqModel& model, const Batch& src, int64_t copies,
                                               int64_t max_steps);

}  // namespace tfm
