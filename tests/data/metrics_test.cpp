// WER and PER (src/data/metrics.h) on hand-made cases: one and several references, empty
// hypotheses, insertions, deletions, substitutions, and the closest-reference rule.
#include "data/metrics.h"

#include <gtest/gtest.h>

#include "error_message.h"

namespace tfm {
namespace {

std::vector<std::string> sym(std::string_view s) { return split_symbols(s); }

TEST(DataMetrics, SplitSymbolsIgnoresRunsOfWhitespace) {
  EXPECT_EQ(sym("  HH AH\tL  OW "), (std::vector<std::string>{"HH", "AH", "L", "OW"}));
  EXPECT_TRUE(sym("").empty());
  EXPECT_TRUE(sym(" \t ").empty());
}

TEST(DataMetrics, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance(sym("HH AH L OW"), sym("HH AH L OW")), 0);
  EXPECT_EQ(edit_distance(sym("HH EH L OW"), sym("HH AH L OW")), 1);       // a substitution
  EXPECT_EQ(edit_distance(sym("HH AH L L OW"), sym("HH AH L OW")), 1);     // an insertion
  EXPECT_EQ(edit_distance(sym("HH L OW"), sym("HH AH L OW")), 1);          // a deletion
  EXPECT_EQ(edit_distance(sym(""), sym("HH AH L OW")), 4);                 // all deleted
  EXPECT_EQ(edit_distance(sym("HH AH L OW"), sym("")), 4);                 // all inserted
  EXPECT_EQ(edit_distance(sym("K AE T"), sym("AE K T")), 2);               // no transpositions
  EXPECT_EQ(edit_distance(sym("A B C D E F"), sym("X A B C D E")), 2);     // shift: one in, one out
  // Symbols compare whole: AH0 is not AH, and "AH" is not a prefix match of "AHH".
  EXPECT_EQ(edit_distance(sym("AH0"), sym("AH")), 1);
  EXPECT_EQ(edit_distance(sym("AHH"), sym("AH")), 1);
}

TEST(DataMetrics, AWordIsRightWhenItEqualsAnyReference) {
  const std::vector<std::string> refs{"R IY D", "R EH D"};
  EXPECT_TRUE(score_word("R EH D", refs).correct);
  EXPECT_EQ(score_word("R EH D", refs).edits, 0);
  EXPECT_EQ(score_word("R EH D", refs).reference, 1u);
  EXPECT_TRUE(score_word(" R  IY D ", refs).correct);  // whitespace does not matter
  EXPECT_FALSE(score_word("R AY D", refs).correct);
}

TEST(DataMetrics, PerUsesTheClosestReferenceAndTheShortestAmongEquallyClose) {
  // Closest: "T AH M EY T OW" (1 edit) rather than "T AH M AA T OW" (2 edits).
  WordScore s = score_word("T AH M EY T AH", {"T AH M AA T OW", "T AH M EY T OW"});
  EXPECT_EQ(s.edits, 1);
  EXPECT_EQ(s.reference, 1u);
  EXPECT_EQ(s.reference_length, 6);
  // Equally close (1 edit each): the shorter reference is chosen, whatever the order.
  for (const auto& refs : {std::vector<std::string>{"A B C X", "A B"}, std::vector<std::string>{"A B", "A B C X"}}) {
    s = score_word("A B C", refs);
    EXPECT_EQ(s.edits, 1);
    EXPECT_EQ(s.reference_length, 2) << refs[0];
    EXPECT_EQ(refs[s.reference], "A B");
  }
  // Equally close and equally long: the first.
  s = score_word("A B", {"A C", "A D"});
  EXPECT_EQ(s.reference, 0u);
  // Closer beats shorter: 0 edits to the long one.
  s = score_word("A B C D", {"A", "A B C D"});
  EXPECT_EQ(s.edits, 0);
  EXPECT_EQ(s.reference_length, 4);
}

TEST(DataMetrics, EmptyHypothesisIsAllDeletionsOfTheShortestReference) {
  const WordScore s = score_word("", {"HH AH L OW", "HH L OW"});
  EXPECT_FALSE(s.correct);
  EXPECT_EQ(s.edits, 3);
  EXPECT_EQ(s.reference_length, 3);
}

TEST(DataMetrics, NoReferenceIsAnError) {
  const std::string msg = testing::error_message([] { score_word("A", {}); });
  EXPECT_NE(msg.find("no reference pronunciation"), std::string::npos) << msg;
}

TEST(DataMetrics, WerAndPerOverWordsWithTheirLengths) {
  // word      hyp            refs                         edits  ref len  right
  // read      R EH D         R IY D | R EH D              0      3        yes
  // hello     HH AH L L OW   HH AH L OW | HH EH L OW      1      4        no   (insertion)
  // a         (empty)        AH | EY                      1      1        no   (deletion)
  // cat       K AE          K AE T                        1      3        no   (deletion)
  const G2pScores s = score_words({"read", "hello", "a", "cat"}, {"R EH D", "HH AH L L OW", "", "K AE"},
                                  {{"R IY D", "R EH D"}, {"HH AH L OW", "HH EH L OW"}, {"AH", "EY"}, {"K AE T"}});
  EXPECT_EQ(s.total.words, 4);
  EXPECT_EQ(s.total.wrong_words, 3);
  EXPECT_EQ(s.total.edits, 3);
  EXPECT_EQ(s.total.reference_phonemes, 11);
  EXPECT_DOUBLE_EQ(s.total.wer(), 75.0);
  EXPECT_DOUBLE_EQ(s.total.per(), 100.0 * 3 / 11);
  // By length in characters: 1 (a), 3 (cat), 4 (read), 5 (hello).
  ASSERT_EQ(s.by_length.size(), 4u);
  EXPECT_EQ(s.by_length.at(1).wrong_words, 1);
  EXPECT_EQ(s.by_length.at(3).edits, 1);
  EXPECT_EQ(s.by_length.at(4).wrong_words, 0);
  EXPECT_DOUBLE_EQ(s.by_length.at(4).wer(), 0.0);
  EXPECT_DOUBLE_EQ(s.by_length.at(5).per(), 25.0);
  int64_t words = 0;
  for (const auto& [len, c] : s.by_length) words += c.words;
  EXPECT_EQ(words, 4);
}

TEST(DataMetrics, LengthCountsCharactersNotBytes) {
  EXPECT_EQ(count_code_points("don't"), 5);
  EXPECT_EQ(count_code_points("naïve"), 5);
  EXPECT_EQ(count_code_points(""), 0);
  const G2pScores s = score_words({"naïve"}, {"N AY IY V"}, {{"N AY IY V"}});
  EXPECT_EQ(s.by_length.count(5), 1u);
}

TEST(DataMetrics, NoWordsGiveZeroRatesAndMismatchedSizesAreAnError) {
  const G2pScores s = score_words({}, {}, {});
  EXPECT_EQ(s.total.wer(), 0.0);
  EXPECT_EQ(s.total.per(), 0.0);
  const std::string msg = testing::error_message([] { score_words({"a", "b"}, {"A"}, {{"A"}, {"B"}}); });
  EXPECT_NE(msg.find("2 words, 1 hypotheses and 2 reference lists"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tfm
