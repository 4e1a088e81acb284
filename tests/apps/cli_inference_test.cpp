// The `transformer` CLI on good input: `score --ids` reproduces the PyTorch reference's numbers
// on every parity fixture, `info` counts the parameters stored in the file, `translate --ids`
// answers every input line.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace tfm::cli_test {
namespace {

struct Worst {
  double diff = 0, ref = 0;
  size_t line = 0, col = 0;
};

// Compares `transformer score` output with a reference file; tolerance(ref) per value.
template <class Tolerance>
Worst compare_rows(const std::string& what, const std::string& ours_text, const std::string& ref_text,
                   Tolerance tolerance) {
  const auto ours = parse_rows(ours_text), ref = parse_rows(ref_text);
  Worst w;
  EXPECT_EQ(ours.size(), ref.size()) << what << ": line count";
  for (size_t i = 0; i < std::min(ours.size(), ref.size()); ++i) {
    EXPECT_EQ(ours[i].size(), ref[i].size()) << what << ": values on line " << i + 1;
    for (size_t j = 0; j < std::min(ours[i].size(), ref[i].size()); ++j) {
      const double d = std::abs(ours[i][j] - ref[i][j]);
      EXPECT_LE(d, tolerance(ref[i][j])) << what << " line " << i + 1 << " value " << j + 1 << ": ours "
                                         << ours[i][j] << ", reference " << ref[i][j];
      if (d > w.diff) w = {d, ref[i][j], i + 1, j + 1};
    }
  }
  return w;
}

// Scores: 1e-4 relative (plus the 5e-7 rounding of the files' %.6f).
double score_tolerance(double ref) { return 1e-4 * std::abs(ref) + 1e-6; }
// Token log-probabilities: 1e-4 * (1 + |ref|).
double token_tolerance(double ref) { return 1e-4 * (1 + std::abs(ref)); }

TEST(CliScore, ReproducesReferenceScoresOnEveryParityFixture) {
  for (const std::string& name : parity_names()) {
    SCOPED_TRACE(name);
    const std::string d = parity_dir(name);
    CliResult r = run_cli1({"score", "--model", d, "--src", d + "/src.ids", "--tgt", d + "/tgt.ids", "--ids"});
    ASSERT_EQ(r.code, 0) << r;
    EXPECT_EQ(r.err, "");
    Worst w = compare_rows(name, r.out, read_file(d + "/expected_scores.txt"), score_tolerance);
    std::printf("[ score     ] %-24s largest difference %.3g (line %zu, reference %.6f, relative %.3g)\n",
                name.c_str(), w.diff, w.line, w.ref, w.ref ? w.diff / std::abs(w.ref) : 0.0);
  }
}

TEST(CliScore, PerTokenReproducesReferenceOnEveryParityFixture) {
  for (const std::string& name : parity_names()) {
    SCOPED_TRACE(name);
    const std::string d = parity_dir(name);
    CliResult r = run_cli1(
        {"score", "--model", d, "--src", d + "/src.ids", "--tgt", d + "/tgt.ids", "--ids", "--per-token"});
    ASSERT_EQ(r.code, 0) << r;
    Worst w = compare_rows(name, r.out, read_file(d + "/expected_token_logprobs.txt"), token_tolerance);
    std::printf("[ per-token ] %-24s largest difference %.3g (line %zu token %zu, reference %.6f)\n",
                name.c_str(), w.diff, w.line, w.col, w.ref);
  }
}

TEST(CliScore, BatchSizeOneGivesTheSameScores) {
  const std::string d = parity_dir("pre_norm");
  CliResult a = run_cli1({"score", "--model", d, "--src", d + "/src.ids", "--tgt", d + "/tgt.ids", "--ids"});
  CliResult b = run_cli1(
      {"score", "--model", d, "--src", d + "/src.ids", "--tgt", d + "/tgt.ids", "--ids", "--batch", "1"});
  ASSERT_EQ(a.code, 0) << a;
  ASSERT_EQ(b.code, 0) << b;
  // Not bitwise: another batch shape takes other matrix-product paths (oneDNN's blocking, or the
  // plain loop for tiny products), so float32 rounding differs; 1e-6 relative is ~16 ulps summed
  // over a sentence, far below any modelling difference.
  compare_rows("--batch 1 vs default", b.out, a.out, [](double ref) { return 1e-6 * (1 + std::abs(ref)); });
}

TEST(CliScore, ThreadCountDoesNotChangeScores) {
  const std::string d = parity_dir("odd_sizes");
  const std::vector<std::string> score = {"score", "--model", d, "--src", d + "/src.ids", "--tgt", d + "/tgt.ids",
                                          "--ids", "--per-token"};
  std::vector<std::string> two = score;
  two.insert(two.begin(), {"--threads", "2"});
  CliResult a = run_cli1(score), b = run_cli(two);
  ASSERT_EQ(a.code, 0) << a;
  ASSERT_EQ(b.code, 0) << b;
  compare_rows("--threads 2 vs 1", b.out, a.out, [](double ref) { return 1e-6 * (1 + std::abs(ref)); });
}

// The element count of every tensor in a safetensors file, read without the library.
std::map<std::string, int64_t> tensor_sizes(const std::string& path) {
  const std::string bytes = read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  std::map<std::string, int64_t> out;
  const nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") continue;
    int64_t numel = 1;
    for (const auto& dim : v["shape"]) numel *= dim.get<int64_t>();
    out[name] = numel;
  }
  return out;
}

TEST(CliInfo, ParameterCountIsTheSumOfTheStoredTensors) {
  for (const std::string& name : parity_names()) {
    SCOPED_TRACE(name);
    const std::string d = parity_dir(name);
    CliResult r = run_cli1({"info", "--model", d});
    ASSERT_EQ(r.code, 0) << r;
    const auto sizes = tensor_sizes(d + "/model.safetensors");
    int64_t expected = 0;
    for (const auto& [n, numel] : sizes) expected += numel;
    // A tied model stores its one embedding matrix under three names (the reference's
    // state_dict); it is one parameter.
    const bool tied = nlohmann::json::parse(read_file(d + "/config.json")).value("tie_embeddings", false);
    if (tied) expected -= sizes.at("tgt_embed.weight") + sizes.at("generator.weight");
    EXPECT_NE(r.out.find("parameters: " + std::to_string(expected) + "\n"), std::string::npos)
        << "expected " << expected << " parameters" << (tied ? " (tied)" : "") << "\n" << r;
    EXPECT_NE(r.out.find("\"d_model\""), std::string::npos) << "info should print the config\n" << r;
  }
}

// The ids of one output line; fails the test on anything that is not an id of the vocabulary.
std::vector<int> parse_output_ids(const std::string& line, int vocab) {
  std::vector<int> ids;
  std::istringstream s(line);
  std::string tok;
  while (s >> tok) {
    size_t used = 0;
    int id = std::stoi(tok, &used);
    EXPECT_EQ(used, tok.size()) << "not an id: '" << tok << "' in '" << line << "'";
    EXPECT_TRUE(id >= 0 && id < vocab) << "id " << id << " outside [0, " << vocab << ") in '" << line << "'";
    ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream s(text);
  std::string line;
  while (std::getline(s, line)) out.push_back(line);
  return out;
}

TEST(CliTranslate, IdsModeAnswersEveryInputLine) {
  ScratchDir dir;
  for (const std::string name : {"post_norm", "tied"}) {
    SCOPED_TRACE(name);
    const std::string d = parity_dir(name);
    const int vocab = nlohmann::json::parse(read_file(d + "/config.json"))["tgt_vocab_size"];
    // The fixture's sentences and an empty one in the middle.
    const std::string ids = read_file(d + "/src.ids");
    const size_t first = ids.find('\n') + 1;
    const std::string input = ids.substr(0, first) + "\n" + ids.substr(first);
    const std::string in = dir.write(name + ".ids", input);
    const size_t n = count_lines(input);
    for (const std::string beam : {"1", "4"}) {
      SCOPED_TRACE("beam " + beam);
      CliResult r = run_cli1({"translate", "--model", d, "--ids", "--beam", beam}, in);
      ASSERT_EQ(r.code, 0) << r;
      EXPECT_EQ(r.err, "");
      const auto lines = split_lines(r.out);
      EXPECT_EQ(lines.size(), n) << r;
      EXPECT_EQ(count_lines(r.out), n) << "every output line ends with a newline\n" << r;
      for (const auto& l : lines)
        for (int id : parse_output_ids(l, vocab)) EXPECT_NE(id, 2) << "eos in the output: '" << l << "'";
    }
  }
}

TEST(CliTranslate, BeamOneEqualsTheDefaultGreedyOutput) {
  for (const std::string name : {"post_norm", "pre_norm_no_final_gelu", "enc1_dec3_heads6"}) {
    SCOPED_TRACE(name);
    const std::string d = parity_dir(name);
    CliResult greedy = run_cli1({"translate", "--model", d, "--ids"}, d + "/src.ids");
    CliResult beam1 = run_cli1({"translate", "--model", d, "--ids", "--beam", "1"}, d + "/src.ids");
    ASSERT_EQ(greedy.code, 0) << greedy;
    ASSERT_EQ(beam1.code, 0) << beam1;
    EXPECT_EQ(beam1.out, greedy.out);
    EXPECT_EQ(count_lines(greedy.out), count_lines(read_file(d + "/src.ids")));
  }
}

TEST(CliTranslate, BatchSizeDoesNotChangeTheOutput) {
  const std::string d = parity_dir("odd_sizes");
  CliResult a = run_cli1({"translate", "--model", d, "--ids"}, d + "/src.ids");
  CliResult b = run_cli1({"translate", "--model", d, "--ids", "--batch", "1"}, d + "/src.ids");
  ASSERT_EQ(a.code, 0) << a;
  ASSERT_EQ(b.code, 0) << b;
  EXPECT_EQ(a.out, b.out);
}

// DISABLED: fails today. The output limit is clamped to max_len tokens (decode/search.cpp,
// max_output_length), but a target takes at most max_len - 1 tokens (one position goes to eos),
// so a translation cut at the limit cannot be scored or trained on: "sequence of 32 tokens is too
// long: the model takes at most 31". Enable when the limit is max_len - 1.
TEST(CliTranslate, OutputCanBeScored) {
  ScratchDir dir;
  const std::string d = parity_dir("post_norm");  // max_len 32, source vocabulary 50
  std::string line;
  for (int i = 0; i < 31; ++i) line.append(i ? " " : "").append(std::to_string(4 + i));
  const std::string src = dir.write("src.ids", line + "\n");
  CliResult r = run_cli1({"translate", "--model", d, "--ids"}, src);
  ASSERT_EQ(r.code, 0) << r;
  const std::string out = dir.write("out.ids", r.out);
  r = run_cli1({"score", "--model", d, "--src", src, "--tgt", out, "--ids"});
  EXPECT_EQ(r.code, 0) << "translate's output should be scoreable\n" << r;
}

TEST(CliTranslate, EmptyInputGivesEmptyOutput) {
  CliResult r = run_cli1({"translate", "--model", parity_dir("post_norm"), "--ids"});
  EXPECT_EQ(r.code, 0) << r;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace tfm::cli_test
