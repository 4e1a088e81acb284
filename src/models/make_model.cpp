#include "models/language_model.h"
#include "models/rnn_seq2seq.h"
#include "models/transformer.h"

namespace tfm {

std::unique_ptr<Seq2SeqModel> make_model(const Config& c, DType dt) {
  if (c.is_lm()) return std::make_unique<TransformerLM>(c, dt);
  if (c.is_rnn()) return std::make_unique<RnnSeq2Seq>(c, dt);
  return std::make_unique<Transformer>(c, dt);
}

}  // namespace tfm
