#include "models/config.h"

#include "core/error.h"

namespace tfm {

void Config::validate() const {
  TFM_CHECK(arch == "transformer", "config: arch must be \"transformer\", got \"", arch, "\"");
  TFM_CHECK(d_model > 0, "config: d_model must be positive, got ", d_model);
  TFM_CHECK(heads > 0 && d_model % heads == 0, "config: heads must divide d_model (", d_model,
            "), got ", heads);
  TFM_CHECK(encoder_layers >= 0 && decoder_layers >= 1, "config: need encoder_layers >= 0 and ",
            "decoder_layers >= 1, got ", encoder_layers, " and ", decoder_layers);
  TFM_CHECK(d_ff > 0, "config: d_ff must be positive, got ", d_ff);
  TFM_CHECK(dropout >= 0 && dropout < 1, "config: dropout must be in [0, 1), got ", dropout);
  TFM_CHECK(embed_dropout >= 0 && embed_dropout < 1, "config: embed_dropout must be in [0, 1), got ",
            embed_dropout);
  TFM_CHECK(activation == "relu" || activation == "gelu",
            "config: activation must be \"relu\" or \"gelu\", got \"", activation, "\"");
  TFM_CHECK(layer_norm_eps > 0, "config: layer_norm_eps must be positive, got ", layer_norm_eps);
  TFM_CHECK(src_vocab_size > 4 && tgt_vocab_size > 4,
            "config: vocabularies need more than the 4 special ids, got src_vocab_size=",
            src_vocab_size, " tgt_vocab_size=", tgt_vocab_size);
  TFM_CHECK(max_len >= 2, "config: max_len must be at least 2, got ", max_len);
  TFM_CHECK(positional == "sinusoidal" || positional == "learned" || positional == "relative",
            "config: positional must be \"sinusoidal\", \"learned\" or \"relative\", got \"", positional, "\"");
  TFM_CHECK(max_relative_distance >= 1, "config: max_relative_distance must be at least 1, got ",
            max_relative_distance);
  TFM_CHECK(!tie_embeddings || src_vocab_size == tgt_vocab_size,
            "config: tie_embeddings needs src_vocab_size == tgt_vocab_size, got ", src_vocab_size,
            " and ", tgt_vocab_size);
  TFM_CHECK(attention == "scaled_dot" || attention == "dot" || attention == "additive" || attention == "cosine",
            "config: attention must be \"scaled_dot\", \"dot\", \"additive\" or \"cosine\", got \"", attention, "\"");
  for (int id : {pad_id, bos_id, eos_id, unk_id})
    TFM_CHECK(id >= 0 && id < tgt_vocab_size && id < src_vocab_size,
              "config: special id ", id, " is outside the vocabulary");
}

}  // namespace tfm
