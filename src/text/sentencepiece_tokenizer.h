// SentencePiece subwords (Kudo & Richardson, 2018): BPE or unigram, through the system's
// libsentencepiece. The ids are SentencePiece's own ids; our models are trained so that its
// pad/bos/eos/unk are 0/1/2/3, and a model with other special ids is refused.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace tfm {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // From a serialized ModelProto (the bytes of a .model file); source names it in errors.
  SentencePieceTokenizer(std::string_view serialized_model, const std::string& source);
  ~SentencePieceTokenizer() override;

  int vocab_size() const override;
  std::string kind() const override { return "sentencepiece"; }
  std::string symbol(int id) const override;
  void save(const std::string& path) const override;

  // The pieces of text as strings ("▁the", "re"), for inspection and tests.
  std::vector<std::string> encode_pieces(std::string_view text) const;

 protected:
  std::vector<int> encode_checked(std::string_view text,
                                  std::vector<std::string>* unknown) const override;
  std::string decode_checked(const std::vector<int>& ids) const override;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
};

struct SentencePieceTrainOptions {
  // Fraction of the characters (by frequency) that get their own piece; the rest become unk.
  // SentencePiece's default is 0.9995, which on a small corpus turns rare but real letters into
  // unk; 1.0 keeps every character seen.
  double character_coverage = 1.0;
  // SentencePiece's normalization: "nmt_nfkc" (its default: NFKC, collapses runs of spaces),
  // "nfkc", "nmt_nfkc_cf", "nfkc_cf" or "identity" (no change: decode(encode(x)) == x exactly).
  std::string normalization = "nmt_nfkc";
  // SentencePiece's sentences longer than this (in bytes) are skipped by its trainer.
  int max_sentence_length = 4192;
  // 1 keeps training deterministic regardless of the machine; more threads only help on
  // corpora of millions of sentences.
  int num_threads = 1;
};

// Trains a SentencePiece model of type "bpe" or "unigram" on sentences (from memory; no temp
// file) and writes the .model atomically to model_path. The specials are fixed at pad 0, bos 1,
// eos 2, unk 3. vocab_size is a soft limit (hard_vocab_limit=false): on a corpus too small to
// fill it, training succeeds with fewer pieces instead of failing; load the model and ask
// vocab_size() for the real number. SentencePiece's log is silenced (minloglevel).
// Throws tfm::Error with SentencePiece's message on failure (e.g. vocab_size smaller than the
// number of distinct characters plus the specials).
void train_sentencepiece(const std::vector<std::string>& sentences, const std::string& model_path,
                         int vocab_size, const std::string& type,
                         const SentencePieceTrainOptions& options = {});

}  // namespace tfm
