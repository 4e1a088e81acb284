// Loading the PyTorch reference fixtures (tests/fixtures/parity/<name>/, made by
// ../shared/reference/torch_reference.py make; see tests/fixtures/parity/make.sh).
#pragma once
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "io/config_io.h"
#include "io/safetensors.h"
#include "models/transformer.h"

namespace tfm::testing {

inline std::string fixture_dir(const std::string& name) {
  return std::string(TFM_SOURCE_DIR) + "/tests/fixtures/parity/" + name;
}

inline const std::vector<std::string>& parity_fixture_names() {
  static const std::vector<std::string> names = {"post_norm", "pre_norm", "post_norm_no_final",
                                                 "pre_norm_no_final_gelu", "odd_sizes", "tied",
                                                 "enc1_dec3_heads6"};
  return names;
}

inline std::unique_ptr<Transformer> load_fixture_model(const std::string& dir, DType dt = DType::F32) {
  auto m = std::make_unique<Transformer>(load_config(dir + "/config.json"), dt);
  m->load_state_dict(load_safetensors(dir + "/model.safetensors"), dir + "/model.safetensors");
  return m;
}

inline std::vector<std::vector<int32_t>> read_id_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::vector<int32_t>> rows;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::vector<int32_t> r;
    int32_t v;
    while (s >> v) r.push_back(v);
    rows.push_back(r);
  }
  return rows;
}

inline std::vector<std::vector<double>> read_number_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::vector<double>> rows;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::vector<double> r;
    double v;
    while (s >> v) r.push_back(v);
    rows.push_back(r);
  }
  return rows;
}

}  // namespace tfm::testing
