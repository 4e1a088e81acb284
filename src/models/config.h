// Config: the typed description of a model. Its keys are those of DEFAULTS in
// shared/reference/torch_reference.py (same names, same defaults), plus keys of our own for what
// the reference does not have; see config.json in io/config_io.h.
#pragma once
#include <cstdint>
#include <string>

namespace tfm {

struct Config {
  // --- keys of the reference (torch_reference.py DEFAULTS) ---
  std::string arch = "transformer";  // "transformer" (encoder-decoder)
  int d_model = 64;
  int heads = 4;
  int encoder_layers = 2;
  int decoder_layers = 2;
  int d_ff = 128;
  double dropout = 0.0;
  std::string activation = "relu";  // "relu" | "gelu"
  bool norm_first = false;          // false: post-norm as in the paper; true: pre-norm
  bool final_norm = true;           // one LayerNorm on top of each stack
  double layer_norm_eps = 1e-5;
  int src_vocab_size = 50;
  int tgt_vocab_size = 40;
  int max_len = 256;
  std::string positional = "sinusoidal";  // sinusoidal (section 3.5) | learned | relative (Music Transformer)
  bool tie_embeddings = false;
  int pad_id = 0;
  int bos_id = 1;
  int eos_id = 2;
  int unk_id = 3;

  // --- keys of our own (written to config.json only when they differ from the default, so a
  // plain model stays readable by the reference) ---
  double embed_dropout = 0.0;       // dropout on embeddings + positions (not in nn.Transformer)
  std::string attention = "scaled_dot";  // scaled_dot | dot (Luong) | additive (Bahdanau) | cosine (Graves)
  std::string src_tokenizer;        // file in the model directory ("" = ids only)
  std::string tgt_tokenizer;
  // positional = relative: self-attention adds learned embeddings of the relative distance,
  // clipped at this maximum (Shaw et al., 2018), in place of absolute positions.
  int max_relative_distance = 16;

  // Throws tfm::Error naming the key when a value is out of range or inconsistent.
  void validate() const;
};

}  // namespace tfm
