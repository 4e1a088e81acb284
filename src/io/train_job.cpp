#include "io/train_job.h"

#include <cstdio>
#include <filesystem>

#include "core/file.h"
#include "data/corpus.h"
#include "io/config_io.h"
#include "io/model_dir.h"
#include "text/sentencepiece_tokenizer.h"
#include "text/vocab_tokenizer.h"

namespace tfm {

namespace fs = std::filesystem;

namespace {

struct Corpus {
  ParallelCorpus text;
  std::string src_name, tgt_name;  // for messages: the file (and, for TSV, the column)
};

// A language model's corpus: the lines are targets; sources are empty.
Corpus read_text_corpus(const std::string& text, const char* what) {
  Corpus c{{}, text, text};
  c.text.tgt = read_lines(text);
  c.text.src.assign(c.text.tgt.size(), "");
  (void)what;
  return c;
}

Corpus read_corpus(const std::string& src, const std::string& tgt, const std::string& tsv,
                   const char* what) {
  TFM_CHECK(tsv.empty() != (src.empty() && tgt.empty()), what, " data: give either two files (",
            what, "-src and ", what, "-tgt) or one TSV file (", what, "-tsv)");
  if (!tsv.empty()) return {read_tsv(tsv), tsv, tsv};
  TFM_CHECK(!src.empty() && !tgt.empty(), what, " data: both --", what, "-src and --", what, "-tgt are needed");
  return {read_parallel(src, tgt), src, tgt};
}

std::unique_ptr<Tokenizer> make_tokenizer(const std::string& kind, const std::vector<std::string>& texts,
                                          int vocab_size, const fs::path& path, bool lowercase = false) {
  TFM_CHECK(!lowercase || kind == "char" || kind == "word",
            "lowercasing the source is for the char and word tokenizers, not ", kind);
  if (kind == "char" || kind == "word") {
    auto t = build_vocab(kind, texts, 1, lowercase);
    t->save(path.string());
    return t;
  }
  TFM_CHECK(kind == "bpe" || kind == "unigram", "tokenizer must be char, word, bpe or unigram, got '", kind, "'");
  train_sentencepiece(texts, path.string(), vocab_size, kind);
  return load_tokenizer(path.string());
}

std::string tokenizer_file(const std::string& kind, const std::string& side) {
  return side + (kind == "bpe" || kind == "unigram" ? ".spm.model" : ".vocab");
}

std::vector<Example> encode(const Corpus& c, const Tokenizer* src_tok, const Tokenizer* tgt_tok,
                            const Config& cfg, bool ids, const std::function<void(const std::string&)>& msg) {
  std::vector<Example> out(c.text.src.size());
  int64_t unknown_lines = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string line = std::to_string(i + 1);
    auto side = [&](const std::string& text, const Tokenizer* tok, int vocab, const std::string& name) {
      std::vector<int> v;
      if (ids) {
        v = parse_ids(text, vocab, name + ":" + line);
      } else {
        std::vector<std::string> unknown;
        v = tok->encode(text, &unknown, name + ":" + line);
        if (!unknown.empty() && ++unknown_lines <= 5 && msg)
          msg(name + ":" + line + ": warning: '" + unknown.front() + "' is not in the vocabulary, mapped to <unk>");
      }
      return std::vector<int32_t>(v.begin(), v.end());
    };
    if (!cfg.is_lm()) out[i].src = side(c.text.src[i], src_tok, cfg.src_vocab_size, c.src_name);
    out[i].tgt = side(c.text.tgt[i], tgt_tok, cfg.tgt_vocab_size, c.tgt_name);
  }
  if (unknown_lines > 5 && msg) msg("warning: " + std::to_string(unknown_lines) + " lines had symbols outside the vocabulary");
  return out;
}

// Every pair must fit the model (len + 1 <= max_len on each side); the error names the line.
void check_lengths(const std::vector<Example>& ex, const Config& cfg, const Corpus& c) {
  for (size_t i = 0; i < ex.size(); ++i) {
    auto check = [&](size_t n, const std::string& name, const char* side) {
      TFM_CHECK(static_cast<int64_t>(n) + 1 <= cfg.max_len, name, ":", i + 1, ": the ", side, " sequence of ", n,
                " tokens is too long: the model takes at most ", cfg.max_len - 1, " (max_len ", cfg.max_len,
                " including eos; raise max_len or pass --skip-long)");
    };
    check(ex[i].src.size(), c.src_name, "source");
    check(ex[i].tgt.size(), c.tgt_name, "target");
  }
}

// Copies the model-directory files (config.json, tokenizers) into a checkpoint, so that every
// checkpoint can be used as a model directly.
void add_model_files(const fs::path& model_dir, const Config& cfg, const fs::path& checkpoint) {
  fs::copy_file(model_dir / "config.json", checkpoint / "config.json", fs::copy_options::overwrite_existing);
  for (const std::string& f : {cfg.src_tokenizer, cfg.tgt_tokenizer})
    if (!f.empty() && !fs::exists(checkpoint / f))
      fs::copy_file(model_dir / f, checkpoint / f, fs::copy_options::overwrite_existing);
}

}  // namespace

TrainSummary run_train_job(TrainJob job, const TrainJobCallbacks& cb) {
  auto msg = [&](const std::string& m) { if (cb.message) cb.message(m); };
  const fs::path dir(job.model_dir);
  const fs::path ckpt = dir / "checkpoints";
  job.train.checkpoint_dir = ckpt.string();
  const TrainData& d = job.data;
  const bool lm = job.config.is_lm();
  const bool parallel_given = !(d.train_src.empty() && d.train_tgt.empty() && d.train_tsv.empty() &&
                                d.valid_src.empty() && d.valid_tgt.empty() && d.valid_tsv.empty());
  const bool text_given = !(d.train_text.empty() && d.valid_text.empty());
  TFM_CHECK(!lm || !parallel_given, "a language model (arch lm) trains on text alone: give --train-text (and ",
            "--valid-text), not parallel data");
  TFM_CHECK(lm || !text_given, "--train-text and --valid-text are for a language model (arch lm); a ",
            job.config.arch, " model trains on parallel data (--train-src/--train-tgt or --train-tsv)");
  TFM_CHECK(!lm || !d.train_text.empty(), "a language model needs --train-text");
  Corpus train = lm ? read_text_corpus(d.train_text, "train")
                    : read_corpus(d.train_src, d.train_tgt, d.train_tsv, "train");
  Corpus valid;
  const bool has_valid = lm ? !d.valid_text.empty() : !(d.valid_src.empty() && d.valid_tgt.empty() && d.valid_tsv.empty());
  if (has_valid)
    valid = lm ? read_text_corpus(d.valid_text, "valid") : read_corpus(d.valid_src, d.valid_tgt, d.valid_tsv, "valid");
  TFM_CHECK(!train.text.src.empty(), train.src_name, ": no training examples");

  std::error_code ec;
  fs::create_directories(dir, ec);
  TFM_CHECK(!ec, dir.string(), ": cannot create the model directory: ", ec.message());
  // Tokenizers are made in a staging folder and moved into the model directory only after all
  // the data has been encoded and checked: bad data never leaves a half-replaced model behind.
  const fs::path staging = dir / ".staging";
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  TFM_CHECK(!ec, staging.string(), ": cannot create: ", ec.message());
  struct Cleanup {
    fs::path p;
    ~Cleanup() { std::error_code e; fs::remove_all(p, e); }
  } cleanup{staging};

  std::unique_ptr<Tokenizer> src_tok, tgt_tok;
  Config& cfg = job.config;
  std::optional<fs::path> resume_from;
  if (job.resume) {
    resume_from = latest_checkpoint(ckpt);
    TFM_CHECK(resume_from.has_value(), ckpt.string(), ": no checkpoint to resume from");
    // The model directory's config and tokenizers are the ones the checkpoints were made with.
    // (Not load_model_dir: an interrupted run has no model.safetensors yet, only checkpoints.)
    cfg = load_config((dir / "config.json").string());
    if (!cfg.src_tokenizer.empty()) src_tok = load_tokenizer((dir / cfg.src_tokenizer).string());
    if (!cfg.tgt_tokenizer.empty()) tgt_tok = load_tokenizer((dir / cfg.tgt_tokenizer).string());
    msg("resuming from " + resume_from->string());
  } else if (!job.data.ids && lm) {
    // One tokenizer, the target side's; the source side of the config mirrors it (unused).
    cfg.src_tokenizer = "";
    cfg.tgt_tokenizer = tokenizer_file(job.tokenizers.tgt, "tgt");
    tgt_tok = make_tokenizer(job.tokenizers.tgt, train.text.tgt, job.tokenizers.vocab_size, staging / cfg.tgt_tokenizer);
    cfg.src_vocab_size = cfg.tgt_vocab_size = tgt_tok->vocab_size();
    msg("tokenizer: " + tgt_tok->kind() + " (" + std::to_string(cfg.tgt_vocab_size) + " ids)");
  } else if (!job.data.ids) {
    const auto& tk = job.tokenizers;
    if (tk.shared) {
      TFM_CHECK(!tk.src_lowercase, "--src-lowercase needs a source tokenizer of its own (not --shared-vocab)");
      TFM_CHECK(tk.src == tk.tgt, "a shared vocabulary needs one tokenizer kind for both sides, got ", tk.src,
                " and ", tk.tgt);
      std::vector<std::string> both = train.text.src;
      both.insert(both.end(), train.text.tgt.begin(), train.text.tgt.end());
      const std::string name = tokenizer_file(tk.src, "shared");
      src_tok = make_tokenizer(tk.src, both, tk.vocab_size, staging / name);
      tgt_tok = load_tokenizer((staging / name).string());
      cfg.src_tokenizer = cfg.tgt_tokenizer = name;
    } else {
      cfg.src_tokenizer = tokenizer_file(tk.src, "src");
      cfg.tgt_tokenizer = tokenizer_file(tk.tgt, "tgt");
      src_tok = make_tokenizer(tk.src, train.text.src, tk.vocab_size, staging / cfg.src_tokenizer, tk.src_lowercase);
      tgt_tok = make_tokenizer(tk.tgt, train.text.tgt, tk.vocab_size, staging / cfg.tgt_tokenizer);
    }
    cfg.src_vocab_size = src_tok->vocab_size();
    cfg.tgt_vocab_size = tgt_tok->vocab_size();
    msg("tokenizers: source " + src_tok->kind() + " (" + std::to_string(cfg.src_vocab_size) + " ids), target " +
        tgt_tok->kind() + " (" + std::to_string(cfg.tgt_vocab_size) + " ids)");
  }
  if (lm) cfg.src_vocab_size = cfg.tgt_vocab_size;  // no source; keeps the special-id checks meaningful
  try {
    cfg.validate();
  } catch (const Error& e) {
    throw Error(std::string("the model's configuration (--config, --set and the tokenizers' sizes): ") + e.what());
  }
  auto train_examples = encode(train, src_tok.get(), tgt_tok.get(), cfg, job.data.ids, msg);
  std::vector<Example> valid_examples;
  if (has_valid) valid_examples = encode(valid, src_tok.get(), tgt_tok.get(), cfg, job.data.ids, msg);
  if (!job.train.batching.skip_long) {
    check_lengths(train_examples, cfg, train);
    if (has_valid) check_lengths(valid_examples, cfg, valid);
  }
  if (!job.resume) {
    TFM_CHECK(!fs::exists(dir / "config.json"), (dir / "config.json").string(),
              ": the directory already holds a model; pass --resume to continue training it, or ",
              "give a new --model directory (nothing was changed)");
    for (const std::string& f : {cfg.src_tokenizer, cfg.tgt_tokenizer})
      if (!f.empty() && fs::exists(staging / f)) fs::rename(staging / f, dir / f);
    save_config((dir / "config.json").string(), cfg);
  }

  std::unique_ptr<Seq2SeqModel> model_owner = make_model(cfg);
  Seq2SeqModel& model = *model_owner;
  Rng init_rng(job.train.seed);
  model.init_parameters(init_rng);
  msg("model: " + cfg.arch + ", " + std::to_string(model.parameter_count()) + " parameters, " +
      std::to_string(train_examples.size()) + (lm ? " training sequences, " : " training pairs, ") +
      std::to_string(valid_examples.size()) + (lm ? " validation sequences" : " validation pairs"));

  TrainCallbacks tc;
  tc.on_log = [&](const TrainLog& l) {
    char b[256];
    std::snprintf(b, sizeof b, "step %lld epoch %lld lr %.3g loss %.4f grad-norm %.3g %.0f tgt-tokens/s",
                  static_cast<long long>(l.step), static_cast<long long>(l.epoch), l.lr, l.loss, l.grad_norm,
                  l.tokens_per_second);
    msg(b);
  };
  tc.on_validation = [&](const ValidationReport& v) {
    char b[256];
    std::snprintf(b, sizeof b, "valid step %lld: loss %.4f nll %.4f accuracy %.2f%%%s", static_cast<long long>(v.step),
                  v.result.loss, v.result.nll, 100 * v.result.accuracy, v.best ? " (best)" : "");
    msg(b);
  };
  tc.on_message = msg;
  tc.add_to_checkpoint = [&](const fs::path& p) { add_model_files(dir, cfg, p); };
  Trainer trainer(model, std::move(train_examples), std::move(valid_examples), job.train, tc);
  if (resume_from) trainer.resume(*resume_from);
  TrainSummary summary = trainer.run();
  // The result: the best validated weights when there was validation, else the last.
  const fs::path best = ckpt / "best" / "model.safetensors";
  if (has_valid && fs::exists(best)) {
    write_file_atomic((dir / "model.safetensors").string(), read_file(best.string()));
    msg("model.safetensors: the best validated checkpoint (step " + std::to_string(summary.best_step) + ")");
  } else {
    save_model_dir(dir.string(), cfg, model);
  }
  return summary;
}

}  // namespace tfm
