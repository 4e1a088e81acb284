// Char and word tokenizers over an explicit vocabulary, and the vocabulary file format.
//
// File format (UTF-8 text, one symbol per line, line n+2 holds id n):
//   #transformer-vocab <kind> v1 size=<N> [lowercase]
//   <pad>
//   <s>
//   </s>
//   <unk>
//   e
//   \s
//   ...
// "lowercase": input text has its ASCII letters lowercased before lookup (a G2P model trained on
// lowercase words then reads "Hello" as "hello"). size=N counts the symbol lines, so a truncated file is refused rather than silently loaded
// with fewer ids than the model was trained with. Escapes keep every symbol on one visible line:
// "\\" backslash, "\s" space, "\t" tab, "\n" newline, "\r" carriage return; any other backslash
// sequence, an empty line, or a duplicate symbol is an error naming the file and line.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/tokenizer.h"

namespace tfm {

class VocabTokenizer final : public Tokenizer {
 public:
  enum class Kind { Char, Word };

  // symbols[i] is the symbol of id i; symbols[0..3] must be the special names. Throws tfm::Error
  // if they are not, if a symbol repeats, or if a symbol does not fit the kind (char: exactly one
  // code point; word: non-empty, no ASCII whitespace).
  VocabTokenizer(Kind kind, std::vector<std::string> symbols);

  int vocab_size() const override { return static_cast<int>(symbols_.size()); }
  std::string kind() const override { return kind_ == Kind::Char ? "char" : "word"; }
  std::string symbol(int id) const override;
  void save(const std::string& path) const override;

  Kind vocab_kind() const { return kind_; }
  // Lowercase ASCII letters of the input before lookup (saved in the header).
  bool lowercase() const { return lowercase_; }
  void set_lowercase(bool on) { lowercase_ = on; }
  const std::vector<std::string>& symbols() const { return symbols_; }
  // The id of symbol, or special::unk if it is not in the vocabulary (the special names included:
  // "<s>" in the input text is a word like any other, never the bos id).
  int id(std::string_view symbol) const;
  // The file contents that save() writes.
  std::string serialize() const;

 protected:
  std::vector<int> encode_checked(std::string_view text,
                                  std::vector<std::string>* unknown) const override;
  std::string decode_checked(const std::vector<int>& ids) const override;

 private:
  Kind kind_;
  bool lowercase_ = false;
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int> ids_;  // non-special symbols only
};

// "char" -> Kind::Char, "word" -> Kind::Word; anything else is a tfm::Error.
VocabTokenizer::Kind parse_vocab_kind(std::string_view kind);

// The vocabulary of texts: the specials first, then every symbol seen at least min_count times,
// by descending count, ties by code point order (bytewise UTF-8 order, which is the same).
// Deterministic. Texts must be valid UTF-8. A text symbol equal to a special name ("<s>", ...)
// is left out: it could not get an id of its own, and encodes as unk.
// kind: "char" or "word" ("sentencepiece": use train_sentencepiece). lowercase: the texts are
// read with their ASCII letters lowercased, and the tokenizer lowercases its input.
std::unique_ptr<VocabTokenizer> build_vocab(std::string_view kind,
                                            const std::vector<std::string>& texts,
                                            int min_count = 1, bool lowercase = false);

// Parses a vocabulary file's contents; path is for error messages only.
std::unique_ptr<VocabTokenizer> parse_vocab(std::string_view contents, const std::string& path);

// The escaped form of a symbol as it appears on its line, and back. unescape_symbol throws
// tfm::Error (without location; parse_vocab adds it) for an unknown escape or a trailing "\".
std::string escape_symbol(std::string_view symbol);
std::string unescape_symbol(std::string_view line);

}  // namespace tfm
