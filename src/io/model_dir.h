// A model directory (DESIGN.md, "Formats at the edges"):
//   config.json        the model's Config (io/config_io.h)
//   model.safetensors  the parameters, named as the reference's state_dict
//   <tokenizer files>  named in config.json (src_tokenizer, tgt_tokenizer); none for an ids-only model
// A directory holding only config.json and model.safetensors is a valid model for --ids use.
#pragma once
#include <memory>
#include <string>

#include "models/transformer.h"
#include "text/tokenizer.h"

namespace tfm {

struct LoadedModel {
  std::string dir;
  Config config;
  std::unique_ptr<Seq2SeqModel> model;
  std::unique_ptr<Tokenizer> src_tokenizer, tgt_tokenizer;  // null for an ids-only model
  bool has_tokenizers() const { return src_tokenizer && tgt_tokenizer; }
};

// Loads and checks everything: the directory exists, config.json is valid, the safetensors file
// is intact and holds exactly the parameters the config needs, the tokenizers' vocabulary sizes
// equal the config's. Every failure is a tfm::Error naming the file.
LoadedModel load_model_dir(const std::string& dir);

// Writes config.json and model.safetensors (each atomically; the directory is created if
// needed). Tokenizer files are the caller's (they are written when they are made).
void save_model_dir(const std::string& dir, const Config& config, const Seq2SeqModel& model);

}  // namespace tfm
