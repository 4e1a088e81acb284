// The shipped English G2P model (models/g2p-en, made by `scripts/g2p_model.sh --install`), through
// the real binary as `make demo` uses it: it loads, transcribes common words as CMUdict does,
// answers every input line (an empty line with an empty line), and warns about a character it
// has no symbol for instead of failing.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"

namespace tfm::cli_test {
namespace {

std::string shipped_model() { return source_dir() + "/models/g2p-en"; }

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Common words and their CMUdict 0.7b pronunciations, stress digits removed (every listed
// variant is a reference, as in eval's WER).
struct Word {
  const char* spelling;
  std::set<std::string> references;
};
const std::vector<Word>& common_words() {
  static const std::vector<Word> words = {
      {"cat", {"K AE T"}},
      {"dog", {"D AO G"}},
      {"hello", {"HH AH L OW", "HH EH L OW"}},
      {"water", {"W AO T ER"}},
      {"phone", {"F OW N"}},
      {"speech", {"S P IY CH"}},
      {"time", {"T AY M"}},
      {"black", {"B L AE K"}},
      {"house", {"HH AW S"}},
      {"night", {"N AY T"}},
      {"think", {"TH IH NG K"}},
      {"school", {"S K UW L"}},
  };
  return words;
}

class CliG2pModel : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(shipped_model() + "/model.safetensors"))
        << shipped_model() << " holds no model: it is part of the repository (scripts/g2p_model.sh --install)";
  }
  ScratchDir dir;
};

TEST_F(CliG2pModel, TranscribesCommonWordsAsTheDictionaryDoes) {
  std::string input;
  for (const auto& w : common_words()) input += std::string(w.spelling) + "\n";
  const std::string words = dir.write("words.txt", input);
  for (const char* beam : {"1", "4"}) {
    SCOPED_TRACE(std::string("beam ") + beam);
    const CliResult r = run_cli1({"translate", "--model", shipped_model(), "--beam", beam}, words);
    ASSERT_EQ(r.code, 0) << r;
    const auto lines = split_lines(r.out);
    ASSERT_EQ(lines.size(), common_words().size()) << r;
    for (size_t i = 0; i < lines.size(); ++i)
      EXPECT_TRUE(common_words()[i].references.count(lines[i]))
          << common_words()[i].spelling << " -> '" << lines[i] << "', not a CMUdict pronunciation";
  }
}

TEST_F(CliG2pModel, UpperCaseEmptyLinesAndUnknownCharacters) {
  // Upper case is folded (the recipe lowercases the source); an empty line gets an empty line;
  // a character the model has no symbol for is warned about, naming the line, and the word is
  // still transcribed.
  const std::string words = dir.write("words.txt", "CAT\n\nd\xC3\xB6g\ndog\n");
  const CliResult r = run_cli1({"translate", "--model", shipped_model(), "--beam", "4"}, words);
  ASSERT_EQ(r.code, 0) << r;
  const auto lines = split_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r;
  EXPECT_EQ(lines[0], "K AE T") << r;
  EXPECT_EQ(lines[1], "") << r;
  EXPECT_FALSE(lines[2].empty()) << r;
  EXPECT_EQ(lines[3], "D AO G") << r;
  EXPECT_NE(r.err.find("<stdin>:3: warning: unknown symbol"), std::string::npos) << r;
  EXPECT_EQ(r.err.find("<stdin>:1:"), std::string::npos) << "only line 3 has an unknown symbol\n" << r;
}

}  // namespace
}  // namespace tfm::cli_test
