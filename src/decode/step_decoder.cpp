#include "decode/step_decoder.h"

#include "decode/incremental.h"
#include "decode/lm_decoder.h"
#include "decode/rnn_decoder.h"

namespace tfm {

std::unique_ptr<StepDecoder> make_step_decoder(const Seq2SeqModel& model, const Batch& src, int64_t copies,
                                               int64_t max_steps) {
  if (const auto* t = dynamic_cast<const Transformer*>(&model))
    return std::make_unique<IncrementalDecoder>(*t, src, copies, max_steps);
  if (const auto* lm = dynamic_cast<const TransformerLM*>(&model))
    return std::make_unique<LmDecoder>(*lm, src.B() * copies, max_steps);
  if (const auto* rnn = dynamic_cast<const RnnSeq2Seq*>(&model))
    return std::make_unique<RnnDecoder>(*rnn, src, copies, max_steps);
  TFM_ASSERT(false, "make_step_decoder: a model of arch \"", model.config().arch, "\" has no decoder");
  return nullptr;
}

}  // namespace tfm
