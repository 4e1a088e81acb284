// Bad input to the `transformer` CLI (the project rule, DEVELOPERS.md "Bad input: the cases and
// their tests"): a message on stderr that names the file, the line and what was expected, exit 1
// (2 for a wrong option), nothing on stdout, and nothing already on disk changed.
//
// Every case runs the real binary on a copy of tests/fixtures/parity/post_norm (src vocabulary
// 50, tgt vocabulary 40, max_len 32) in a scratch directory, and compares a snapshot of that
// whole directory (every file's bytes) before and after the run.
#include <gtest/gtest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "io/safetensors.h"

namespace tfm::cli_test {
namespace {

constexpr int kBadInput = 1;
constexpr int kWrongOption = 2;

// A line of n valid source ids (4 .. 49).
std::string ids_line(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.append(i ? " " : "").append(std::to_string(4 + i % 46));
  return s;
}

class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    model = dir.file("model");
    fs::create_directories(model);
    for (const char* f : {"config.json", "model.safetensors"})
      fs::copy_file(parity_dir("post_norm") + "/" + f, model + "/" + f);
    src = dir.write("in/src.ids", "4 5 6\n7 8 9 10\n11\n");
    tgt = dir.write("in/tgt.ids", "4 5\n6 7 8\n9 10 11 12\n");
  }

  // Runs the CLI and checks the refusal: the exit code, every expected substring in stderr,
  // nothing on stdout (when check_stdout) and an unchanged scratch directory.
  CliResult expect_refused(const std::vector<std::string>& args, int code,
                           std::initializer_list<std::string> expected, const std::string& stdin_path = "",
                           bool check_stdout = true) {
    const Snapshot before = snapshot(dir.path());
    CliResult r = run_cli1(args, stdin_path);
    EXPECT_EQ(r.code, code) << r;
    for (const std::string& e : expected) EXPECT_NE(r.err.find(e), std::string::npos)
        << "stderr should contain \"" << e << "\"\n" << r;
    if (check_stdout) {
      EXPECT_EQ(r.out, "") << "a refused run should print nothing on stdout\n" << r;
    }
    EXPECT_EQ(snapshot_diff(before, snapshot(dir.path())), "") << "the run changed files on disk\n" << r;
    return r;
  }

  // The model's config.json as JSON, to edit.
  nlohmann::ordered_json config() const {
    return nlohmann::ordered_json::parse(read_file(model + "/config.json"));
  }
  void set_config(const nlohmann::ordered_json& j) const { write_file(model + "/config.json", j.dump(2)); }
  // The untouched config.json of the fixture.
  nlohmann::ordered_json original_config() const {
    return nlohmann::ordered_json::parse(read_file(parity_dir("post_norm") + "/config.json"));
  }
  std::vector<std::string> score_args() const { return {"score", "--model", model, "--src", src, "--tgt", tgt, "--ids"}; }

  ScratchDir dir;
  std::string model, src, tgt;
};

// --- the model directory ---

TEST_F(CliBadInput, MissingModelDirectoryIsNamed) {
  const std::string missing = dir.file("no_such_model");
  for (std::vector<std::string> args : {std::vector<std::string>{"info", "--model", missing},
                                        {"score", "--model", missing, "--src", src, "--tgt", tgt, "--ids"},
                                        {"translate", "--model", missing, "--ids"}}) {
    SCOPED_TRACE(args[0]);
    expect_refused(args, kBadInput,
                   {missing + ": no such model directory",
                    "expected a directory with config.json and model.safetensors"},
                   src);
  }
}

TEST_F(CliBadInput, ModelPathThatIsAFileIsRefused) {
  expect_refused({"info", "--model", src}, kBadInput, {src + ": no such model directory"});
}

TEST_F(CliBadInput, ModelDirWithoutConfigJsonIsNamed) {
  fs::remove(model + "/config.json");
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/config.json: missing", "a model directory needs config.json"});
}

TEST_F(CliBadInput, ModelDirWithoutSafetensorsIsNamed) {
  fs::remove(model + "/model.safetensors");
  expect_refused(score_args(), kBadInput,
                 {model + "/model.safetensors: missing", "a model directory needs model.safetensors"});
}

TEST_F(CliBadInput, ConfigThatIsNotJsonNamesFileAndLine) {
  // `"heads": 4,` becomes `"heads": 4 4,`: a syntax error on that line.
  std::string text = read_file(model + "/config.json");
  const size_t at = text.find("\"heads\": 4,");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"heads\": 4 4,");
  write_file(model + "/config.json", text);
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/config.json: not valid JSON", "line " + std::to_string(line) + ",", "expected"});
}

TEST_F(CliBadInput, EmptyConfigIsNotJson) {
  write_file(model + "/config.json", "");
  expect_refused({"info", "--model", model}, kBadInput, {model + "/config.json: not valid JSON"});
}

TEST_F(CliBadInput, ConfigUnknownKeyIsNamed) {
  auto j = config();
  j["d_modle"] = 32;
  set_config(j);
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/config.json: unknown config key \"d_modle\"", "known keys: arch, d_model"});
}

TEST_F(CliBadInput, ConfigValueOfWrongTypeIsNamed) {
  auto j = config();
  j["d_model"] = "32";
  set_config(j);
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/config.json: config key \"d_model\": expected an integer, got string \"32\""});
  j = original_config();
  j["norm_first"] = 1;
  set_config(j);
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/config.json: config key \"norm_first\": expected true or false, got number 1"});
}

TEST_F(CliBadInput, ConfigInconsistentValueIsNamed) {
  auto j = config();
  j["heads"] = 5;  // does not divide d_model 32
  set_config(j);
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/config.json: ", "heads must divide d_model (32), got 5"});
}

TEST_F(CliBadInput, TruncatedSafetensorsIsRefusedAtEveryCut) {
  const std::string path = model + "/model.safetensors";
  const std::string whole = read_file(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, whole.data(), 8);
  const uint64_t data_start = 8 + header_len;
  // Inside the length, right after it, inside the header, at the end of the header, inside the
  // first tensor, in the middle of the data, one byte short.
  for (uint64_t cut : {uint64_t{0}, uint64_t{7}, uint64_t{8}, uint64_t{100}, data_start, data_start + 1,
                       data_start + 1000, whole.size() / 2, whole.size() - 1}) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut) + " of " + std::to_string(whole.size()));
    write_file(path, whole.substr(0, cut));
    CliResult r = expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt, "--ids"}, kBadInput,
                                 {path + ": "});
    EXPECT_TRUE(r.err.find("truncated") != std::string::npos || r.err.find("too short") != std::string::npos)
        << "the message should say the file is truncated\n" << r;
  }
}

TEST_F(CliBadInput, CorruptSafetensorsHeaderIsRefused) {
  const std::string path = model + "/model.safetensors";
  const std::string whole = read_file(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, whole.data(), 8);
  {
    SCOPED_TRACE("header JSON broken");
    std::string bad = whole;
    bad[8] = '[';
    write_file(path, bad);
    expect_refused({"info", "--model", model}, kBadInput,
                   {path + ": header is not valid JSON", "the file is corrupt or not safetensors"});
  }
  {
    SCOPED_TRACE("header length 16 bytes short");
    std::string bad = whole;
    const uint64_t n = header_len - 16;
    std::memcpy(bad.data(), &n, 8);
    write_file(path, bad);
    expect_refused({"info", "--model", model}, kBadInput, {path + ": header is not valid JSON"});
  }
  {
    SCOPED_TRACE("not a safetensors file at all");
    write_file(path, "this is a text file, not a model\n");
    expect_refused({"info", "--model", model}, kBadInput,
                   {path + ": header length", "runs past the end of the file", "not safetensors"});
  }
  {
    SCOPED_TRACE("unknown dtype");
    std::string bad = whole;
    const size_t at = bad.find("\"F32\"");
    ASSERT_NE(at, std::string::npos);
    bad.replace(at, 5, "\"F99\"");
    write_file(path, bad);
    expect_refused({"info", "--model", model}, kBadInput,
                   {path + ": tensor '", "unknown dtype \"F99\"", "supported: F32"});
  }
}

// Rewrites the model's safetensors with one edit (through the library's own reader and writer,
// which tests/io checks against the reference's files).
template <class Edit>
void edit_tensors(const std::string& path, Edit edit) {
  TensorMap t = load_safetensors(path);
  edit(t);
  save_safetensors(path, t);
}

TEST_F(CliBadInput, MissingTensorIsNamed) {
  const std::string path = model + "/model.safetensors";
  edit_tensors(path, [](TensorMap& t) { ASSERT_EQ(t.erase("transformer.decoder.layers.1.linear2.weight"), 1u); });
  expect_refused(score_args(), kBadInput,
                 {path + ": tensor 'transformer.decoder.layers.1.linear2.weight' is missing"});
}

TEST_F(CliBadInput, TensorOfWrongShapeIsNamed) {
  const std::string path = model + "/model.safetensors";
  edit_tensors(path, [](TensorMap& t) { t["generator.weight"] = Tensor::zeros({41, 32}); });
  expect_refused(score_args(), kBadInput,
                 {path + ": tensor 'generator.weight' has shape (41, 32), expected (40, 32)"});
}

TEST_F(CliBadInput, UnknownTensorIsNamed) {
  const std::string path = model + "/model.safetensors";
  edit_tensors(path, [](TensorMap& t) { t["generator.weigth"] = Tensor::zeros({40, 32}); });
  expect_refused({"info", "--model", model}, kBadInput, {path + ": unknown tensor 'generator.weigth'"});
}

// --- input files and lines ---

TEST_F(CliBadInput, MissingSrcOrTgtFileIsNamed) {
  const std::string missing = dir.file("in/no_such.ids");
  expect_refused({"score", "--model", model, "--src", missing, "--tgt", tgt, "--ids"}, kBadInput,
                 {missing + ": No such file"});
  expect_refused({"score", "--model", model, "--src", src, "--tgt", missing, "--ids"}, kBadInput,
                 {missing + ": No such file"});
}

TEST_F(CliBadInput, SrcAndTgtWithDifferentLineCountsAreRefused) {
  const std::string short_tgt = dir.write("in/short.ids", "4 5\n6 7 8\n");
  expect_refused({"score", "--model", model, "--src", src, "--tgt", short_tgt, "--ids"}, kBadInput,
                 {src + " has 3 lines but " + short_tgt + " has 2", "one target line per source line"});
}

TEST_F(CliBadInput, MalformedIdsLineNamesFileLineAndToken) {
  const std::string bad = dir.write("in/bad.ids", "4 5 6\n7 x8 9\n11\n");
  expect_refused({"score", "--model", model, "--src", bad, "--tgt", tgt, "--ids"}, kBadInput,
                 {bad + ":2: expected a token id, got 'x8'"});
  expect_refused({"score", "--model", model, "--src", src, "--tgt", bad, "--ids"}, kBadInput,
                 {bad + ":2: expected a token id, got 'x8'"});
  const std::string frac = dir.write("in/frac.ids", "4 5 6\n7 8\n9 6.5\n");
  expect_refused({"score", "--model", model, "--src", frac, "--tgt", tgt, "--ids"}, kBadInput,
                 {frac + ":3: expected a token id, got '6.5'"});
  expect_refused({"translate", "--model", model, "--ids"}, kBadInput,
                 {"<stdin>:2: expected a token id, got 'x8'"}, bad, /*check_stdout=*/false);
}

TEST_F(CliBadInput, TokenIdOutOfRangeNamesFileLineAndRange) {
  const std::string src_bad = dir.write("in/src_oor.ids", "4 5 6\n7 8\n9 50\n");
  expect_refused({"score", "--model", model, "--src", src_bad, "--tgt", tgt, "--ids"}, kBadInput,
                 {src_bad + ":3: token id 50 is outside [0, 50)"});
  const std::string tgt_bad = dir.write("in/tgt_oor.ids", "4 5\n40\n9\n");  // tgt vocabulary is 40
  expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt_bad, "--ids"}, kBadInput,
                 {tgt_bad + ":2: token id 40 is outside [0, 40)"});
  const std::string negative = dir.write("in/neg.ids", "4 -1\n7 8\n9\n");
  expect_refused({"score", "--model", model, "--src", negative, "--tgt", tgt, "--ids"}, kBadInput,
                 {negative + ":1: token id -1 is outside [0, 50)"});
  const std::string huge = dir.write("in/huge.ids", "4\n7 99999999999999999999\n9\n");
  expect_refused({"score", "--model", model, "--src", huge, "--tgt", tgt, "--ids"}, kBadInput,
                 {huge + ":2: token id 99999999999999999999 is outside [0, 50)"});
  expect_refused({"translate", "--model", model, "--ids"}, kBadInput,
                 {"<stdin>:3: token id 50 is outside [0, 50)"}, src_bad, false);
}

TEST_F(CliBadInput, SequenceOverMaxLenNamesFileAndLine) {
  // max_len 32 holds 31 tokens and the eos.
  const std::string too_long = dir.write("in/long.ids", "4 5\n" + ids_line(32) + "\n6\n");
  const std::string msg = ":2: sequence of 32 tokens is too long: the model takes at most 31 (max_len 32";
  expect_refused({"score", "--model", model, "--src", too_long, "--tgt", tgt, "--ids"}, kBadInput, {too_long + msg});
  const std::string tgt_long = dir.write("in/tgt_long.ids", "4 5\n" + ids_line(32) + "\n6\n");
  expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt_long, "--ids"}, kBadInput, {tgt_long + msg});
  expect_refused({"translate", "--model", model, "--ids"}, kBadInput, {"<stdin>" + msg}, too_long, false);
}

TEST_F(CliBadInput, SequenceOfExactlyMaxLenMinusOneIsAccepted) {
  const std::string longest = dir.write("in/longest.ids", "4 5\n" + ids_line(31) + "\n6\n");
  std::string t;  // 31 target ids, below the tgt vocabulary of 40
  for (int i = 0; i < 31; ++i) t.append(i ? " " : "").append(std::to_string(4 + i));
  const std::string tgt31 = dir.write("in/tgt31.ids", "4\n" + t + "\n5\n");
  CliResult r = run_cli1({"score", "--model", model, "--src", longest, "--tgt", tgt31, "--ids"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(count_lines(r.out), 3u) << r;
  r = run_cli1({"translate", "--model", model, "--ids"}, longest);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(count_lines(r.out), 3u) << r;
}

TEST_F(CliBadInput, InvalidUtf8NamesFileLineAndByte) {
  const std::string bad = dir.write("in/bad_utf8.ids", "4 5\n6 \xff 7\n8\n");
  expect_refused({"score", "--model", model, "--src", bad, "--tgt", tgt, "--ids"}, kBadInput,
                 {bad + ":2: invalid UTF-8 at byte 3 (0xFF)", "expected UTF-8 text"});
  expect_refused({"translate", "--model", model, "--ids"}, kBadInput,
                 {"<stdin>:2: invalid UTF-8 at byte 3 (0xFF)"}, bad, false);
}

// --- text mode: a model directory with char vocabularies ---

// Makes `model` a text model: char vocabularies of 50 (a-z, A-T) and 40 (a-z, 0-9) symbols.
void add_char_tokenizers(const std::string& model) {
  auto vocab = [](const std::string& symbols) {
    std::string s = "#transformer-vocab char v1 size=" + std::to_string(4 + symbols.size()) +
                    "\n<pad>\n<s>\n</s>\n<unk>\n";
    for (char c : symbols) s += std::string(1, c) + "\n";
    return s;
  };
  write_file(model + "/src.vocab", vocab("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"));
  write_file(model + "/tgt.vocab", vocab("abcdefghijklmnopqrstuvwxyz0123456789"));
  auto j = nlohmann::ordered_json::parse(read_file(model + "/config.json"));
  j["src_tokenizer"] = "src.vocab";
  j["tgt_tokenizer"] = "tgt.vocab";
  write_file(model + "/config.json", j.dump(2));
}

TEST_F(CliBadInput, UnknownSymbolInTextModeWarnsNamingTheLineAndSucceeds) {
  add_char_tokenizers(model);
  const std::string in = dir.write("in/src.txt", "abc\nhello\nab?c!\n");
  const std::string out = dir.write("in/tgt.txt", "abc\nhello\nab9c\n");
  const Snapshot before = snapshot(dir.path());
  CliResult r = run_cli1({"score", "--model", model, "--src", in, "--tgt", out});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(count_lines(r.out), 3u) << r;
  EXPECT_NE(r.err.find(in + ":3: warning: unknown symbols '?', '!' mapped to <unk>"), std::string::npos) << r;
  EXPECT_EQ(r.err.find(":1:"), std::string::npos) << "only line 3 has unknown symbols\n" << r;

  r = run_cli1({"translate", "--model", model}, in);
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(count_lines(r.out), 3u) << r;
  EXPECT_NE(r.err.find("<stdin>:3: warning: unknown symbols '?', '!' mapped to <unk>"), std::string::npos) << r;
  EXPECT_EQ(snapshot_diff(before, snapshot(dir.path())), "");
}

TEST_F(CliBadInput, InvalidUtf8InTextModeNamesFileAndLine) {
  add_char_tokenizers(model);
  const std::string bad = dir.write("in/bad.txt", "abc\nhe\xc3llo\n");
  const std::string ok = dir.write("in/ok.txt", "abc\nhello\n");
  expect_refused({"score", "--model", model, "--src", bad, "--tgt", ok}, kBadInput,
                 {bad + ":2: invalid UTF-8 at byte 3 (0xC3)"});
  expect_refused({"translate", "--model", model}, kBadInput, {"<stdin>:2: invalid UTF-8 at byte 3"}, bad, false);
}

TEST_F(CliBadInput, TextInputToAnIdsOnlyModelAsksForIds) {
  expect_refused({"translate", "--model", model}, kBadInput, {model + ": this model has no", "--ids"}, src, false);
  expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt}, kBadInput,
                 {model + ": this model has no tokenizer", "--ids"});
}

TEST_F(CliBadInput, MissingTokenizerFileIsNamed) {
  add_char_tokenizers(model);
  fs::remove(model + "/tgt.vocab");
  expect_refused({"info", "--model", model}, kBadInput, {model + "/tgt.vocab"});
}

TEST_F(CliBadInput, TokenizerSizeDisagreeingWithConfigIsNamed) {
  add_char_tokenizers(model);
  auto j = config();
  j["src_tokenizer"] = "tgt.vocab";  // 40 ids, but src_vocab_size is 50
  set_config(j);
  expect_refused({"info", "--model", model}, kBadInput,
                 {model + "/tgt.vocab: the tokenizer has 40 ids but config.json's src_vocab_size is 50"});
}

// --- train: bad data must leave an existing model directory as it was ---

TEST_F(CliBadInput, TrainOnMalformedTsvNamesFileAndLineAndKeepsTheModel) {
  const std::string tsv = dir.write("in/train.tsv", "abc\tcba\nhello\n");
  expect_refused({"train", "--model", model, "--train-tsv", tsv, "--steps", "1"}, kBadInput,
                 {tsv + ":2: expected 'source<TAB>target' with exactly one tab, got no tab"});
}

TEST_F(CliBadInput, TrainOnMissingOrMisalignedFilesKeepsTheModel) {
  const std::string missing = dir.file("in/no_such.txt");
  expect_refused({"train", "--model", model, "--train-src", missing, "--train-tgt", tgt, "--steps", "1"}, kBadInput,
                 {missing + ": No such file"});
  const std::string two = dir.write("in/two.txt", "abc\ndef\n"), one = dir.write("in/one.txt", "x\n");
  expect_refused({"train", "--model", model, "--train-src", two, "--train-tgt", one, "--steps", "1"}, kBadInput,
                 {two + "' has 2 lines but '" + one + "' has 1"});
}

TEST_F(CliBadInput, TrainWithUnknownConfigKeyKeepsTheModel) {
  const std::string text = dir.write("in/text.txt", "abc\ndef\n");
  expect_refused({"train", "--model", model, "--train-src", text, "--train-tgt", text, "--steps", "1", "--set",
                  "d_modle=32"},
                 kBadInput, {"--set: unknown config key \"d_modle\""});
}

// DISABLED: fails today. train_job writes config.json (and, in text mode, the tokenizer files)
// into --model before it encodes the data, so a malformed ids line or an over-long sentence
// leaves an existing model directory with a config.json that no longer matches its
// model.safetensors. Enable when the data is checked before anything is written.
TEST_F(CliBadInput, TrainOnMalformedIdsKeepsTheModel) {
  const std::string bad = dir.write("in/bad.ids", "4 5\n4 x\n");
  expect_refused({"train", "--model", model, "--train-src", bad, "--train-tgt", bad, "--ids", "--steps", "1",
                  "--set", "src_vocab_size=50", "--set", "tgt_vocab_size=40"},
                 kBadInput, {bad + ":2: expected a token id, got 'x'"});
}

// DISABLED: fails today, as above; and the message says "example 1: the source has 16 tokens"
// instead of naming the file and line (long.tsv:2).
TEST_F(CliBadInput, TrainOnSentenceOverMaxLenNamesFileAndLineAndKeepsTheModel) {
  const std::string tsv = dir.write("in/long.tsv", "abc\tcba\nabcdefghijklmnop\tx\n");
  expect_refused({"train", "--model", model, "--train-tsv", tsv, "--steps", "1", "--set", "max_len=8"}, kBadInput,
                 {tsv + ":2: ", "16 tokens"});
}

// --- options: exit 2, the message names the option ---

TEST_F(CliBadInput, UnknownFlagIsAWrongOption) {
  expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt, "--ids", "--bogus"},
                 kWrongOption, {"--bogus", "--help"});
}

TEST_F(CliBadInput, MissingRequiredOptionIsAWrongOption) {
  expect_refused({"score", "--model", model, "--src", src, "--ids"}, kWrongOption, {"--tgt is required"});
  expect_refused({"translate", "--ids"}, kWrongOption, {"--model is required"});
  expect_refused({"info"}, kWrongOption, {"--model is required"});
}

TEST_F(CliBadInput, OptionValueOutOfRangeIsAWrongOption) {
  expect_refused({"translate", "--model", model, "--ids", "--beam", "0"}, kWrongOption, {"--beam", "0"}, src);
  expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt, "--ids", "--batch", "0"}, kWrongOption,
                 {"--batch", "0"});
  expect_refused({"info", "--model", model, "--length", "0"}, kWrongOption, {"--length", "0"});
}

TEST_F(CliBadInput, NonNumericOptionValueIsAWrongOption) {
  expect_refused({"translate", "--model", model, "--ids", "--beam", "abc"}, kWrongOption, {"--beam", "abc"}, src);
  expect_refused({"translate", "--model", model, "--ids", "--alpha", "abc"}, kWrongOption, {"--alpha", "abc"}, src);
  expect_refused({"score", "--model", model, "--src", src, "--tgt", tgt, "--ids", "--batch", "x"}, kWrongOption,
                 {"--batch", "x"});
  CliResult r = run_cli({"--threads", "two", "info", "--model", model});  // no --threads 1 in front
  EXPECT_EQ(r.code, kWrongOption) << r;
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r;
  EXPECT_NE(r.err.find("two"), std::string::npos) << r;
}

TEST_F(CliBadInput, MissingOrUnknownSubcommandIsAWrongOption) {
  expect_refused({}, kWrongOption, {"subcommand"});
  expect_refused({"frobnicate"}, kWrongOption, {});
}

// --- help: exit 0, the options listed on stdout ---

TEST(CliHelp, EachSubcommandListsItsOptions) {
  const std::map<std::string, std::vector<std::string>> options = {
      {"translate", {"--model", "--beam", "--alpha", "--max-len-ratio", "--max-len-extra", "--batch", "--ids"}},
      {"score", {"--model", "--src", "--tgt", "--ids", "--per-token", "--batch"}},
      {"info", {"--model", "--length"}},
      {"train", {"--model", "--config", "--set", "--resume", "--train-src", "--train-tgt", "--train-tsv",
                 "--valid-src", "--valid-tgt", "--valid-tsv", "--train-text", "--valid-text", "--ids", "--steps"}},
      {"sample", {"--model", "--prompt", "--stdin", "--num", "--max-tokens", "--temperature", "--top-k", "--top-p",
                  "--seed", "--ids"}},
      {"average", {"--checkpoints", "--last", "--out"}},
  };
  for (const auto& [sub, opts] : options) {
    SCOPED_TRACE(sub);
    CliResult r = run_cli({sub, "--help"});
    EXPECT_EQ(r.code, 0) << r;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << r;
    for (const std::string& o : opts) EXPECT_NE(r.out.find(o), std::string::npos) << "help should list " << o << "\n" << r;
  }
  CliResult r = run_cli({"--help"});
  EXPECT_EQ(r.code, 0) << r;
  for (const char* sub : {"train", "translate", "score", "info", "sample", "average", "eval", "--threads"})
    EXPECT_NE(r.out.find(sub), std::string::npos) << "top-level help should list " << sub << "\n" << r;
}

}  // namespace
}  // namespace tfm::cli_test
