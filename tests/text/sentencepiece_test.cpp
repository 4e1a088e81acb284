#include "text/sentencepiece_tokenizer.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "../data/error_message.h"
#include "../data/temp_dir.h"
#include "core/rng.h"
#include "core/file.h"

namespace tfm {
namespace {

using testing::error_message;
using testing::TempDir;

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// A few hundred sentences over a small vocabulary with some multi-byte words: enough for
// SentencePiece to learn merges, small enough to train in milliseconds.
std::vector<std::string> small_corpus() {
  static const char* words[] = {"the",   "cat",  "sat",   "on",    "mat",    "naïve", "café",
                                "日本",  "dog",  "runs",  "quick", "lazy",   "fox",   "jumps",
                                "over",  "river", "bank", "rivers", "banks", "cats",  "dogs"};
  Rng rng(7);
  std::vector<std::string> out;
  for (int i = 0; i < 300; ++i) {
    std::string s;
    const int n = 3 + static_cast<int>(rng.below(6));
    for (int j = 0; j < n; ++j) {
      if (j) s += ' ';
      s += words[rng.below(std::size(words))];
    }
    out.push_back(std::move(s));
  }
  return out;
}

void check_trained_model(const std::string& type, int vocab_size) {
  TempDir dir;
  const std::vector<std::string> corpus = small_corpus();
  const std::string path = dir.file(type + ".model");
  train_sentencepiece(corpus, path, vocab_size, type);
  const auto tok = load_tokenizer(path);
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_LE(tok->vocab_size(), vocab_size);  // a soft limit on a small corpus
  EXPECT_GT(tok->vocab_size(), special::count + 20);
  for (int i = 0; i < special::count; ++i) EXPECT_EQ(tok->symbol(i), special::names[i]) << i;

  for (int i = 0; i < 20; ++i) {
    std::vector<std::string> unknown;
    const std::vector<int> ids = tok->encode(corpus[i], &unknown);
    EXPECT_TRUE(unknown.empty()) << corpus[i];
    for (int id : ids) EXPECT_GE(id, special::count) << corpus[i];
    EXPECT_EQ(tok->decode(ids), corpus[i]);
  }
  // bos/eos/pad around the ids are skipped on decode.
  std::vector<int> framed = {special::bos};
  for (int id : tok->encode("naïve 日本 cat")) framed.push_back(id);
  framed.push_back(special::eos);
  framed.push_back(special::pad);
  EXPECT_EQ(tok->decode(framed), "naïve 日本 cat");

  // Characters never seen are unk, reported with their surface text.
  std::vector<std::string> unknown;
  const std::vector<int> ids = tok->encode("cat Ω", &unknown);
  EXPECT_EQ(ids.back(), special::unk);
  EXPECT_EQ(unknown, (std::vector<std::string>{"Ω"}));

  // Saving writes the same model back; training again gives the same bytes (deterministic).
  tok->save(dir.file("copy.model"));
  EXPECT_EQ(read_file(dir.file("copy.model")), read_file(path));
  train_sentencepiece(corpus, dir.file("again.model"), vocab_size, type);
  EXPECT_EQ(read_file(dir.file("again.model")), read_file(path));
}

TEST(TextSentencePiece, BpeTrainsWithFixedSpecialsAndRoundTrips) { check_trained_model("bpe", 120); }

TEST(TextSentencePiece, UnigramTrainsWithFixedSpecialsAndRoundTrips) {
  check_trained_model("unigram", 100);
}

TEST(TextSentencePiece, VocabSizeIsASoftLimitOnASmallCorpus) {
  TempDir dir;
  train_sentencepiece(small_corpus(), dir.file("u.model"), 2000, "unigram");
  const auto tok = load_tokenizer(dir.file("u.model"));
  EXPECT_LT(tok->vocab_size(), 2000);
}

TEST(TextSentencePiece, BadArgumentsAreErrors) {
  TempDir dir;
  const auto corpus = small_corpus();
  std::string msg = error_message([&] { train_sentencepiece(corpus, dir.file("m"), 100, "wordpiece"); });
  EXPECT_TRUE(contains(msg, "'wordpiece'") && contains(msg, "'bpe' or 'unigram'")) << msg;
  msg = error_message([&] { train_sentencepiece(corpus, dir.file("m"), 4, "bpe"); });
  EXPECT_TRUE(contains(msg, "vocab_size 4")) << msg;
  msg = error_message([&] { train_sentencepiece({}, dir.file("m"), 100, "bpe"); });
  EXPECT_TRUE(contains(msg, "no sentences")) << msg;
  msg = error_message([&] { train_sentencepiece({"ok", "b\xffz"}, dir.file("m"), 100, "bpe"); });
  EXPECT_TRUE(contains(msg, "sentence 2: invalid UTF-8")) << msg;
  // Fewer ids than distinct characters: SentencePiece's own refusal comes through.
  msg = error_message([&] { train_sentencepiece(corpus, dir.file("m"), 10, "bpe"); });
  EXPECT_TRUE(contains(msg, "SentencePiece failed")) << msg;
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
}

TEST(TextSentencePiece, InvalidUtf8InputIsAnError) {
  TempDir dir;
  train_sentencepiece(small_corpus(), dir.file("b.model"), 100, "bpe");
  const auto tok = load_tokenizer(dir.file("b.model"));
  const std::string msg = error_message([&] { tok->encode("cat \xe6\x97", nullptr, "in.txt:4"); });
  EXPECT_TRUE(contains(msg, "in.txt:4: invalid UTF-8 at byte 5")) << msg;
}

TEST(TextSentencePiece, TruncatedModelIsRefused) {
  TempDir dir;
  train_sentencepiece(small_corpus(), dir.file("b.model"), 100, "bpe");
  const std::string bytes = read_file(dir.file("b.model"));
  const std::string cut = dir.write("cut.model", std::string_view(bytes).substr(0, bytes.size() / 2));
  const std::string msg = error_message([&] { load_tokenizer(cut); });
  EXPECT_TRUE(contains(msg, "cut.model: not a valid SentencePiece model")) << msg;
}

TEST(TextSentencePiece, ModelWithOtherSpecialIdsIsRefused) {
  // SentencePiece's defaults: unk 0, bos 1, eos 2, no pad; trained here from a file, the usual way.
  TempDir dir;
  std::string text;
  for (const std::string& s : small_corpus()) text += s + "\n";
  const std::string input = dir.write("corpus.txt", text);
  const std::unordered_map<std::string, std::string> args = {
      {"input", input}, {"vocab_size", "60"}, {"minloglevel", "2"}, {"hard_vocab_limit", "false"}};
  std::string model;
  ASSERT_TRUE(sentencepiece::SentencePieceTrainer::Train(args, nullptr, &model).ok());
  const std::string path = dir.write("default.model", model);
  const std::string msg = error_message([&] { load_tokenizer(path); });
  EXPECT_TRUE(contains(msg, "default.model: SentencePiece model has pad_id=-1 bos_id=1 eos_id=2 unk_id=0"))
      << msg;
  EXPECT_TRUE(contains(msg, "--pad_id=0 --bos_id=1 --eos_id=2 --unk_id=3")) << msg;
}

}  // namespace
}  // namespace tfm
