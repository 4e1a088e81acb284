#include "io/average.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/file.h"
#include "io/config_io.h"
#include "io/safetensors.h"

namespace tfm {

namespace fs = std::filesystem;

std::vector<std::string> step_checkpoints(const std::string& checkpoints_dir) {
  TFM_CHECK(fs::is_directory(checkpoints_dir), checkpoints_dir,
            ": no such checkpoints directory (expected the checkpoints/ of a trained model)");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(checkpoints_dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name.starts_with("step-") && name.size() > 5 &&
        std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      out.push_back(e.path().string());
  }
  // Zero-padded names sort by step; compare the numbers anyway so a wider number still sorts.
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    const std::string na = fs::path(a).filename().string().substr(5), nb = fs::path(b).filename().string().substr(5);
    return na.size() != nb.size() ? na.size() < nb.size() : na < nb;
  });
  return out;
}

void average_model_dirs(const std::vector<std::string>& inputs, const std::string& out) {
  TFM_CHECK(!inputs.empty(), "average: no model directories given");
  const fs::path out_path(out);
  for (const char* f : {"config.json", "model.safetensors"})
    TFM_CHECK(!fs::exists(out_path / f), (out_path / f).string(),
              ": already exists; averaging writes a new model directory and never overwrites one");
  std::error_code ec;
  for (const auto& in : inputs)
    TFM_CHECK(!(fs::exists(out_path) && fs::equivalent(in, out_path, ec)), out,
              ": the output directory is one of the inputs");

  auto config_path = [](const std::string& dir) { return (fs::path(dir) / "config.json").string(); };
  auto weights_path = [](const std::string& dir) { return (fs::path(dir) / "model.safetensors").string(); };
  for (const auto& in : inputs) TFM_CHECK(fs::is_directory(in), in, ": no such model directory");

  const Config config = load_config(config_path(inputs[0]));
  const std::string config_text = config_to_json(config).dump();
  std::vector<std::string> tokenizer_files;
  for (const std::string& name : {config.src_tokenizer, config.tgt_tokenizer})
    if (!name.empty() && std::find(tokenizer_files.begin(), tokenizer_files.end(), name) == tokenizer_files.end())
      tokenizer_files.push_back(name);

  const TensorMap first = load_safetensors(weights_path(inputs[0]));
  std::map<std::string, Tensor> sums;  // F64 accumulators
  auto accumulate = [&](const TensorMap& m) {
    for (const auto& [name, t] : m) {
      Tensor d = t.to(DType::F64);
      auto it = sums.find(name);
      if (it == sums.end()) {
        sums.emplace(name, d);
        continue;
      }
      const double* src = d.data<double>();
      double* dst = it->second.data<double>();
      for (int64_t i = 0; i < d.numel(); ++i) dst[i] += src[i];
    }
  };
  accumulate(first);

  for (size_t k = 1; k < inputs.size(); ++k) {
    const std::string& in = inputs[k];
    const Config c = load_config(config_path(in));
    TFM_CHECK(config_to_json(c).dump() == config_text, config_path(in), ": the config differs from ",
              config_path(inputs[0]), "'s; only checkpoints of one model can be averaged");
    for (const auto& name : tokenizer_files) {
      const std::string a = (fs::path(inputs[0]) / name).string(), b = (fs::path(in) / name).string();
      TFM_CHECK(read_file(a) == read_file(b), b, ": differs from ", a,
                "; the checkpoints must share their tokenizers");
    }
    const std::string wp = weights_path(in);
    const TensorMap m = load_safetensors(wp);
    for (const auto& [name, t] : first) {
      auto it = m.find(name);
      TFM_CHECK(it != m.end(), wp, ": has no tensor '", name, "' (", weights_path(inputs[0]), " has)");
      TFM_CHECK(it->second.dtype() == t.dtype() && it->second.shape() == t.shape(), wp, ": tensor '", name,
                "' is ", dtype_name(it->second.dtype()), shape_str(it->second.shape()), " but ", dtype_name(t.dtype()),
                shape_str(t.shape()), " in ", weights_path(inputs[0]));
    }
    for (const auto& [name, t] : m)
      TFM_CHECK(first.count(name), wp, ": has a tensor '", name, "' that ", weights_path(inputs[0]), " has not");
    accumulate(m);
  }

  TensorMap mean;
  const double n = static_cast<double>(inputs.size());
  for (auto& [name, s] : sums) {
    double* p = s.data<double>();
    for (int64_t i = 0; i < s.numel(); ++i) p[i] /= n;
    mean[name] = s.to(first.at(name).dtype());
  }

  fs::create_directories(out_path, ec);
  TFM_CHECK(!ec && fs::is_directory(out_path), out, ": cannot create the directory: ", ec.message());
  for (const auto& name : tokenizer_files)
    write_file_atomic((out_path / name).string(), read_file((fs::path(inputs[0]) / name).string()));
  // Weights before config, as save_model_dir does: a config.json means the weights are complete.
  save_safetensors(weights_path(out), mean);
  save_config(config_path(out), config);
}

}  // namespace tfm
