#include "io/model_dir.h"

#include <filesystem>

#include "io/config_io.h"
#include "io/safetensors.h"

namespace tfm {

namespace fs = std::filesystem;

LoadedModel load_model_dir(const std::string& dir) {
  TFM_CHECK(fs::is_directory(dir), dir, ": no such model directory (expected a directory with ",
            "config.json and model.safetensors)");
  LoadedModel m;
  m.dir = dir;
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  const std::string weights = (fs::path(dir) / "model.safetensors").string();
  TFM_CHECK(fs::exists(cfg_path), cfg_path, ": missing (a model directory needs config.json)");
  TFM_CHECK(fs::exists(weights), weights, ": missing (a model directory needs model.safetensors)");
  m.config = load_config(cfg_path);
  m.model = make_model(m.config);
  m.model->load_state_dict(load_safetensors(weights), weights);
  auto load_tok = [&](const std::string& name, int vocab, const char* key) -> std::unique_ptr<Tokenizer> {
    if (name.empty()) return nullptr;
    const std::string path = (fs::path(dir) / name).string();
    auto tok = load_tokenizer(path);
    TFM_CHECK(tok->vocab_size() == vocab, path, ": the tokenizer has ", tok->vocab_size(),
              " ids but config.json's ", key, " is ", vocab);
    return tok;
  };
  m.src_tokenizer = load_tok(m.config.src_tokenizer, m.config.src_vocab_size, "src_vocab_size");
  m.tgt_tokenizer = load_tok(m.config.tgt_tokenizer, m.config.tgt_vocab_size, "tgt_vocab_size");
  return m;
}

void save_model_dir(const std::string& dir, const Config& config, const Seq2SeqModel& model) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  TFM_CHECK(!ec && fs::is_directory(dir), dir, ": cannot create the model directory: ", ec.message());
  // Weights first, config last: a directory whose config.json is there has matching weights.
  TensorMap tensors;
  for (auto& [name, t] : model.state_dict()) tensors[name] = t.dtype() == DType::F32 ? t : t.to(DType::F32);
  save_safetensors((fs::path(dir) / "model.safetensors").string(), tensors);
  save_config((fs::path(dir) / "config.json").string(), config);
}

}  // namespace tfm
