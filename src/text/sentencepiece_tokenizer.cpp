#include "text/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "core/error.h"
#include "core/file.h"
#include "text/utf8.h"

namespace tfm {

namespace {

// Feeds the trainer from memory, so training needs no temp file.
class VectorSentenceIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit VectorSentenceIterator(const std::vector<std::string>& v) : v_(v) {}
  bool done() const override { return i_ >= v_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return v_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& v_;
  size_t i_ = 0;
};

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(std::string_view serialized_model,
                                               const std::string& source)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  const auto status = sp_->LoadFromSerializedProto(serialized_model);
  TFM_CHECK(status.ok(), source, ": not a valid SentencePiece model (", status.ToString(),
            "); expected a .model file written by SentencePiece (is it truncated?)");
  const int want[special::count] = {special::pad, special::bos, special::eos, special::unk};
  const int have[special::count] = {sp_->pad_id(), sp_->bos_id(), sp_->eos_id(), sp_->unk_id()};
  for (int i = 0; i < special::count; ++i)
    TFM_CHECK(have[i] == want[i], source, ": SentencePiece model has pad_id=", have[0],
              " bos_id=", have[1], " eos_id=", have[2], " unk_id=", have[3],
              "; expected 0 1 2 3 (train it with --pad_id=0 --bos_id=1 --eos_id=2 --unk_id=3)");
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

int SentencePieceTokenizer::vocab_size() const { return sp_->GetPieceSize(); }

std::string SentencePieceTokenizer::symbol(int id) const {
  TFM_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " is outside [0, ", vocab_size(), ")");
  return sp_->IdToPiece(id);
}

void SentencePieceTokenizer::save(const std::string& path) const {
  write_file_atomic(path, sp_->serialized_model_proto());
}

std::vector<std::string> SentencePieceTokenizer::encode_pieces(std::string_view text) const {
  check_utf8(text);
  std::vector<std::string> pieces;
  const auto status = sp_->Encode(text, &pieces);
  TFM_CHECK(status.ok(), "SentencePiece encode failed: ", status.ToString());
  return pieces;
}

std::vector<int> SentencePieceTokenizer::encode_checked(std::string_view text,
                                                        std::vector<std::string>* unknown) const {
  // The proto form carries each piece's surface text, which is what an unknown piece's warning
  // should show (its piece is just "<unk>").
  sentencepiece::ImmutableSentencePieceText spt;
  const auto status = sp_->Encode(text, spt.mutable_proto());
  TFM_CHECK(status.ok(), "SentencePiece encode failed: ", status.ToString());
  std::vector<int> ids;
  ids.reserve(spt.pieces_size());
  for (size_t i = 0; i < spt.pieces_size(); ++i) {
    const auto piece = spt.pieces(static_cast<int>(i));
    const int id = static_cast<int>(piece.id());
    if (id == special::unk && unknown) unknown->push_back(piece.surface());
    ids.push_back(id);
  }
  return ids;
}

std::string SentencePieceTokenizer::decode_checked(const std::vector<int>& ids) const {
  std::string text;
  const auto status = sp_->Decode(ids, &text);
  TFM_CHECK(status.ok(), "SentencePiece decode failed: ", status.ToString());
  return text;
}

void train_sentencepiece(const std::vector<std::string>& sentences, const std::string& model_path,
                         int vocab_size, const std::string& type,
                         const SentencePieceTrainOptions& options) {
  TFM_CHECK(type == "bpe" || type == "unigram", "train_sentencepiece: model type '", type,
            "'; expected 'bpe' or 'unigram'");
  TFM_CHECK(vocab_size > special::count, "train_sentencepiece: vocab_size ", vocab_size,
            "; expected more than the ", special::count, " special ids");
  TFM_CHECK(!sentences.empty(), "train_sentencepiece: no sentences to train on");
  TFM_CHECK(options.character_coverage > 0 && options.character_coverage <= 1,
            "train_sentencepiece: character_coverage ", options.character_coverage,
            "; expected a value in (0, 1]");
  TFM_CHECK(options.num_threads >= 1, "train_sentencepiece: num_threads ", options.num_threads,
            "; expected at least 1");
  for (size_t i = 0; i < sentences.size(); ++i)
    check_utf8(sentences[i], detail::concat("train_sentencepiece: sentence ", i + 1));

  // The key-value form avoids quoting: a path or rule name with spaces cannot break it.
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", type},
      {"vocab_size", std::to_string(vocab_size)},
      {"pad_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"unk_id", "3"},
      // Without this, a small corpus fails with "Vocabulary size too high"; with it the
      // vocabulary may come out smaller than asked.
      {"hard_vocab_limit", "false"},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"normalization_rule_name", options.normalization},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"num_threads", std::to_string(options.num_threads)},
      // Use every sentence, in order: sampling (input_sentence_size > 0) draws from a random
      // generator and would make the model depend on it.
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      // 2 = errors only; the library must not print (it also sets a process-wide level).
      {"minloglevel", "2"},
  };
  VectorSentenceIterator it(sentences);
  std::string model;  // with this given, SentencePiece returns the model instead of writing files
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  TFM_CHECK(status.ok(), "train_sentencepiece: SentencePiece failed: ", status.ToString());
  write_file_atomic(model_path, model);
}

}  // namespace tfm
