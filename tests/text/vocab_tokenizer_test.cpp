#include "text/vocab_tokenizer.h"

#include <gtest/gtest.h>

#include "../data/error_message.h"
#include "../data/temp_dir.h"
#include "core/file.h"

namespace tfm {
namespace {

using testing::error_message;
using testing::TempDir;

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

TEST(TextVocab, SpecialsFirstThenByDescendingCountTiesByCodePoint) {
  // counts: a 3, b 2, c 2, ï 2, 日 1, ' ' 2
  const auto tok = build_vocab("char", {"aab ï", "abc ï", "c日"});
  const std::vector<std::string> want = {"<pad>", "<s>", "</s>", "<unk>", "a",
                                         " ",     "b",   "c",    "ï",     "日"};
  EXPECT_EQ(tok->symbols(), want);
  EXPECT_EQ(tok->kind(), "char");
  EXPECT_EQ(tok->vocab_size(), 10);
}

TEST(TextVocab, MinCountDropsRareSymbols) {
  const auto tok = build_vocab("word", {"HH AH0 L OW1", "L OW1", "OW1 Z"}, 2);
  const std::vector<std::string> want = {"<pad>", "<s>", "</s>", "<unk>", "OW1", "L"};
  EXPECT_EQ(tok->symbols(), want);
  EXPECT_TRUE(contains(error_message([] { build_vocab("word", {"a"}, 0); }), "min_count"));
}

TEST(TextVocab, RefusesUnknownKinds) {
  const std::string msg = error_message([] { build_vocab("bytes", {"a"}); });
  EXPECT_TRUE(contains(msg, "'bytes'") && contains(msg, "'char' or 'word'")) << msg;
}

TEST(TextVocab, SpecialNamesInTextAreNotSpecialIds) {
  const auto tok = build_vocab("word", {"<s> a </s>"});
  EXPECT_EQ(tok->vocab_size(), 5);  // only "a" was added
  std::vector<std::string> unknown;
  EXPECT_EQ(tok->encode("<s> a", &unknown), (std::vector<int>{special::unk, 4}));
  EXPECT_EQ(unknown, (std::vector<std::string>{"<s>"}));
}

TEST(TextCharTokenizer, RoundTripsMultiByteText) {
  const std::vector<std::string> texts = {"naïve café", "日本", "a b\tc\\d"};
  const auto tok = build_vocab("char", texts);
  for (const std::string& t : texts) {
    std::vector<std::string> unknown;
    const std::vector<int> ids = tok->encode(t, &unknown);
    EXPECT_TRUE(unknown.empty());
    EXPECT_EQ(tok->decode(ids), t);
  }
  EXPECT_EQ(tok->encode("日本").size(), 2u);
  EXPECT_EQ(tok->encode("naïve").size(), 5u);
}

TEST(TextCharTokenizer, ReportsUnknownSymbols) {
  const auto tok = build_vocab("char", {"abc"});
  std::vector<std::string> unknown;
  const std::vector<int> ids = tok->encode("aéb日", &unknown);
  EXPECT_EQ(ids, (std::vector<int>{4, special::unk, 5, special::unk}));
  EXPECT_EQ(unknown, (std::vector<std::string>{"é", "日"}));
  EXPECT_EQ(tok->decode(ids), "a<unk>b<unk>");
  EXPECT_EQ(tok->encode("aé").size(), 2u);  // a null unknown list is fine
}

TEST(TextCharTokenizer, InvalidUtf8IsAnErrorNamingWhere) {
  const auto tok = build_vocab("char", {"abc"});
  std::string msg = error_message([&] { tok->encode("ab\xc3"); });
  EXPECT_TRUE(contains(msg, "invalid UTF-8 at byte 3")) << msg;
  msg = error_message([&] { tok->encode("ab\xc3", nullptr, "input.txt:12"); });
  EXPECT_TRUE(contains(msg, "input.txt:12: invalid UTF-8")) << msg;
}

TEST(TextWordTokenizer, RoundTripsAndJoinsWithSingleSpaces) {
  const auto tok = build_vocab("word", {"HH AH0 L OW1", "W ER1 L D"});
  const std::vector<int> ids = tok->encode("  HH\tAH0  L OW1 ");
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(tok->decode(ids), "HH AH0 L OW1");
  std::vector<std::string> unknown;
  EXPECT_EQ(tok->decode(tok->encode("HH XX1 D", &unknown)), "HH <unk> D");
  EXPECT_EQ(unknown, (std::vector<std::string>{"XX1"}));
  EXPECT_TRUE(tok->encode("").empty());
}

TEST(TextTokenizer, DecodeSkipsPadBosEosAndRefusesOutOfRangeIds) {
  const auto tok = build_vocab("word", {"x y"});
  const std::vector<int> ids = {special::bos, 4, 5, special::eos, special::pad, special::pad};
  EXPECT_EQ(tok->decode(ids), "x y");
  const std::vector<int> bad = {4, 6};
  const std::string msg = error_message([&] { tok->decode(bad); });
  EXPECT_TRUE(contains(msg, "token id 6 is outside [0, 6)")) << msg;
}

TEST(TextVocabFile, EscapingRoundTripsSpaceTabNewlineBackslash) {
  for (std::string_view s : {" ", "\t", "\n", "\r", "\\", "a\\sb", "\\s", "x y\tz"})
    EXPECT_EQ(unescape_symbol(escape_symbol(s)), s);
  EXPECT_EQ(escape_symbol(" \\\t\n"), "\\s\\\\\\t\\n");
}

TEST(TextVocabFile, SaveAndLoadRoundTrip) {
  TempDir dir;
  const std::vector<std::string> texts = {"a b\tc\\d", "line\nbreak\r", "naïve 日本"};
  const auto tok = build_vocab("char", texts);
  const std::string path = dir.file("src.vocab");
  tok->save(path);
  const std::string bytes = read_file(path);
  EXPECT_TRUE(bytes.starts_with("#transformer-vocab char v1 size=")) << bytes;
  const auto loaded = load_tokenizer(path);
  EXPECT_EQ(loaded->kind(), "char");
  ASSERT_EQ(loaded->vocab_size(), tok->vocab_size());
  for (int i = 0; i < tok->vocab_size(); ++i) EXPECT_EQ(loaded->symbol(i), tok->symbol(i)) << i;
  for (const std::string& t : texts) EXPECT_EQ(loaded->decode(loaded->encode(t)), t);
  // No temp file is left beside the target.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);

  const auto words = build_vocab("word", {"HH AH0 L OW1"});
  words->save(dir.file("tgt.vocab"));
  const auto loaded_words = load_tokenizer(dir.file("tgt.vocab"));
  EXPECT_EQ(loaded_words->kind(), "word");
  EXPECT_EQ(loaded_words->decode(loaded_words->encode("L OW1 HH")), "L OW1 HH");
}


TEST(TextVocabFile, MalformedFilesAreRefusedNamingTheLine) {
  const std::string specials = "<pad>\n<s>\n</s>\n<unk>\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"#transformer-vocab char v1 size=6\n" + specials + "a\n\\q\n", ":7: unknown escape '\\q'"},
      {"#transformer-vocab char v1 size=6\n" + specials + "a\n\n", ":7: an empty line"},
      {"#transformer-vocab char v1 size=6\n" + specials + "a\na\n", ":7: the symbol 'a' again (first on line 6)"},
      {"#transformer-vocab char v1 size=5\n" + specials + "ab\n", ":6: a symbol of 2 code points"},
      {"#transformer-vocab word v1 size=5\n" + specials + "a b\n", ":6: an unescaped space"},
      {"#transformer-vocab word v1 size=5\n" + specials + "a\\\n", ":6: a trailing '\\'"},
      {"#transformer-vocab char v1 size=5\n" + specials + "a\r\n", ":6: an unescaped space, tab or carriage return"},
      {"#transformer-vocab char v1 size=5\n" + specials + "\xff\n", ":6: invalid UTF-8"},
      {"#transformer-vocab char v1 size=5\n<pad>\n<s>\n<unk>\n</s>\na\n", ":4: expected the special symbol '</s>'"},
      {"#transformer-vocab char v1 size=5\n" + specials + "<s>\n", ":6: the special symbol '<s>' again"},
      {"#transformer-vocab char v1 size=9\n" + specials + "a\n", ":6: the header says size=9 but the file has 5"},
      {"#transformer-vocab char v2 size=5\n" + specials + "a\n", ":1: vocabulary format version 'v2'"},
      {"#transformer-vocab bytes v1 size=5\n" + specials + "a\n", ":1: unknown vocabulary kind 'bytes'"},
      {"#transformer-vocab char v1\n" + specials, ":1: expected the header"},
      {"#transformer-vocab char v1 size=x\n" + specials, ":1: expected size=<N>"},
      {"#transformer-vocab char v1 size=4\r\n<pad>\r\n<s>\r\n</s>\r\n<unk>\r\n", ":1: the file has Windows line ends"},
  };
  TempDir dir;
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = dir.write("bad" + std::to_string(i) + ".vocab", cases[i].first);
    const std::string msg = error_message([&] { load_tokenizer(path); });
    EXPECT_TRUE(contains(msg, path + cases[i].second)) << "case " << i << ": " << msg;
  }
}

TEST(TextLoadTokenizer, RefusesFilesOfNoKnownKind) {
  TempDir dir;
  std::string msg = error_message([&] { load_tokenizer(dir.write("a.txt", "hello\nworld\n")); });
  EXPECT_TRUE(contains(msg, "a.txt: not a tokenizer file") && contains(msg, "'hello'")) << msg;
  msg = error_message([&] { load_tokenizer(dir.write("e.vocab", "")); });
  EXPECT_TRUE(contains(msg, "e.vocab: the file is empty")) << msg;
  msg = error_message([&] { load_tokenizer(dir.file("missing.vocab")); });
  EXPECT_TRUE(contains(msg, "missing.vocab") && contains(msg, "No such file")) << msg;
  msg = error_message([&] { load_tokenizer(dir.write("x.model", "\x0a\x05garbage-not-a-proto")); });
  EXPECT_TRUE(contains(msg, "x.model: not a valid SentencePiece model")) << msg;
}

}  // namespace
}  // namespace tfm

namespace tfm {
namespace {

// A lowercasing vocabulary (what a G2P model trained on lowercase words uses): built from
// lowercased text, it reads "Hello" as "hello", keeps the flag through save and load, and a
// plain vocabulary still treats capitals as unknown.
TEST(TextVocab, LowercaseFlagNormalisesInputAndSurvivesSaveAndLoad) {
  auto tok = build_vocab("char", {"Hello", "world"}, 1, /*lowercase=*/true);
  EXPECT_TRUE(tok->lowercase());
  EXPECT_EQ(tok->id("H"), special::unk) << "the vocabulary holds lowercase letters only";
  std::vector<std::string> unknown;
  const auto upper = tok->encode("HeLLo", &unknown, "t");
  EXPECT_TRUE(unknown.empty());
  EXPECT_EQ(upper, tok->encode("hello", nullptr, "t"));
  const std::string text = tok->serialize();
  EXPECT_EQ(text.substr(0, text.find('\n')), "#transformer-vocab char v1 size=11 lowercase");
  auto back = parse_vocab(text, "v.vocab");
  EXPECT_TRUE(back->lowercase());
  EXPECT_EQ(back->encode("WORLD", nullptr, "t"), tok->encode("world", nullptr, "t"));

  auto plain = build_vocab("char", {"hello"});
  EXPECT_FALSE(plain->lowercase());
  unknown.clear();
  plain->encode("Hello", &unknown, "t");
  EXPECT_EQ(unknown, std::vector<std::string>{"H"});
  EXPECT_EQ(plain->serialize().substr(0, plain->serialize().find('\n')), "#transformer-vocab char v1 size=8");
  // Any other fourth header field is refused.
  std::string bad = text;
  bad.replace(bad.find("lowercase"), 9, "uppercase");
  EXPECT_NE(error_message([&] { parse_vocab(bad, "v.vocab"); }).find("v.vocab:1: expected the header"),
            std::string::npos);
}

}  // namespace
}  // namespace tfm
