// The CMUdict parser, the G2P split and its TSV files (src/data/cmudict.h), on hand-made
// dictionary text; and, when the real dictionary is in the cache (scripts/fetch_cmudict.sh),
// its counts as data/g2p/README.md gives them.
#include "data/cmudict.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/file.h"
#include "error_message.h"
#include "temp_dir.h"

namespace tfm {
namespace {

using testing::error_message;
using testing::TempDir;

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

void expect_message(const std::string& msg, std::initializer_list<std::string_view> parts) {
  for (std::string_view p : parts) EXPECT_TRUE(contains(msg, p)) << "missing '" << p << "' in: " << msg;
}

const LexiconEntry* find_word(const std::vector<LexiconEntry>& v, std::string_view w) {
  for (const auto& e : v)
    if (e.word == w) return &e;
  return nullptr;
}

int64_t count(const CmudictStats& st, DropReason r) { return st.dropped[static_cast<int>(r)]; }

// Comments, alternatives (out of order and apart), stress, every drop reason, a CRLF line, a
// blank line, and a pronunciation that repeats another once stress is removed.
constexpr std::string_view kDict =
    ";;; # CMUdict  --  Major Version: 0.07\n"
    ";;; a second comment\n"
    "HELLO  HH AH0 L OW1\n"
    "HELLO(1)  HH EH0 L OW1\n"
    "A42128  EY1 F AO1 R\n"
    "A.  EY1\n"
    "A.'S  EY1 Z\n"
    "AD-HOC  AE1 D HH AA1 K\n"
    "AIR_FORCE  EH1 R F AO1 R S\n"
    "{BRACE  B R EY1 S\n"
    "D\xC9J\xC0  D EY2 JH AA1\n"
    "''  K W OW1 T\n"
    "\n"
    "DON'T  D OW1 N T\r\n"
    "READ(2)  R IY1 D\n"
    "READ  R EH1 D\n"
    "ABC  EY1 B IY1 S IY1\n"
    "READ(1)  R EH2 D\n"
    "Tomato  T AH0 M EY1 T OW2\n";

TEST(DataCmudict, ParsesEntriesRemovesStressAndKeepsAlternativesInOrder) {
  const Cmudict d = parse_cmudict(kDict, "dict.txt");
  std::vector<std::string> words;
  for (const auto& e : d.words) words.push_back(e.word);
  EXPECT_EQ(words, (std::vector<std::string>{"abc", "don't", "hello", "read", "tomato"}));
  const LexiconEntry* hello = find_word(d.words, "hello");
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->pronunciations, (std::vector<std::string>{"HH AH L OW", "HH EH L OW"}));
  EXPECT_EQ(hello->lines, (std::vector<int64_t>{3, 4}));
  // READ, READ(1), READ(2) in marker order wherever they stand; READ(1) is READ once the stress
  // is removed, so it is merged.
  const LexiconEntry* read = find_word(d.words, "read");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->pronunciations, (std::vector<std::string>{"R EH D", "R IY D"}));
  EXPECT_EQ(read->lines, (std::vector<int64_t>{16, 15}));
  EXPECT_EQ(find_word(d.words, "don't")->pronunciations, (std::vector<std::string>{"D OW N T"}));
  EXPECT_EQ(find_word(d.words, "tomato")->pronunciations, (std::vector<std::string>{"T AH M EY T OW"}));
  EXPECT_EQ(d.pronunciations(), 7);
}

TEST(DataCmudict, CountsCommentsBlankLinesAndDroppedHeadwordsByReason) {
  const CmudictStats st = parse_cmudict(kDict, "dict.txt").stats;
  EXPECT_EQ(st.lines, 19);
  EXPECT_EQ(st.comments, 2);
  EXPECT_EQ(st.blank, 1);
  EXPECT_EQ(st.entries, 16);
  EXPECT_EQ(st.kept, 8);
  EXPECT_EQ(st.merged_duplicates, 1);
  EXPECT_EQ(count(st, DropReason::Digit), 1);
  EXPECT_EQ(count(st, DropReason::Period), 2);  // A. and A.'S
  EXPECT_EQ(count(st, DropReason::Hyphen), 1);
  EXPECT_EQ(count(st, DropReason::Underscore), 1);
  EXPECT_EQ(count(st, DropReason::OtherSymbol), 1);
  EXPECT_EQ(count(st, DropReason::NonAscii), 1);
  EXPECT_EQ(count(st, DropReason::NoLetter), 1);
  EXPECT_EQ(st.dropped_entries(), 8);
  EXPECT_EQ(st.dropped_headwords, 8);
  EXPECT_EQ(st.kept + st.dropped_entries(), st.entries);
  EXPECT_EQ(drop_reason_name(DropReason::NonAscii), "non-ASCII byte");
}

TEST(DataCmudict, AlternativesOfADroppedHeadwordCountAsOneHeadword) {
  const CmudictStats st = parse_cmudict("AD-HOC  AE1 D\nAD-HOC(1)  AA1 D\nOK  OW1\n", "d").stats;
  EXPECT_EQ(st.dropped_entries(), 2);
  EXPECT_EQ(st.dropped_headwords, 1);
}

TEST(DataCmudict, MalformedLinesNameFileAndLine) {
  expect_message(error_message([] { parse_cmudict("A  AH0\nHELLO\n", "d.txt"); }),
                 {"d.txt:2: headword 'HELLO' has no phonemes", "expected 'WORD  PH1 PH2 ...'"});
  expect_message(error_message([] { parse_cmudict(";;; c\nHELLO  HH AH0 LX OW1\n", "d.txt"); }),
                 {"d.txt:2: unknown phoneme 'LX' in the entry of 'HELLO'", "39 ARPAbet phonemes", "AA AE AH"});
  // A stress digit on a consonant, or a digit other than 0-2, is not a phoneme.
  expect_message(error_message([] { parse_cmudict("HELLO  HH1 AH0 L OW1\n", "d.txt"); }),
                 {"d.txt:1: unknown phoneme 'HH1'"});
  expect_message(error_message([] { parse_cmudict("HELLO  HH AH3 L OW1\n", "d.txt"); }),
                 {"d.txt:1: unknown phoneme 'AH3'"});
  for (const char* bad : {"HELLO(  HH AH0\n", "HELLO(X)  HH AH0\n", "HELLO()  HH AH0\n", "(1)  HH AH0\n",
                          "HE(1)LLO  HH AH0\n", "HELLO)  HH AH0\n"})
    expect_message(error_message([&] { parse_cmudict(bad, "d.txt"); }),
                   {"d.txt:1: malformed alternative marker", "expected WORD(N)"});
  expect_message(error_message([] { parse_cmudict("A  AH0\n  HH AH0\n", "d.txt"); }),
                 {"d.txt:2: the line starts with whitespace"});
  // Bytes that are not ASCII are shown escaped (the dictionary is not necessarily UTF-8).
  expect_message(error_message([] { parse_cmudict("A  AH\xC9\n", "d.txt"); }), {"d.txt:1: unknown phoneme 'AH\\xC9'"});
}

TEST(DataCmudict, MissingFileIsNamed) {
  TempDir dir;
  const std::string path = dir.file("nope.txt");
  expect_message(error_message([&] { read_cmudict(path); }), {path});
}

TEST(DataCmudict, Fnv1aMatchesThePublishedTestVectors) {
  // From the FNV reference (Fowler, Noll, Vo): the empty string is the offset basis.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

// n words w0..w(n-1), every third with two pronunciations.
std::vector<LexiconEntry> make_words(int n) {
  std::vector<LexiconEntry> v;
  for (int i = 0; i < n; ++i) {
    LexiconEntry e{"w" + std::to_string(i), {"P" + std::to_string(i)}, {i + 1}};
    if (i % 3 == 0) {
      e.pronunciations.push_back("Q" + std::to_string(i));
      e.lines.push_back(i + 1000);
    }
    v.push_back(e);
  }
  return v;
}

TEST(DataG2pSplit, PartsAreDisjointCompleteSizedAndKeepEveryPronunciationWithItsWord) {
  const auto words = make_words(100);
  const G2pSplit s = split_words(words, SplitSizes{20, 10});
  EXPECT_EQ(s.test.size(), 20u);
  EXPECT_EQ(s.dev.size(), 10u);
  EXPECT_EQ(s.train.size(), 70u);
  std::set<std::string> seen;
  for (const auto* part : {&s.train, &s.dev, &s.test})
    for (const auto& e : *part) {
      EXPECT_TRUE(seen.insert(e.word).second) << e.word << " is in two parts";
      const LexiconEntry* orig = find_word(words, e.word);
      ASSERT_NE(orig, nullptr);
      EXPECT_EQ(e.pronunciations, orig->pronunciations) << e.word;
    }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(DataG2pSplit, TestIsTheFirstWordsByHashAndPartsAreSortedByWord) {
  const auto words = make_words(50);
  const G2pSplit s = split_words(words, SplitSizes{5, 5});
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& e : words) order.emplace_back(fnv1a64(e.word), e.word);
  std::sort(order.begin(), order.end());
  std::set<std::string> first5;
  for (int i = 0; i < 5; ++i) first5.insert(order[i].second);
  std::set<std::string> test;
  for (const auto& e : s.test) test.insert(e.word);
  EXPECT_EQ(test, first5);
  for (const auto* part : {&s.train, &s.dev, &s.test})
    EXPECT_TRUE(std::is_sorted(part->begin(), part->end(),
                               [](const auto& a, const auto& b) { return a.word < b.word; }));
}

TEST(DataG2pSplit, DoesNotDependOnInputOrderAndIsReproducibleByteForByte) {
  auto words = make_words(60);
  const G2pSplit a = split_words(words, SplitSizes{10, 10});
  std::reverse(words.begin(), words.end());
  const G2pSplit b = split_words(words, SplitSizes{10, 10});
  EXPECT_EQ(lexicon_tsv(a.train), lexicon_tsv(b.train));
  EXPECT_EQ(lexicon_tsv(a.dev), lexicon_tsv(b.dev));
  EXPECT_EQ(lexicon_tsv(a.test), lexicon_tsv(b.test));

  TempDir dir;
  write_split(a, dir.file("one"));
  write_split(b, dir.file("two"));
  for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"})
    EXPECT_EQ(read_file(dir.file("one") + "/" + f), read_file(dir.file("two") + "/" + f)) << f;
}

TEST(DataG2pSplit, SmallDictionariesFillTestFirst) {
  const G2pSplit s = split_words(make_words(7), SplitSizes{5, 5});
  EXPECT_EQ(s.test.size(), 5u);
  EXPECT_EQ(s.dev.size(), 2u);
  EXPECT_TRUE(s.train.empty());
}

TEST(DataG2pSplit, WritesOneTsvLinePerPronunciationAndReadsItBack) {
  const Cmudict d = parse_cmudict(kDict, "dict.txt");
  EXPECT_EQ(lexicon_tsv({d.words[2]}), "hello\tHH AH L OW\nhello\tHH EH L OW\n");
  TempDir dir;
  write_split(split_words(d.words, SplitSizes{2, 1}), dir.file("split"));
  std::vector<LexiconEntry> all;
  for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"})
    for (auto& e : read_lexicon_tsv(dir.file("split") + "/" + f, false)) all.push_back(e);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.word < b.word; });
  ASSERT_EQ(all.size(), d.words.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].word, d.words[i].word);
    EXPECT_EQ(all[i].pronunciations, d.words[i].pronunciations);
  }
}

TEST(DataLexiconTsv, GroupsLinesOfAWordAndNormalisesSpaces) {
  TempDir dir;
  const auto v = read_lexicon_tsv(dir.write("r.tsv", "b\tB  IY\na\tEY\nb\t B IH \n"), false);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].word, "b");
  EXPECT_EQ(v[0].pronunciations, (std::vector<std::string>{"B IY", "B IH"}));
  EXPECT_EQ(v[0].lines, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(v[1].word, "a");
  EXPECT_EQ(read_lexicon_tsv(dir.write("h.tsv", "a\t\n"), true)[0].pronunciations,
            (std::vector<std::string>{""}));
}

TEST(DataLexiconTsv, MalformedLinesNameFileAndLine) {
  TempDir dir;
  const std::string notab = dir.write("notab.tsv", "a\tEY\nb B IY\n");
  expect_message(error_message([&] { read_lexicon_tsv(notab, false); }),
                 {notab + ":2: expected 'word<TAB>phonemes' with exactly one tab, got no tab"});
  const std::string two = dir.write("two.tsv", "a\tEY\tX\n");
  expect_message(error_message([&] { read_lexicon_tsv(two, false); }), {two + ":1: ", "got 2 tabs"});
  const std::string empty_word = dir.write("ew.tsv", "a\tEY\n\tB\n");
  expect_message(error_message([&] { read_lexicon_tsv(empty_word, true); }), {empty_word + ":2: empty word"});
  const std::string empty_ref = dir.write("er.tsv", "a\tEY\nb\t  \n");
  expect_message(error_message([&] { read_lexicon_tsv(empty_ref, false); }),
                 {empty_ref + ":2: empty pronunciation for 'b'", "at least one phoneme"});
  const std::string blank = dir.write("bl.tsv", "a\tEY\n\n");
  expect_message(error_message([&] { read_lexicon_tsv(blank, false); }), {blank + ":2: ", "(an empty line)"});
}

TEST(DataLexiconTsv, MatchHypothesesNamesDuplicateUnknownAndMissingWords) {
  TempDir dir;
  const std::string ref = dir.write("ref.tsv", "a\tEY\nb\tB IY\nb\tB IH\n");
  const auto refs = read_lexicon_tsv(ref, false);
  const std::string ok = dir.write("ok.tsv", "b\tB\na\t\n");
  EXPECT_EQ(match_hypotheses(refs, ref, read_lexicon_tsv(ok, true), ok), (std::vector<std::string>{"", "B"}));
  const std::string dup = dir.write("dup.tsv", "a\tEY\nb\tB\na\tAH\n");
  expect_message(error_message([&] { match_hypotheses(refs, ref, read_lexicon_tsv(dup, true), dup); }),
                 {dup + ":3: a second hypothesis for 'a' (the first is on line 1)"});
  const std::string extra = dir.write("extra.tsv", "a\tEY\nc\tS IY\nb\tB\n");
  expect_message(error_message([&] { match_hypotheses(refs, ref, read_lexicon_tsv(extra, true), extra); }),
                 {extra + ":2: 'c' is not a word of " + ref});
  const std::string missing = dir.write("missing.tsv", "a\tEY\n");
  expect_message(error_message([&] { match_hypotheses(refs, ref, read_lexicon_tsv(missing, true), missing); }),
                 {missing + ": no hypothesis for 'b' (" + ref + ":2)"});
}

// The real dictionary, when scripts/fetch_cmudict.sh has put it in the cache on this machine.
std::string cached_dictionary() {
  std::string cache;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) cache = x;
  else if (const char* h = std::getenv("HOME"); h && *h) cache = std::string(h) + "/.cache";
  else return "";
  return cache + "/transformer/cmudict-0.7b/dict.txt";
}

TEST(DataCmudictReal, CountsAreThoseOfTheReadme) {
  const std::string path = cached_dictionary();
  if (path.empty() || !std::filesystem::exists(path))
    GTEST_SKIP() << "CMUdict is not in the cache (" << path << "); run scripts/fetch_cmudict.sh";
  const Cmudict d = read_cmudict(path);
  const CmudictStats& st = d.stats;
  EXPECT_EQ(st.lines, 133784);
  EXPECT_EQ(st.entries, 133784);
  EXPECT_EQ(st.dropped_entries(), 1199);
  EXPECT_EQ(st.dropped_headwords, 1131);
  EXPECT_EQ(count(st, DropReason::Digit), 14);
  EXPECT_EQ(count(st, DropReason::Period), 111);
  EXPECT_EQ(count(st, DropReason::Hyphen), 969);
  EXPECT_EQ(count(st, DropReason::Underscore), 99);
  EXPECT_EQ(count(st, DropReason::OtherSymbol), 5);
  EXPECT_EQ(count(st, DropReason::NonAscii), 1);
  EXPECT_EQ(st.merged_duplicates, 314);
  EXPECT_EQ(d.words.size(), 123874u);
  EXPECT_EQ(d.pronunciations(), 132271);
  const G2pSplit s = split_words(d.words);
  auto prons = [](const std::vector<LexiconEntry>& p) {
    int64_t n = 0;
    for (const auto& e : p) n += static_cast<int64_t>(e.pronunciations.size());
    return n;
  };
  EXPECT_EQ(s.test.size(), 12000u);
  EXPECT_EQ(prons(s.test), 12838);
  EXPECT_EQ(s.dev.size(), 2000u);
  EXPECT_EQ(prons(s.dev), 2134);
  EXPECT_EQ(s.train.size(), 109874u);
  EXPECT_EQ(prons(s.train), 117299);
}

}  // namespace
}  // namespace tfm
