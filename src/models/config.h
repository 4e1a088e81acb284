// Config: the typed description of a model. Its keys are those of DEFAULTS in
// shared/reference/torch_reference.py (same names, same defaults), plus keys of our own for what
// the reference does not have; see config.json in io/config_io.h.
#pragma once
#include <cstdint>
#include <string>

namespace tfm {

struct Config {
  // --- keys of the reference (torch_reference.py DEFAULTS) ---
  // "transformer": the encoder-decoder of the paper; "lm": a decoder-only language model (the
  // form of the Image and Music Transformers: decoder_layers layers of masked self-attention and
  // feed-forward, no encoder, no source); "rnn": the recurrent encoder-decoder it replaced
  // (Sutskever et al., 2014; with attention, Luong et al., 2015), see rnn_cell.
  std::string arch = "transformer";
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

  // Local self-attention (Image Transformer, Parmar et al., 2018): "none", "1d" or "2d". Every
  // self-attention (encoder unmasked, decoder masked) attends within memory blocks only.
  //   1d: query blocks of local_block positions attend to their block and the local_flange
  //       positions before it.
  //   2d: the sequence is an image of rows of image_width positions (raster order); query blocks
  //       of local_block_h x local_block_w attend to the block plus local_flange_h rows above
  //       and local_flange_w columns left and right.
  std::string local_attention = "none";
  int local_block = 64, local_flange = 64;
  int image_width = 0, local_block_h = 8, local_block_w = 8, local_flange_h = 8, local_flange_w = 8;

  // arch = "rnn": the cell ("lstm" or "gru"), d_model units, encoder_layers and decoder_layers
  // layers; `attention` is the score of the decoder's attention over the encoder states, or
  // "none" for the fixed context vector of Sutskever et al. (the last encoder state only).
  std::string rnn_cell = "lstm";

  bool is_lm() const { return arch == "lm"; }
  bool is_rnn() const { return arch == "rnn"; }

  // Throws tfm::Error naming the key when a value is out of range or inconsistent.
  void validate() const;
};

}  // namespace tfm
