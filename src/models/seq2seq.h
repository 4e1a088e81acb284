// What every model of the project is to the trainer, the decoders and the model directory: a
// module that maps a source batch and a teacher-forced target batch to next-token logits.
//   arch "transformer"  Transformer (models/transformer.h), the encoder-decoder of the paper
//   arch "lm"           TransformerLM (models/language_model.h), decoder-only; ignores the source
//   arch "rnn"          RnnSeq2Seq (models/rnn_seq2seq.h), LSTM/GRU encoder-decoder
// Incremental decoding of each lives in decode/ (decode/step_decoder.h).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "models/config.h"
#include "nn/module.h"

namespace tfm {

// One padded batch of id sequences: ids (B,T) I32 and pad flags (B*T).
struct Batch {
  Tensor ids;
  std::vector<uint8_t> pad;
  int64_t B() const { return ids.dim(0); }
  int64_t T() const { return ids.dim(1); }
};
// Right-pads the rows with pad_id.
Batch make_batch(const std::vector<std::vector<int32_t>>& rows, int32_t pad_id);
// The flat positions (b * T + t) of a batch that are not padding, in order.
std::vector<int64_t> unpadded_positions(const Batch& b);
// Whether those positions (`rows`, from unpadded_positions) leave out any: then inference may
// run the encoder on them alone (Transformer::encode_unpadded).
bool skips_padding(const Batch& b, const std::vector<int64_t>& rows);

class Seq2SeqModel : public Module {
 public:
  Seq2SeqModel(const Config& c, DType dt) : config_(c), dtype_(dt) {}

  const Config& config() const { return config_; }
  DType dtype() const { return dtype_; }
  // False for a language model: it is trained on target sequences alone and src is ignored.
  bool has_source() const { return !config_.is_lm(); }

  // Teacher-forced forward: src (B,S), tgt_in (B,T) -> logits (B*T, V) before the softmax.
  virtual Var forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const = 0;
  // The model's initial parameter values, drawn from rng.
  virtual void init_parameters(Rng& rng) = 0;

 protected:
  Config config_;
  DType dtype_;
};

// The model of c.arch, parameters zero until init_parameters or load_state_dict.
std::unique_ptr<Seq2SeqModel> make_model(const Config& c, DType dt = DType::F32);

}  // namespace tfm
