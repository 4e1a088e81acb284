// Incremental decoding of the Transformer with a KV cache: the decoder runs one position at a
// time; each layer's self-attention keys and values of earlier positions are kept, not
// recomputed, and the encoder-decoder attention's keys and values are computed once per sentence.
// Rows are (sentence, hypothesis) pairs; reorder() follows beam search's choices.
#pragma once
#include <vector>

#include "models/transformer.h"

namespace tfm {

class IncrementalDecoder {
 public:
  // Encodes `src` and prepares `copies` decoder rows per sentence (1 for greedy, beam size for
  // beam search): row r belongs to sentence r / copies. Memory for `max_steps` positions.
  IncrementalDecoder(const Transformer& model, const Batch& src, int64_t copies, int64_t max_steps);

  int64_t rows() const { return rows_; }
  int64_t steps() const { return step_; }
  // Feeds one token per row (position steps()), returns the log-probabilities of the next
  // token, (rows, V). The returned tensor is valid until the next call.
  const Tensor& step(const std::vector<int32_t>& tokens);
  // Keeps rows `from` in the given order: new row i continues old row from[i]. The list may be
  // shorter than rows() (finished sentences dropped) and may repeat rows (beams that split).
  void reorder(const std::vector<int64_t>& from);

 private:
  struct LayerCache {
    Tensor k, v;    // (rows, max_steps, C): self-attention keys and values so far
    Tensor cross;   // (rows, S, 2C): encoder-decoder keys | values
  };
  const Transformer& model_;
  int64_t rows_, max_steps_, S_, C_;
  int64_t step_ = 0;
  std::vector<LayerCache> cache_;
  std::vector<uint8_t> src_pad_;  // (rows, S)
  Tensor logprobs_;
};

}  // namespace tfm
