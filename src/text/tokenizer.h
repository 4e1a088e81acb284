// Tokenizer: text <-> token ids. Three kinds share this interface:
//   "char"          one token per Unicode code point (text/vocab_tokenizer.h),
//   "word"          one token per whitespace-separated word, e.g. ARPAbet "HH AH0 L OW1" (same file),
//   "sentencepiece" BPE or unigram subwords from a SentencePiece .model (text/sentencepiece_tokenizer.h).
// The special ids are the same for every kind (DESIGN.md): pad 0, bos 1, eos 2, unk 3.
// encode() never adds bos/eos: where they go is the model's business (the scoring convention).
#pragma once
#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

namespace special {
inline constexpr int pad = 0;
inline constexpr int bos = 1;
inline constexpr int eos = 2;
inline constexpr int unk = 3;
inline constexpr int count = 4;  // ids below this are special
// The symbols of the special ids, in id order, as SentencePiece names them too.
inline constexpr std::array<std::string_view, count> names = {"<pad>", "<s>", "</s>", "<unk>"};
}  // namespace special

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // The ids of text. A symbol outside the vocabulary becomes special::unk and, if unknown is not
  // null, is appended to *unknown (so the caller can warn once, naming the input line).
  // Throws tfm::Error if text is not valid UTF-8.
  std::vector<int> encode(std::string_view text, std::vector<std::string>* unknown = nullptr) const;
  // The same, with where (e.g. "input.txt:12") put in front of any error message.
  std::vector<int> encode(std::string_view text, std::vector<std::string>* unknown,
                          std::string_view where) const;

  // The text of ids. pad, bos and eos are skipped; unk becomes the kind's unknown surface
  // ("<unk>" for char and word; the model's unk_surface, by default " ⁇ ", for SentencePiece).
  // Throws tfm::Error for an id outside [0, vocab_size()).
  std::string decode(std::span<const int> ids) const;

  // Number of ids, the specials included.
  virtual int vocab_size() const = 0;
  // "char", "word" or "sentencepiece".
  virtual std::string kind() const = 0;
  // The symbol of id as the vocabulary spells it (SentencePiece: the piece, e.g. "▁the").
  virtual std::string symbol(int id) const = 0;
  // Writes the tokenizer file atomically (temp file, fsync, rename). load_tokenizer reads it back.
  virtual void save(const std::string& path) const = 0;

 protected:
  // text is valid UTF-8 here.
  virtual std::vector<int> encode_checked(std::string_view text,
                                          std::vector<std::string>* unknown) const = 0;
  // ids are in range and none is pad, bos or eos here.
  virtual std::string decode_checked(const std::vector<int>& ids) const = 0;
};

// Reads a tokenizer file of any kind, recognised by its content (not its name): a vocabulary
// file starts with "#transformer-vocab ", a SentencePiece model is a ModelProto. Anything else,
// or a SentencePiece model whose special ids are not pad 0, bos 1, eos 2, unk 3, is refused with
// a tfm::Error naming the file and what was expected.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace tfm
