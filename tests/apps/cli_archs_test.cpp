// The decoder-only language model and the RNN encoder-decoder through the CLI: trained from the
// command line, saved as model directories, sampled, translated, scored and averaged; and the
// wrong combinations refused with a message and nothing changed.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_test_util.h"

namespace tfm::cli_test {
namespace {

namespace fs = std::filesystem;

// Lines "abcab..." of 3-10 letters: a pattern an LM learns in a few dozen steps.
std::string pattern_text(const ScratchDir& d, const std::string& name) {
  std::string text;
  for (int i = 0; i < 120; ++i) {
    const int n = 3 + i % 8;
    for (int j = 0; j < n; ++j) text += static_cast<char>('a' + j % 3);
    text += "\n";
  }
  return d.write(name, text);
}

std::vector<std::string> lm_train(const std::string& model, const std::string& text) {
  return {"train", "--model", model, "--train-text", text, "--valid-text", text, "--set", "arch=lm",
          "--set", "d_model=16", "--set", "heads=2", "--set", "d_ff=24", "--set", "decoder_layers=2",
          "--set", "max_len=16", "--tokenizer", "char", "--max-tokens", "160", "--log-every", "0",
          "--warmup", "40", "--validate-every", "100"};
}

TEST(CliArchs, LanguageModelTrainsSamplesAndScores) {
  ScratchDir d;
  const std::string text = pattern_text(d, "in/text.txt"), model = d.file("lm");
  auto args = lm_train(model, text);
  args.insert(args.end(), {"--steps", "200"});
  CliResult r = run_cli1(args);
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.err.find("model: lm"), std::string::npos) << r;
  for (const char* f : {"config.json", "model.safetensors", "tgt.vocab"})
    EXPECT_TRUE(fs::exists(fs::path(model) / f)) << f;
  EXPECT_FALSE(fs::exists(fs::path(model) / "src.vocab"));
  EXPECT_NE(read_file(model + "/config.json").find("\"arch\": \"lm\""), std::string::npos);

  // Sampling: --num lines, each the prompt followed by its continuation, of letters a-c only.
  CliResult s = run_cli1({"sample", "--model", model, "--prompt", "ab", "--num", "5", "--max-tokens", "12",
                          "--seed", "4"});
  ASSERT_EQ(s.code, 0) << s;
  EXPECT_EQ(count_lines(s.out), 5u) << s;
  std::istringstream lines(s.out);
  for (std::string l; std::getline(lines, l);) {
    EXPECT_EQ(l.rfind("ab", 0), 0u) << l;
    EXPECT_LE(l.size(), 14u) << l;
  }
  // Same seed, same samples; greedy-like sampling (top-k 1) continues the learned pattern.
  CliResult s2 = run_cli1({"sample", "--model", model, "--prompt", "ab", "--num", "5", "--max-tokens", "12",
                           "--seed", "4"});
  EXPECT_EQ(s2.out, s.out);
  CliResult g = run_cli1({"sample", "--model", model, "--prompt", "abcab", "--top-k", "1", "--max-tokens", "1"});
  ASSERT_EQ(g.code, 0) << g;
  EXPECT_EQ(g.out, "abcabc\n") << g;

  // Scoring an LM takes targets alone; the pattern scores far above a scrambled line.
  const std::string tgt = d.write("in/tgt.txt", "abcabc\ncbacba\n");
  CliResult sc = run_cli1({"score", "--model", model, "--tgt", tgt});
  ASSERT_EQ(sc.code, 0) << sc;
  const auto rows = parse_rows(sc.out);
  ASSERT_EQ(rows.size(), 2u) << sc;
  EXPECT_GT(rows[0][0], rows[1][0] + 3.0) << sc;

  // A language model has no source: translate says so, and score refuses --src.
  const std::string in = d.write("in/src.txt", "abc\n");
  CliResult t = run_cli1({"translate", "--model", model}, in);
  EXPECT_EQ(t.code, 1) << t;
  EXPECT_NE(t.err.find("use `transformer sample`"), std::string::npos) << t;
  CliResult bad = run_cli1({"score", "--model", model, "--src", in, "--tgt", tgt});
  EXPECT_EQ(bad.code, 1) << bad;
  EXPECT_NE(bad.err.find("give --tgt only"), std::string::npos) << bad;
}

TEST(CliArchs, RnnSeq2SeqTrainsTranslatesAndAverages) {
  ScratchDir d;
  std::string tsv;
  const char* words[] = {"cat", "dog", "bird", "fish", "cow", "horse", "sheep", "goat", "duck", "hen"};
  for (int i = 0; i < 40; ++i) {
    std::string w = words[i % 10];
    tsv += w + "\t" + std::string(w.rbegin(), w.rend()) + "\n";
  }
  const std::string data = d.write("in/train.tsv", tsv);
  for (const char* att : {"none", "additive"}) {
    SCOPED_TRACE(att);
    const std::string model = d.file(std::string("rnn-") + att);
    CliResult r = run_cli1({"train", "--model", model, "--train-tsv", data, "--set", "arch=rnn", "--set",
                            std::string("attention=") + att, "--set", "rnn_cell=gru", "--set", "heads=1", "--set",
                            "d_model=16", "--set", "encoder_layers=1", "--set", "decoder_layers=1", "--set",
                            "max_len=16", "--tokenizer", "char", "--steps", "4", "--save-every", "2",
                            "--max-tokens", "64", "--log-every", "0"});
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_NE(r.err.find("model: rnn"), std::string::npos) << r;
    const std::string in = d.write("in/words.txt", "cat\nhorse\n");
    CliResult t = run_cli1({"translate", "--model", model, "--beam", "3"}, in);
    ASSERT_EQ(t.code, 0) << t;
    EXPECT_EQ(count_lines(t.out), 2u) << t;
    CliResult s = run_cli1({"sample", "--model", model, "--stdin", "--num", "2"}, in);
    ASSERT_EQ(s.code, 0) << s;
    EXPECT_EQ(count_lines(s.out), 4u) << s;
    CliResult a = run_cli1({"average", "--checkpoints", model + "/checkpoints", "--last", "2", "--out",
                            model + "-avg"});
    ASSERT_EQ(a.code, 0) << a;
    CliResult ta = run_cli1({"translate", "--model", model + "-avg"}, in);
    EXPECT_EQ(ta.code, 0) << ta;
  }
}

TEST(CliArchs, WrongDataForTheArchIsRefusedAndNothingIsWritten) {
  ScratchDir d;
  const std::string text = pattern_text(d, "in/text.txt");
  const std::string tsv = d.write("in/pairs.tsv", "ab\tba\n");
  // An LM given parallel data, a translation model given text.
  auto lm = lm_train(d.file("lm"), text);
  lm.insert(lm.end(), {"--train-tsv", tsv, "--steps", "1"});
  CliResult r = run_cli1(lm);
  EXPECT_EQ(r.code, 1) << r;
  EXPECT_NE(r.err.find("trains on text alone"), std::string::npos) << r;
  CliResult t = run_cli1({"train", "--model", d.file("t"), "--train-text", text, "--steps", "1"});
  EXPECT_EQ(t.code, 1) << t;
  EXPECT_NE(t.err.find("--train-text and --valid-text are for a language model"), std::string::npos) << t;
  // An RNN with unequal stacks, local attention, or relative positions.
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{"encoder_layers=2", "decoder_layers=1"},
        std::vector<std::string>{"local_attention=1d"}, std::vector<std::string>{"positional=relative"}}) {
    std::vector<std::string> args = {"train", "--model", d.file("r"), "--train-tsv", tsv, "--steps", "1",
                                     "--set", "arch=rnn"};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    CliResult b = run_cli1(args);
    EXPECT_EQ(b.code, 1) << b;
    EXPECT_NE(b.err.find("config"), std::string::npos) << b;
  }
  // Unknown arch, local attention with another score.
  CliResult u = run_cli1({"train", "--model", d.file("u"), "--train-tsv", tsv, "--set", "arch=gpt"});
  EXPECT_EQ(u.code, 1) << u;
  EXPECT_NE(u.err.find("arch must be \"transformer\", \"lm\" or \"rnn\""), std::string::npos) << u;
  CliResult l = run_cli1({"train", "--model", d.file("l"), "--train-tsv", tsv, "--set", "local_attention=1d",
                          "--set", "attention=additive"});
  EXPECT_EQ(l.code, 1) << l;
  EXPECT_NE(l.err.find("local_attention uses scaled dot-product scores"), std::string::npos) << l;
  // Sampling options out of range are wrong options (exit 2).
  CliResult o = run_cli1({"sample", "--model", d.file("lm"), "--top-p", "1.5"});
  EXPECT_EQ(o.code, 2) << o;
  // None of these runs left anything behind.
  for (const char* m : {"lm", "t", "r", "u", "l"})
    EXPECT_FALSE(fs::exists(fs::path(d.file(m)) / "config.json")) << m;
}

}  // namespace
}  // namespace tfm::cli_test
