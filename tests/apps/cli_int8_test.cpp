// The global --int8 flag on the real binary: inference commands run with int8 linear layers and
// give their usual output; it is refused for training (and the other non-inference commands)
// and together with --bf16, with exit code 2 and a message, before anything is written.
#include <gtest/gtest.h>

#include "cli_test_util.h"
#include "kernels/inference_linear.h"

namespace tfm::cli_test {
namespace {

class CliInt8 : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    const char* words[] = {"cat", "dog", "bird", "fish", "cow", "horse", "sheep", "goat"};
    for (int i = 0; i < 40; ++i) {
      const std::string w = words[i % 8];
      text += w + "\t" + std::string(w.rbegin(), w.rend()) + "\n";
    }
    tsv = dir.write("in/train.tsv", text);
    model = dir.file("m");
    const CliResult r = run_cli1({"train", "--model", model, "--train-tsv", tsv, "--tokenizer", "char", "--set",
                                  "d_model=32", "--set", "heads=2", "--set", "d_ff=64", "--set", "encoder_layers=1",
                                  "--set", "decoder_layers=1", "--set", "max_len=16", "--max-tokens", "64",
                                  "--steps", "3", "--log-every", "0"});
    ASSERT_EQ(r.code, 0) << r;
  }
  ScratchDir dir;
  std::string tsv, model;
};

TEST_F(CliInt8, InferenceCommandsRun) {
  if (!kernels::int8_supported()) {
    const CliResult r = run_cli1({"--int8", "translate", "--model", model}, dir.write("in/w.txt", "cat\n"));
    EXPECT_EQ(r.code, 1) << r;
    EXPECT_NE(r.err.find("VNNI"), std::string::npos) << r;
    GTEST_SKIP() << "no VNNI on this CPU";
  }
  const std::string words = dir.write("in/w.txt", "cat\ndog\n\nhorse\n");
  for (const char* beam : {"1", "3"}) {
    const CliResult t = run_cli1({"--int8", "translate", "--model", model, "--beam", beam}, words);
    ASSERT_EQ(t.code, 0) << t;
    EXPECT_EQ(count_lines(t.out), 4u) << t;
  }
  const std::string tgt = dir.write("in/t.txt", "tac\ngod\n\nesroh\n");
  const CliResult s = run_cli1({"--int8", "score", "--model", model, "--src", words, "--tgt", tgt});
  ASSERT_EQ(s.code, 0) << s;
  EXPECT_EQ(count_lines(s.out), 4u) << s;
  const CliResult e = run_cli1({"--int8", "eval", "--model", model, "--split", tsv});
  ASSERT_EQ(e.code, 0) << e;
  EXPECT_NE(e.out.find("WER"), std::string::npos) << e;
}

TEST_F(CliInt8, RefusedForTrainingAndWithBf16) {
  const Snapshot before = snapshot(dir.path());
  const CliResult t = run_cli1({"--int8", "train", "--model", dir.file("m2"), "--train-tsv", tsv, "--steps", "1"});
  EXPECT_EQ(t.code, 2) << t;
  EXPECT_NE(t.err.find("--int8 is for inference"), std::string::npos) << t;
  const CliResult a = run_cli1({"--int8", "average", "--checkpoints", model + "/checkpoints", "--out", dir.file("a")});
  EXPECT_EQ(a.code, 2) << a;
  const CliResult both = run_cli1({"--int8", "--bf16", "translate", "--model", model});
  EXPECT_EQ(both.code, 2) << both;
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both;
  EXPECT_EQ(snapshot_diff(before, snapshot(dir.path())), "");
}

}  // namespace
}  // namespace tfm::cli_test
