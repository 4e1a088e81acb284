#include "models/config.h"

#include "core/error.h"

namespace tfm {

void Config::validate() const {
  TFM_CHECK(arch == "transformer" || arch == "lm" || arch == "rnn",
            "config: arch must be \"transformer\", \"lm\" or \"rnn\", got \"", arch, "\"");
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
  TFM_CHECK(attention == "scaled_dot" || attention == "dot" || attention == "additive" || attention == "cosine" ||
                (attention == "none" && is_rnn()),
            "config: attention must be \"scaled_dot\", \"dot\", \"additive\" or \"cosine\"",
            is_rnn() ? " (or \"none\" for arch rnn)" : "", ", got \"", attention, "\"");
  TFM_CHECK(rnn_cell == "lstm" || rnn_cell == "gru", "config: rnn_cell must be \"lstm\" or \"gru\", got \"",
            rnn_cell, "\"");
  TFM_CHECK(!is_rnn() || positional != "relative",
            "config: arch rnn has no positions (positional must stay \"sinusoidal\", its default)");
  TFM_CHECK(!is_rnn() || encoder_layers == decoder_layers,
            "config: arch rnn starts each decoder layer from the encoder layer of the same depth, so ",
            "encoder_layers must equal decoder_layers, got ", encoder_layers, " and ", decoder_layers);
  TFM_CHECK(!is_rnn() || local_attention == "none", "config: local_attention needs a Transformer arch");
  TFM_CHECK(local_attention == "none" || local_attention == "1d" || local_attention == "2d",
            "config: local_attention must be \"none\", \"1d\" or \"2d\", got \"", local_attention, "\"");
  TFM_CHECK(local_attention == "none" || attention == "scaled_dot",
            "config: local_attention uses scaled dot-product scores (attention \"scaled_dot\"), got \"", attention,
            "\"");
  TFM_CHECK(local_attention == "none" || positional != "relative",
            "config: local_attention and positional \"relative\" cannot be combined");
  if (local_attention == "1d")
    TFM_CHECK(local_block >= 1 && local_flange >= 0, "config: local attention needs local_block >= 1 and ",
              "local_flange >= 0, got ", local_block, " and ", local_flange);
  if (local_attention == "2d")
    TFM_CHECK(image_width >= 1 && local_block_h >= 1 && local_block_w >= 1 && local_flange_h >= 0 &&
                  local_flange_w >= 0,
              "config: 2d local attention needs image_width, local_block_h, local_block_w >= 1 and ",
              "local_flange_h, local_flange_w >= 0");
  for (int id : {pad_id, bos_id, eos_id, unk_id})
    TFM_CHECK(id >= 0 && id < tgt_vocab_size && id < src_vocab_size,
              "config: special id ", id, " is outside the vocabulary");
}

}  // namespace tfm
