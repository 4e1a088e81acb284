// Incremental decoding of the RNN encoder-decoder: the recurrent state of every layer per row
// (and the encoder states attention reads), advanced one token at a time.
#pragma once
#include <vector>

#include "decode/step_decoder.h"
#include "models/rnn_seq2seq.h"

namespace tfm {

class RnnDecoder final : public StepDecoder {
 public:
  RnnDecoder(const RnnSeq2Seq& model, const Batch& src, int64_t copies, int64_t max_steps);
  int64_t rows() const override { return rows_; }
  int64_t steps() const override { return step_; }
  const Tensor& step(const std::vector<int32_t>& tokens) override;
  void reorder(const std::vector<int64_t>& from) override;

 private:
  const RnnSeq2Seq& model_;
  int64_t rows_, max_steps_, S_;
  int64_t step_ = 0;
  std::vector<ops::RecurrentState> state_;  // per layer, (rows, C)
  Tensor states_;                           // (rows, S, C): the encoder's, for attention
  std::vector<uint8_t> src_pad_;            // (rows, S)
  Tensor logprobs_;
};

}  // namespace tfm
