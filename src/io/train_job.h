// What `transformer train` does, as a library call: read parallel text (two files or a TSV) or
// token ids, make the tokenizers (character, word, or SentencePiece BPE/unigram trained on the
// training corpus), build the model from a Config, train it with checkpoints, and leave a model
// directory (io/model_dir.h) whose every checkpoint is itself a loadable model directory.
//
//   <model>/config.json, model.safetensors, <tokenizer files>     the result
//   <model>/checkpoints/step-<N>/, best/                          for --resume and averaging
#pragma once
#include <functional>
#include <string>

#include "models/config.h"
#include "train/trainer.h"

namespace tfm {

struct TrainData {
  std::string train_src, train_tgt, train_tsv;  // two files, or one TSV
  std::string valid_src, valid_tgt, valid_tsv;  // optional
  // A language model (arch lm) trains on text alone: one sequence per line.
  std::string train_text, valid_text;
  bool ids = false;                             // the files hold token ids (no tokenizers)
};

struct TokenizerChoice {
  std::string src = "char", tgt = "char";  // char | word | bpe | unigram
  int vocab_size = 8000;                   // for bpe and unigram (an upper bound)
  bool shared = false;                     // one tokenizer for both sides (needed by tie_embeddings)
  bool src_lowercase = false;              // the source tokenizer lowercases ASCII letters (char, word)
};

struct TrainJob {
  std::string model_dir;
  TrainData data;
  Config config;           // vocabulary sizes and tokenizer files are filled in by the job
  TokenizerChoice tokenizers;
  TrainOptions train;      // checkpoint_dir is set to <model_dir>/checkpoints
  bool resume = false;     // continue from the latest checkpoint in <model_dir>/checkpoints
};

struct TrainJobCallbacks {
  std::function<void(const std::string&)> message;  // progress lines for a person
};

// Throws tfm::Error naming the file and line for bad data; a failure leaves any existing model
// files in place (every write is atomic).
TrainSummary run_train_job(TrainJob job, const TrainJobCallbacks& cb);

}  // namespace tfm
