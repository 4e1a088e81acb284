// Incremental decoding of the decoder-only language model with a KV cache per layer (as the
// encoder-decoder's, without the encoder-decoder attention).
#pragma once
#include <vector>

#include "decode/kv_self_attention.h"
#include "decode/step_decoder.h"
#include "models/language_model.h"

namespace tfm {

class LmDecoder final : public StepDecoder {
 public:
  LmDecoder(const TransformerLM& model, int64_t rows, int64_t max_steps);
  int64_t rows() const override { return rows_; }
  int64_t steps() const override { return step_; }
  const Tensor& step(const std::vector<int32_t>& tokens) override;
  void reorder(const std::vector<int64_t>& from) override;

 private:
  const TransformerLM& model_;
  int64_t rows_, max_steps_;
  int64_t step_ = 0;
  std::vector<KvCache> cache_;
  Tensor logprobs_;
};

}  // namespace tfm
