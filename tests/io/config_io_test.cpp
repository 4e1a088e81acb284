#include "io/config_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "io_test_util.h"

namespace tfm {
namespace {

using io_test::error_of;
using io_test::read_raw;
using io_test::ScratchDir;
using io_test::write_raw;
using nlohmann::json;
using testing::HasSubstr;
using testing::Not;

// json.dumps(DEFAULTS, indent=2) from shared/reference/torch_reference.py, as Python prints it.
const char* kReferenceDefaults = R"({
  "arch": "transformer",
  "d_model": 64,
  "heads": 4,
  "encoder_layers": 2,
  "decoder_layers": 2,
  "d_ff": 128,
  "dropout": 0.0,
  "activation": "relu",
  "norm_first": false,
  "final_norm": true,
  "layer_norm_eps": 1e-05,
  "src_vocab_size": 50,
  "tgt_vocab_size": 40,
  "max_len": 256,
  "positional": "sinusoidal",
  "tie_embeddings": false,
  "pad_id": 0,
  "bos_id": 1,
  "eos_id": 2,
  "unk_id": 3
})";

// The config.json that `torch_reference.py make d_model=8 heads=2 encoder_layers=1
// decoder_layers=1 d_ff=16 src_vocab_size=6 tgt_vocab_size=6 norm_first=true activation=gelu`
// wrote.
const char* kReferenceMade = R"({
  "arch": "transformer",
  "d_model": 8,
  "heads": 2,
  "encoder_layers": 1,
  "decoder_layers": 1,
  "d_ff": 16,
  "dropout": 0.0,
  "activation": "gelu",
  "norm_first": true,
  "final_norm": true,
  "layer_norm_eps": 1e-05,
  "src_vocab_size": 6,
  "tgt_vocab_size": 6,
  "max_len": 256,
  "positional": "sinusoidal",
  "tie_embeddings": false,
  "pad_id": 0,
  "bos_id": 1,
  "eos_id": 2,
  "unk_id": 3
})";

// Configs compared through their full JSON (Config has no operator==); our own keys are set to
// non-defaults first so that they appear in the comparison too.
std::string all_keys(Config c) { return config_to_json(c).dump(); }

TEST(IoConfig, DefaultsWrittenExactlyAsTheReferenceWritesThem) {
  EXPECT_EQ(config_to_json(Config{}).dump(2), kReferenceDefaults);
}

TEST(IoConfig, EmptyObjectGivesDefaults) {
  EXPECT_EQ(all_keys(config_from_json(json::object(), "test")), all_keys(Config{}));
}

TEST(IoConfig, LoadsConfigWrittenByReference) {
  ScratchDir dir;
  std::string path = dir.file("config.json");
  write_raw(path, kReferenceMade);
  Config c = load_config(path);
  EXPECT_EQ(c.d_model, 8);
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.encoder_layers, 1);
  EXPECT_EQ(c.decoder_layers, 1);
  EXPECT_EQ(c.d_ff, 16);
  EXPECT_EQ(c.activation, "gelu");
  EXPECT_TRUE(c.norm_first);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.src_vocab_size, 6);
  EXPECT_EQ(c.tgt_vocab_size, 6);
  // And we write it back unchanged (same keys, order and number formatting).
  EXPECT_EQ(config_to_json(c).dump(2), kReferenceMade);
}

// Written back, each reference config.json is the same text (our own keys stay out of it).
TEST(IoConfig, LoadsParityFixtureConfigs) {
  std::vector<std::string> fixtures = io_test::parity_fixture_dirs();
  if (fixtures.empty()) GTEST_SKIP() << "no tests/fixtures/parity/*/ yet";
  for (const std::string& fixture : fixtures) {
    std::string file = fixture + "/config.json";
    Config c = load_config(file);
    EXPECT_EQ(config_to_json(c).dump(2), read_raw(file)) << file;
  }
}

TEST(IoConfig, UnknownKeyNamesKeySourceAndKnownKeys) {
  std::string msg = error_of([] { config_from_json({{"d_modle", 64}}, "my/config.json"); });
  EXPECT_THAT(msg, HasSubstr("\"d_modle\""));
  EXPECT_THAT(msg, HasSubstr("my/config.json"));
  EXPECT_THAT(msg, HasSubstr("known keys: arch, d_model, heads"));
  EXPECT_THAT(msg, HasSubstr("tgt_tokenizer"));
}

struct WrongType {
  const char* key;
  json value;
  const char* expected;
  const char* came;
};

TEST(IoConfig, WrongTypeNamesKeyExpectedAndGiven) {
  const std::vector<WrongType> cases = {
      {"d_model", "64", "expected an integer", "string \"64\""},
      {"d_model", 64.5, "expected an integer", "number 64.5"},
      {"d_model", true, "expected an integer", "boolean true"},
      {"d_model", 1e12, "expected an integer", "number"},  // integral but not an int
      {"heads", nullptr, "expected an integer", "null"},
      {"dropout", "0.1", "expected a number", "string \"0.1\""},
      {"norm_first", 1, "expected true or false", "number 1"},
      {"final_norm", "true", "expected true or false", "string \"true\""},
      {"activation", json::array({"relu"}), "expected a string", "array [\"relu\"]"},
      {"src_tokenizer", 5, "expected a string", "number 5"},
  };
  for (const WrongType& c : cases) {
    std::string msg = error_of([&] { config_from_json({{c.key, c.value}}, "cfg.json"); });
    EXPECT_THAT(msg, HasSubstr(std::string("\"") + c.key + "\"")) << c.key;
    EXPECT_THAT(msg, HasSubstr("cfg.json")) << c.key;
    EXPECT_THAT(msg, HasSubstr(c.expected)) << c.key;
    EXPECT_THAT(msg, HasSubstr(c.came)) << c.key;
  }
}

TEST(IoConfig, IntegralFloatsAreIntegersAndIntegersAreFloats) {
  Config c = config_from_json({{"d_model", 32.0}, {"heads", 2}, {"dropout", 0}, {"layer_norm_eps", 1}},
                              "test");
  EXPECT_EQ(c.d_model, 32);
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.dropout, 0.0);
  EXPECT_EQ(c.layer_norm_eps, 1.0);
}

TEST(IoConfig, NotAnObjectIsRefused) {
  std::string msg = error_of([] { config_from_json(json::array({1, 2}), "cfg.json"); });
  EXPECT_THAT(msg, HasSubstr("cfg.json"));
  EXPECT_THAT(msg, HasSubstr("got array"));
}

TEST(IoConfig, InvalidValuesAreRefusedNamingTheSource) {
  std::string msg = error_of([] { config_from_json({{"d_model", 64}, {"heads", 5}}, "cfg.json"); });
  EXPECT_THAT(msg, HasSubstr("cfg.json"));
  EXPECT_THAT(msg, HasSubstr("heads"));
}

TEST(IoConfig, OwnKeysOmittedWhenDefault) {
  auto j = config_to_json(Config{});
  for (const char* key : {"embed_dropout", "attention", "src_tokenizer", "tgt_tokenizer"})
    EXPECT_FALSE(j.contains(key)) << key << " written although it has its default value";
  EXPECT_EQ(j.size(), 20u) << "expected exactly the reference's 20 keys: " << j.dump();
}

TEST(IoConfig, OwnKeysWrittenWhenSetAndReadBack) {
  Config c;
  c.embed_dropout = 0.1;
  c.src_tokenizer = "src.vocab";
  c.tgt_tokenizer = "tgt.model";
  auto j = config_to_json(c);
  EXPECT_EQ(j.at("embed_dropout"), 0.1);
  EXPECT_EQ(j.at("src_tokenizer"), "src.vocab");
  EXPECT_EQ(j.at("tgt_tokenizer"), "tgt.model");
  EXPECT_FALSE(j.contains("attention"));
  c.attention = "local";  // not valid yet, but config_to_json writes whatever differs
  EXPECT_EQ(config_to_json(c).at("attention"), "local");
  c.attention = "scaled_dot";
  // After the reference's keys, in a fixed order.
  EXPECT_EQ(std::prev(j.end()).key(), "tgt_tokenizer");
  EXPECT_EQ(all_keys(config_from_json(j, "test")), all_keys(c));
}

TEST(IoConfig, SaveAndLoadRoundTripEveryKey) {
  ScratchDir dir;
  std::string path = dir.file("config.json");
  Config c;
  c.d_model = 48;
  c.heads = 6;
  c.encoder_layers = 0;
  c.decoder_layers = 3;
  c.d_ff = 96;
  c.dropout = 0.125;
  c.activation = "gelu";
  c.norm_first = true;
  c.final_norm = false;
  c.layer_norm_eps = 1e-6;
  c.src_vocab_size = 30;
  c.tgt_vocab_size = 30;
  c.max_len = 17;
  c.tie_embeddings = true;
  c.pad_id = 3;
  c.bos_id = 2;
  c.eos_id = 1;
  c.unk_id = 0;
  c.embed_dropout = 0.3;
  c.src_tokenizer = "spm.model";
  c.tgt_tokenizer = "spm.model";
  save_config(path, c);
  EXPECT_EQ(all_keys(load_config(path)), all_keys(c));
  std::string text = read_raw(path);
  EXPECT_THAT(text, HasSubstr("\n  \"d_model\": 48,\n")) << "expected indent 2:\n" << text;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"config.json"});
}

TEST(IoConfig, SaveRefusesInvalidConfigAndWritesNothing) {
  ScratchDir dir;
  std::string path = dir.file("config.json");
  Config c;
  c.heads = 7;
  std::string msg = error_of([&] { save_config(path, c); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("heads"));
  EXPECT_TRUE(dir.entries().empty());
}

TEST(IoConfig, SyntaxErrorNamesFileAndLine) {
  ScratchDir dir;
  std::string path = dir.file("config.json");
  write_raw(path, "{\n  \"d_model\": 64,\n  \"heads\": 4,\n}\n");
  std::string msg = error_of([&] { load_config(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("not valid JSON"));
  EXPECT_THAT(msg, HasSubstr("line 4"));
  EXPECT_THAT(msg, HasSubstr("byte"));
  EXPECT_THAT(msg, Not(HasSubstr("[json.exception")));
}

TEST(IoConfig, MissingFileNamesThePath) {
  ScratchDir dir;
  std::string path = dir.file("nope/config.json");
  std::string msg = error_of([&] { load_config(path); });
  EXPECT_THAT(msg, HasSubstr(path));
}

TEST(IoConfig, UnknownKeyInFileNamesTheFile) {
  ScratchDir dir;
  std::string path = dir.file("config.json");
  write_raw(path, R"({"d_model": 64, "n_layers": 2})");
  std::string msg = error_of([&] { load_config(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("\"n_layers\""));
}

}  // namespace
}  // namespace tfm
