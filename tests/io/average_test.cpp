// Checkpoint averaging: the mean is exact, inputs must be one model, nothing is overwritten.
#include <gtest/gtest.h>

#include <filesystem>

#include "../common/scratch.h"
#include "core/file.h"
#include "core/rng.h"
#include "io/average.h"
#include "io/config_io.h"
#include "io/model_dir.h"
#include "io/safetensors.h"

namespace tfm {
namespace {

using test::error_of;
using test::ScratchDir;
namespace fs = std::filesystem;

Config small_config() {
  Config c;
  c.d_model = 16;
  c.heads = 2;
  c.d_ff = 32;
  c.encoder_layers = 1;
  c.decoder_layers = 1;
  c.src_vocab_size = 11;
  c.tgt_vocab_size = 9;
  c.max_len = 20;
  return c;
}

// A model directory with parameters drawn from seed, and a fake tokenizer file so the copy of
// tokenizer files is checked too.
std::string make_model(const ScratchDir& d, const std::string& name, uint64_t seed, Config c = small_config(),
                       const std::string& vocab_text = "vocab") {
  const std::string dir = d.file(name);
  c.src_tokenizer = c.tgt_tokenizer = "";
  Transformer m(c);
  Rng rng(seed);
  m.init_parameters(rng);
  save_model_dir(dir, c, m);
  write_file_atomic(dir + "/extra.txt", vocab_text);
  return dir;
}

TEST(Average, IsTheElementwiseMeanOfTheInputs) {
  ScratchDir d;
  std::vector<std::string> in = {make_model(d, "a", 1), make_model(d, "b", 2), make_model(d, "c", 3)};
  const std::string out = d.file("avg");
  average_model_dirs(in, out);
  std::vector<TensorMap> maps;
  for (const auto& dir : in) maps.push_back(load_safetensors(dir + "/model.safetensors"));
  const TensorMap mean = load_safetensors(out + "/model.safetensors");
  ASSERT_EQ(mean.size(), maps[0].size());
  double worst = 0;
  bool any_differs = false;
  for (const auto& [name, t] : mean) {
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double a = maps[0].at(name).item(i), b = maps[1].at(name).item(i), c = maps[2].at(name).item(i);
      any_differs |= a != b;
      const double expect = static_cast<float>((a + b + c) / 3.0);  // rounded once, from double
      worst = std::max(worst, std::abs(t.item(i) - expect));
    }
  }
  EXPECT_TRUE(any_differs) << "the inputs must differ for the test to mean anything";
  EXPECT_EQ(worst, 0.0);
  // The result is a loadable model directory with the first input's config.
  LoadedModel m = load_model_dir(out);
  EXPECT_EQ(m.config.d_model, 16);
  EXPECT_EQ(config_to_json(m.config).dump(), config_to_json(load_config(in[0] + "/config.json")).dump());
}

TEST(Average, OfOneModelIsThatModel) {
  ScratchDir d;
  const std::string a = make_model(d, "a", 7);
  average_model_dirs({a}, d.file("same"));
  EXPECT_EQ(read_file(a + "/model.safetensors"), read_file(d.file("same") + "/model.safetensors"));
}

TEST(Average, CopiesTokenizerFilesAndRefusesDifferentOnes) {
  ScratchDir d;
  Config c = small_config();
  // Name the fake file as a tokenizer in the config (save_model_dir writes config as given).
  auto with_tok = [&](const std::string& name, uint64_t seed, const std::string& text) {
    const std::string dir = d.file(name);
    Config cc = c;
    cc.src_tokenizer = cc.tgt_tokenizer = "";
    Transformer m(cc);
    Rng rng(seed);
    m.init_parameters(rng);
    cc.src_tokenizer = "extra.txt";
    save_model_dir(dir, cc, m);
    write_file_atomic(dir + "/extra.txt", text);
    return dir;
  };
  const std::string a = with_tok("a", 1, "same"), b = with_tok("b", 2, "same"), x = with_tok("x", 3, "other");
  average_model_dirs({a, b}, d.file("ab"));
  EXPECT_EQ(read_file(d.file("ab") + "/extra.txt"), "same");
  const std::string msg = error_of([&] { average_model_dirs({a, x}, d.file("ax")); });
  EXPECT_NE(msg.find("extra.txt: differs from"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(d.file("ax") + "/model.safetensors"));
}

TEST(Average, RefusesDifferentModelsAndNeverOverwrites) {
  ScratchDir d;
  const std::string a = make_model(d, "a", 1);
  Config wide = small_config();
  wide.d_ff = 48;
  const std::string w = make_model(d, "w", 2, wide);
  std::string msg = error_of([&] { average_model_dirs({a, w}, d.file("aw")); });
  EXPECT_NE(msg.find("the config differs"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(d.file("aw")));

  // The output already holds a model: refused, and its bytes are untouched.
  const std::string b = make_model(d, "b", 2);
  const std::string before = read_file(b + "/model.safetensors");
  msg = error_of([&] { average_model_dirs({a}, b); });
  EXPECT_NE(msg.find("already exists"), std::string::npos) << msg;
  EXPECT_EQ(read_file(b + "/model.safetensors"), before);

  msg = error_of([&] { average_model_dirs({a, d.file("missing")}, d.file("am")); });
  EXPECT_NE(msg.find("missing: no such model directory"), std::string::npos) << msg;
  msg = error_of([&] { average_model_dirs({}, d.file("none")); });
  EXPECT_NE(msg.find("no model directories"), std::string::npos) << msg;
}

TEST(Average, StepCheckpointsAreOrderedByStep) {
  ScratchDir d;
  for (const char* n : {"step-00001000", "step-00000500", "best", "step-100000000", "step-x"})
    fs::create_directories(d.file(n));
  const auto steps = step_checkpoints(d.path().string());
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(fs::path(steps[0]).filename(), "step-00000500");
  EXPECT_EQ(fs::path(steps[1]).filename(), "step-00001000");
  EXPECT_EQ(fs::path(steps[2]).filename(), "step-100000000");
  EXPECT_NE(error_of([&] { step_checkpoints(d.file("nope")); }).find("no such checkpoints directory"),
            std::string::npos);
}

}  // namespace
}  // namespace tfm
