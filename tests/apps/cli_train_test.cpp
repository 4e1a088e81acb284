// `transformer train` end to end on tiny data: the model directory it leaves, the tokenizer
// kinds, the JSON config with command-line overrides, and --resume after an interruption giving
// exactly the model of an uninterrupted run.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_test_util.h"

namespace tfm::cli_test {
namespace {

namespace fs = std::filesystem;

std::string tiny_tsv(const ScratchDir& d) {
  std::string text;
  const char* words[] = {"cat", "dog", "bird", "fish", "cow", "horse", "sheep", "goat", "duck", "hen"};
  for (int i = 0; i < 40; ++i) {
    std::string w = words[i % 10];
    std::string r(w.rbegin(), w.rend());
    text += w + (i % 3 ? "s" : "") + "\t" + r + "\n";
  }
  return d.write("in/train.tsv", text);
}

std::vector<std::string> tiny_train(const std::string& model, const std::string& tsv) {
  return {"train", "--model", model, "--train-tsv", tsv, "--set", "d_model=16", "--set", "heads=2",
          "--set", "d_ff=24", "--set", "encoder_layers=1", "--set", "decoder_layers=1", "--set", "max_len=16",
          "--max-tokens", "64", "--log-every", "0"};
}

TEST(CliTrain, LeavesAModelDirectoryThatTranslatesAndScores) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d), model = d.file("m");
  auto args = tiny_train(model, tsv);
  args.insert(args.end(), {"--steps", "3", "--tokenizer", "char"});
  CliResult r = run_cli1(args);
  ASSERT_EQ(r.code, 0) << r;
  for (const char* f : {"config.json", "model.safetensors", "src.vocab", "tgt.vocab"})
    EXPECT_TRUE(fs::exists(fs::path(model) / f)) << f;
  const std::string in = d.write("in/words.txt", "cat\ndogs\n\n");
  CliResult t = run_cli1({"translate", "--model", model, "--beam", "2"}, in);
  ASSERT_EQ(t.code, 0) << t;
  EXPECT_EQ(count_lines(t.out), 3u) << t;
  const std::string tgt = d.write("in/tgt.txt", "tac\nsgod\n\n");
  CliResult s = run_cli1({"score", "--model", model, "--src", in, "--tgt", tgt});
  ASSERT_EQ(s.code, 0) << s;
  EXPECT_EQ(parse_rows(s.out).size(), 3u);
  // Every checkpoint is itself a model directory.
  CliResult i = run_cli1({"info", "--model", model + "/checkpoints/step-00000003"});
  EXPECT_EQ(i.code, 0) << i;
}

TEST(CliTrain, SentencePieceTokenizersAreTrainedFromTheCorpus) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d), model = d.file("m");
  auto args = tiny_train(model, tsv);
  args.insert(args.end(), {"--steps", "1", "--tokenizer", "bpe", "--vocab-size", "40", "--shared-vocab",
                           "--set", "tie_embeddings=true"});
  CliResult r = run_cli1(args);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_TRUE(fs::exists(fs::path(model) / "shared.spm.model"));
  CliResult i = run_cli1({"info", "--model", model});
  ASSERT_EQ(i.code, 0) << i;
  EXPECT_NE(i.out.find("source tokenizer: sentencepiece"), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("\"tie_embeddings\": true"), std::string::npos) << i.out;
}

TEST(CliTrain, ConfigFileTrainKeysYieldToTheCommandLine) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d), model = d.file("m");
  const std::string cfg = d.write("in/cfg.json", R"({"d_model": 16, "heads": 2, "d_ff": 24, "encoder_layers": 1,
    "decoder_layers": 1, "max_len": 16, "train": {"steps": 50, "max_tokens": 64, "tokenizer": "word"}})");
  CliResult r = run_cli1({"train", "--model", model, "--train-tsv", tsv, "--config", cfg, "--steps", "2",
                          "--log-every", "0"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.err.find("done: 2 steps"), std::string::npos) << r;
  EXPECT_TRUE(fs::exists(fs::path(model) / "src.vocab"));
  EXPECT_NE(read_file(model + "/src.vocab").find("#transformer-vocab word"), std::string::npos);
}

TEST(CliTrain, ResumeAfterAnInterruptionEqualsAnUninterruptedRun) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d);
  auto run = [&](const std::string& model, const char* steps, bool resume) {
    auto args = tiny_train(model, tsv);
    args.insert(args.end(), {"--steps", steps, "--save-every", "2", "--set", "dropout=0.1"});
    if (resume) args.push_back("--resume");
    return run_cli1(args);
  };
  const std::string a = d.file("a"), b = d.file("b");
  ASSERT_EQ(run(a, "6", false).code, 0);
  ASSERT_EQ(run(b, "4", false).code, 0);
  // As if killed after the checkpoint of step 4: the final model file was never written.
  fs::remove(fs::path(b) / "model.safetensors");
  CliResult r = run(b, "6", true);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.err.find("resuming from"), std::string::npos) << r;
  EXPECT_EQ(read_file(a + "/model.safetensors"), read_file(b + "/model.safetensors"))
      << "the resumed run's weights differ from the uninterrupted run's";
}

// --schedule linear: up to --lr over --warmup steps, then straight down to 0 at the last of --steps;
// without --steps it has no end, and is refused before anything is written.
TEST(CliTrain, LinearScheduleFallsToZeroAtTheLastStep) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d), model = d.file("m");
  auto args = tiny_train(model, tsv);
  args.back() = "1";  // --log-every 1
  args.insert(args.end(), {"--schedule", "linear", "--lr", "0.004", "--warmup", "1"});
  auto no_steps = args;
  no_steps.insert(no_steps.end(), {"--epochs", "1"});
  CliResult refused = run_cli1(no_steps);
  EXPECT_NE(refused.code, 0) << refused;
  EXPECT_NE(refused.err.find("--steps"), std::string::npos) << refused;
  EXPECT_FALSE(fs::exists(model));
  args.insert(args.end(), {"--steps", "5"});
  CliResult r = run_cli1(args);
  ASSERT_EQ(r.code, 0) << r;
  // Steps 1..5 of linear(peak 0.004, warmup 1, total 5): 0.004, 0.003, 0.002, 0.001, 0.
  const char* rates[] = {"0.004", "0.003", "0.002", "0.001", "0"};
  for (int k = 1; k <= 5; ++k) {
    const size_t at = r.err.find("step " + std::to_string(k) + " epoch ");
    ASSERT_NE(at, std::string::npos) << "no log line for step " << k << "\n" << r;
    const std::string line = r.err.substr(at, r.err.find('\n', at) - at);
    EXPECT_NE(line.find(std::string(" lr ") + rates[k - 1] + " loss "), std::string::npos) << line;
  }
}

TEST(CliTrain, RefusesToOverwriteAnExistingModel) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d), model = d.file("m");
  auto args = tiny_train(model, tsv);
  args.insert(args.end(), {"--steps", "1"});
  ASSERT_EQ(run_cli1(args).code, 0);
  const Snapshot before = snapshot(model);
  CliResult r = run_cli1(args);
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_NE(r.err.find("already holds a model"), std::string::npos) << r;
  EXPECT_EQ(snapshot_diff(before, snapshot(model)), "");
}

}  // namespace
}  // namespace tfm::cli_test

namespace tfm::cli_test {
namespace {

// --src-lowercase: the source vocabulary lowercases its input, so capitals are read as the
// lowercase letters it was trained on, with no unknown-symbol warning.
TEST(CliTrain, SrcLowercaseReadsCapitalsAsLowercase) {
  ScratchDir d;
  const std::string tsv = tiny_tsv(d), model = d.file("m");
  auto args = tiny_train(model, tsv);
  args.insert(args.end(), {"--steps", "2", "--tokenizer", "char", "--src-lowercase"});
  ASSERT_EQ(run_cli1(args).code, 0);
  EXPECT_NE(read_file(model + "/src.vocab").find(" lowercase\n"), std::string::npos);
  EXPECT_EQ(read_file(model + "/tgt.vocab").find("lowercase"), std::string::npos) << "the target is untouched";
  const std::string lower = d.write("in/lower.txt", "cat\ndog\n"), upper = d.write("in/upper.txt", "CAT\nDog\n");
  CliResult a = run_cli1({"translate", "--model", model}, lower);
  CliResult b = run_cli1({"translate", "--model", model}, upper);
  ASSERT_EQ(b.code, 0) << b;
  EXPECT_EQ(b.err, "") << "no unknown-symbol warning";
  EXPECT_EQ(a.out, b.out);
}

}  // namespace
}  // namespace tfm::cli_test
