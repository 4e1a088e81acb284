// `transformer eval` (WER/PER of G2P output) and `transformer cmudict` (the G2P split) on the real
// binary: exact output on hand-made files, every bad input refused naming the file and line with
// nothing on disk changed, and eval --model agreeing with translate and with eval --hyp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace tfm::cli_test {
namespace {

constexpr int kBadInput = 1;
constexpr int kWrongOption = 2;

constexpr const char* kRefs =
    "read\tR IY D\n"
    "hello\tHH AH L OW\n"
    "read\tR EH D\n"
    "a\tAH\n"
    "a\tEY\n"
    "cat\tK AE T\n";

class CliEval : public ::testing::Test {
 protected:
  void SetUp() override { ref = dir.write("in/ref.tsv", kRefs); }

  // Runs the CLI and checks a refusal: the exit code, every substring in stderr, empty stdout and
  // the scratch directory unchanged.
  void expect_refused(const std::vector<std::string>& args, int code, std::initializer_list<std::string> parts) {
    const Snapshot before = snapshot(dir.path());
    const CliResult r = run_cli1(args);
    EXPECT_EQ(r.code, code) << r;
    for (const auto& p : parts) EXPECT_NE(r.err.find(p), std::string::npos) << "missing '" << p << "'\n" << r;
    EXPECT_EQ(r.out, "") << r;
    EXPECT_EQ(snapshot_diff(before, snapshot(dir.path())), "");
  }

  ScratchDir dir;
  std::string ref;
};

TEST_F(CliEval, ScoresAHypothesisFileAgainstReferences) {
  // read: right (second reference); hello: one insertion; a: empty (1 deletion of the shorter...
  // equally short: the first, AH); cat: one deletion. 3 of 4 wrong, 3 edits over 3+4+1+3 = 11.
  const std::string hyp = dir.write("in/hyp.tsv", "cat\tK AE\na\t\nhello\tHH AH L L OW\nread\tR  EH D\n");
  const CliResult r = run_cli1({"eval", "--hyp", hyp, "--ref", ref});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "words: 4 (6 reference pronunciations)\n"
            "WER: 75.00% (3 of 4 words wrong)\n"
            "PER: 27.27% (3 edits over 11 reference phonemes)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliEval, ByLengthPrintsOneRowPerWordLength) {
  const std::string hyp = dir.write("in/hyp.tsv", "read\tR EH D\nhello\tHH AH L L OW\na\t\ncat\tK AE\n");
  const CliResult r = run_cli1({"eval", "--hyp", hyp, "--split", ref, "--by-length"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out,
            "words: 4 (6 reference pronunciations)\n"
            "WER: 75.00% (3 of 4 words wrong)\n"
            "PER: 27.27% (3 edits over 11 reference phonemes)\n"
            "length   words   wrong    WER%   edits      PER%\n"
            "     1       1       1  100.00       1    100.00\n"
            "     3       1       1  100.00       1     33.33\n"
            "     4       1       0    0.00       0      0.00\n"
            "     5       1       1  100.00       1     25.00\n");
}

TEST_F(CliEval, PerfectHypothesesScoreZero) {
  const std::string hyp = dir.write("in/hyp.tsv", "a\tEY\nread\tR IY D\nhello\tHH AH L OW\ncat\tK AE T\n");
  const CliResult r = run_cli1({"eval", "--hyp", hyp, "--ref", ref});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("WER: 0.00% (0 of 4 words wrong)\nPER: 0.00% (0 edits over 11 reference phonemes)\n"),
            std::string::npos) << r;
}

TEST_F(CliEval, BadFilesAreNamedWithTheirLine) {
  const std::string hyp = dir.write("in/hyp.tsv", "read\tR EH D\nhello\tHH AH L OW\na\tAH\ncat\tK AE T\n");
  expect_refused({"eval", "--hyp", dir.file("in/nope.tsv"), "--ref", ref}, kBadInput,
                 {dir.file("in/nope.tsv"), "No such file"});
  expect_refused({"eval", "--hyp", hyp, "--ref", dir.file("in/nope.tsv")}, kBadInput,
                 {dir.file("in/nope.tsv"), "No such file"});
  const std::string notab = dir.write("in/notab.tsv", "read\tR EH D\nhello HH AH L OW\n");
  expect_refused({"eval", "--hyp", notab, "--ref", ref}, kBadInput,
                 {notab + ":2: expected 'word<TAB>phonemes' with exactly one tab, got no tab"});
  const std::string badref = dir.write("in/badref.tsv", "read\tR IY D\nhello\t\n");
  expect_refused({"eval", "--hyp", hyp, "--ref", badref}, kBadInput,
                 {badref + ":2: empty pronunciation for 'hello'"});
  const std::string utf8 = dir.write("in/utf8.tsv", "read\tR EH D\nhe\xffllo\tHH\n");
  expect_refused({"eval", "--hyp", utf8, "--ref", ref}, kBadInput, {utf8 + ":2: invalid UTF-8"});
}

TEST_F(CliEval, HypothesesMustCoverEachReferenceWordOnce) {
  const std::string missing = dir.write("in/missing.tsv", "read\tR EH D\nhello\tHH AH L OW\na\tAH\n");
  expect_refused({"eval", "--hyp", missing, "--ref", ref}, kBadInput,
                 {missing + ": no hypothesis for 'cat' (" + ref + ":6)"});
  const std::string dup = dir.write("in/dup.tsv", "read\tR EH D\nhello\tHH\na\tAH\nread\tR\ncat\tK\n");
  expect_refused({"eval", "--hyp", dup, "--ref", ref}, kBadInput,
                 {dup + ":4: a second hypothesis for 'read' (the first is on line 1)"});
  const std::string extra = dir.write("in/extra.tsv", "read\tR EH D\ndog\tD AO G\n");
  expect_refused({"eval", "--hyp", extra, "--ref", ref}, kBadInput, {extra + ":2: 'dog' is not a word of " + ref});
}

TEST_F(CliEval, WrongOptionsAreRefused) {
  const std::string hyp = dir.write("in/hyp.tsv", "read\tR EH D\n");
  expect_refused({"eval", "--ref", ref}, kWrongOption, {"--model", "--hyp"});
  expect_refused({"eval", "--hyp", hyp, "--model", dir.path(), "--ref", ref}, kWrongOption, {"--model", "--hyp"});
  expect_refused({"eval", "--hyp", hyp}, kWrongOption, {"--split"});
  expect_refused({"eval", "--hyp", hyp, "--ref", ref, "--beam", "4"}, kWrongOption, {"--beam", "--model"});
  expect_refused({"eval", "--model", dir.path(), "--ref", ref, "--beam", "0"}, kWrongOption, {"--beam", "0"});
  expect_refused({"eval", "--model", dir.path(), "--ref", ref, "--batch", "x"}, kWrongOption, {"--batch", "x"});
}

TEST_F(CliEval, HelpListsEveryOptionAndTheOutputFormat) {
  const CliResult r = run_cli({"eval", "--help"});
  EXPECT_EQ(r.code, 0) << r;
  for (const char* o : {"Usage:", "--model", "--hyp", "--split", "--ref", "--beam", "--alpha", "--batch",
                        "--by-length", "--write-hyp", "WER: x.xx%", "PER: y.yy%", "length   words"})
    EXPECT_NE(r.out.find(o), std::string::npos) << o << "\n" << r;
  const CliResult c = run_cli({"cmudict", "--help"});
  EXPECT_EQ(c.code, 0) << c;
  for (const char* o : {"Usage:", "--dict", "--out", "--test-words", "--dev-words", "FNV-1a"})
    EXPECT_NE(c.out.find(o), std::string::npos) << o << "\n" << c;
}

// --- eval --model: a tiny model (tests/fixtures/parity/post_norm) with text tokenizers ---

// 36 phonemes of ARPAbet: the target vocabulary of 40 ids.
const std::vector<std::string> kPhonemes = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D",  "DH", "EH", "ER", "EY", "F", "G", "HH", "IH", "IY",
    "JH", "K",  "L",  "M",  "N",  "NG", "OW", "OY", "P", "R",  "S",  "SH", "T",  "TH", "UH", "UW", "V", "W"};

void make_g2p_model(const std::string& model) {
  fs::create_directories(model);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(parity_dir("post_norm") + "/" + f, model + "/" + f);
  auto vocab = [](const std::string& kind, const std::vector<std::string>& symbols) {
    std::string s = "#transformer-vocab " + kind + " v1 size=" + std::to_string(4 + symbols.size()) +
                    "\n<pad>\n<s>\n</s>\n<unk>\n";
    for (const auto& x : symbols) s += x + "\n";
    return s;
  };
  std::vector<std::string> letters;
  for (char c : std::string("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST")) letters.push_back(std::string(1, c));
  write_file(model + "/src.vocab", vocab("char", letters));
  write_file(model + "/tgt.vocab", vocab("word", kPhonemes));
  auto j = nlohmann::ordered_json::parse(read_file(model + "/config.json"));
  j["src_tokenizer"] = "src.vocab";
  j["tgt_tokenizer"] = "tgt.vocab";
  write_file(model + "/config.json", j.dump(2));
}

TEST_F(CliEval, ModelDecodesEachWordOnceAsTranslateDoesAndScoresAsHypDoes) {
  const std::string model = dir.file("model");
  make_g2p_model(model);
  const std::string hyp = dir.file("out/hyp.tsv");
  fs::create_directories(dir.file("out"));
  for (const char* beam : {"1", "3"}) {
    CliResult r = run_cli1({"eval", "--model", model, "--split", ref, "--beam", beam, "--batch", "2", "--write-hyp", hyp});
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_NE(r.err.find("eval: decoded 4 words in "), std::string::npos) << r;
    EXPECT_NE(r.out.find("words: 4 (6 reference pronunciations)\nWER: "), std::string::npos) << r;
    // The hypothesis file: the unique words in the order of their first line.
    const std::string written = read_file(hyp);
    std::vector<std::string> words, prons;
    std::istringstream lines(written);
    for (std::string line; std::getline(lines, line);) {
      words.push_back(line.substr(0, line.find('\t')));
      prons.push_back(line.substr(line.find('\t') + 1));
    }
    EXPECT_EQ(words, (std::vector<std::string>{"read", "hello", "a", "cat"}));
    // translate gives the same phonemes for the same words.
    const std::string in = dir.write("out/words.txt", "read\nhello\na\ncat\n");
    const CliResult t = run_cli1({"translate", "--model", model, "--beam", beam}, in);
    ASSERT_EQ(t.code, 0) << t;
    std::string expected;
    for (const auto& p : prons) expected += p + "\n";
    EXPECT_EQ(t.out, expected);
    // Scoring the written hypotheses gives the same numbers.
    const CliResult h = run_cli1({"eval", "--hyp", hyp, "--ref", ref});
    ASSERT_EQ(h.code, 0) << h;
    EXPECT_EQ(h.out, r.out);
  }
}

TEST_F(CliEval, ModelWarnsOfUnknownCharactersNamingTheSplitLine) {
  const std::string model = dir.file("model");
  make_g2p_model(model);
  const std::string split = dir.write("in/split.tsv", "cat\tK AE T\nread\tR IY D\ndon't\tD OW N T\nread\tR EH D\n");
  const CliResult r = run_cli1({"eval", "--model", model, "--split", split});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.err.find(split + ":3: warning: unknown symbol ''' mapped to <unk>"), std::string::npos) << r;
  EXPECT_EQ(r.err.find(":1: warning"), std::string::npos) << r;
  EXPECT_NE(r.out.find("words: 3 (4 reference pronunciations)"), std::string::npos) << r;
}

TEST_F(CliEval, ModelErrorsNameTheModelAndTheSplitLine) {
  expect_refused({"eval", "--model", dir.file("nomodel"), "--split", ref}, kBadInput,
                 {dir.file("nomodel") + ": no such model directory"});
  const std::string model = dir.file("model");
  make_g2p_model(model);
  // max_len 32: a word of 32 characters does not fit (31 and eos do).
  const std::string split = dir.write("in/long.tsv", "cat\tK AE T\n" + std::string(32, 'a') + "\tAH\n");
  expect_refused({"eval", "--model", model, "--split", split}, kBadInput,
                 {split + ":2: sequence of 32 tokens is too long"});
}

// --- cmudict: the split ---

constexpr const char* kDict =
    ";;; comment\n"
    "HELLO  HH AH0 L OW1\n"
    "HELLO(1)  HH EH0 L OW1\n"
    "AD-HOC  AE1 D HH AA1 K\n"
    "A.  EY1\n"
    "CAT  K AE1 T\n"
    "DOG  D AO1 G\n"
    "READ  R EH1 D\n"
    "READ(1)  R IY1 D\n"
    "DON'T  D OW1 N T\n";

TEST(CliCmudict, WritesTheThreePartsAndPrintsTheCounts) {
  ScratchDir dir;
  const std::string dict = dir.write("dict.txt", kDict);
  const std::string out = dir.file("split");
  const CliResult r = run_cli1({"cmudict", "--dict", dict, "--out", out, "--test-words", "2", "--dev-words", "1"});
  ASSERT_EQ(r.code, 0) << r;
  for (const char* s :
       {"lines: 10 (1 comments, 0 blank)\n", "entries: 9\n",
        "dropped: 2 entries of 2 headwords: digit 0, period 1, hyphen 1, underscore 0, other symbol 0, "
        "non-ASCII byte 0, no letter 0\n",
        "kept: 7 entries; 0 merged", "words: 5, pronunciations: 7\n", "test: 2 words", "dev: 1 words",
        "train: 2 words"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r;
  std::string all;
  for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"}) all += read_file(out + "/" + f);
  EXPECT_EQ(count_lines(all), 7u);
  for (const char* line : {"hello\tHH AH L OW\nhello\tHH EH L OW\n", "read\tR EH D\nread\tR IY D\n", "cat\tK AE T\n",
                           "dog\tD AO G\n", "don't\tD OW N T\n"})
    EXPECT_NE(all.find(line), std::string::npos) << line;
  // The same again, byte for byte.
  const std::string out2 = dir.file("split2");
  ASSERT_EQ(run_cli1({"cmudict", "--dict", dict, "--out", out2, "--test-words", "2", "--dev-words", "1"}).code, 0);
  for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"})
    EXPECT_EQ(read_file(out + "/" + f), read_file(out2 + "/" + f)) << f;
}

TEST(CliCmudict, MalformedDictionaryIsNamedWithItsLineAndNothingIsWritten) {
  ScratchDir dir;
  const std::string dict = dir.write("dict.txt", std::string(kDict) + "ZEBRA  Z IY1 B R AX0\n");
  const Snapshot before = snapshot(dir.path());
  const CliResult r = run_cli1({"cmudict", "--dict", dict, "--out", dir.file("split")});
  EXPECT_EQ(r.code, kBadInput) << r;
  EXPECT_NE(r.err.find(dict + ":11: unknown phoneme 'AX0' in the entry of 'ZEBRA'"), std::string::npos) << r;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(snapshot_diff(before, snapshot(dir.path())), "");
  const CliResult m = run_cli1({"cmudict", "--dict", dir.file("nope.txt"), "--out", dir.file("split")});
  EXPECT_EQ(m.code, kBadInput) << m;
  EXPECT_NE(m.err.find(dir.file("nope.txt")), std::string::npos) << m;
}

}  // namespace
}  // namespace tfm::cli_test
