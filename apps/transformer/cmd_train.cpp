// train: options -> TrainJob -> run_train_job. A JSON config file may hold the model's keys
// (config.json's) and a "train" object with the training keys below; command-line options
// override both, and --set key=value overrides a model key.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/error.h"
#include "core/file.h"
#include "io/config_io.h"
#include "io/train_job.h"

namespace tfm::cli {

namespace {

struct TrainArgs {
  TrainJob job;
  std::string config_file;
  std::vector<std::string> sets;
  std::string tokenizer, schedule = "paper";
  int64_t warmup = 4000;
  double lr_scale = 1.0, lr = 1e-3;
};

// Training keys a config file's "train" object may hold, applied before the command line.
void apply_train_json(const nlohmann::json& t, TrainArgs& a, const std::string& source) {
  TFM_CHECK(t.is_object(), source, ": \"train\" must be an object");
  for (auto& [k, v] : t.items()) {
    auto num = [&]() {
      TFM_CHECK(v.is_number(), source, ": train.", k, " must be a number, got ", v.dump());
      return v.get<double>();
    };
    auto str = [&]() {
      TFM_CHECK(v.is_string(), source, ": train.", k, " must be a string, got ", v.dump());
      return v.get<std::string>();
    };
    TrainOptions& o = a.job.train;
    if (k == "steps") o.max_steps = static_cast<int64_t>(num());
    else if (k == "epochs") o.max_epochs = static_cast<int64_t>(num());
    else if (k == "max_tokens") o.batching.max_tokens = static_cast<int64_t>(num());
    else if (k == "max_sentences") o.batching.max_sentences = static_cast<int64_t>(num());
    else if (k == "label_smoothing") o.label_smoothing = num();
    else if (k == "clip_norm") o.clip_norm = num();
    else if (k == "seed") o.seed = static_cast<uint64_t>(num());
    else if (k == "validate_every") o.validate_every = static_cast<int64_t>(num());
    else if (k == "save_every") o.save_every = static_cast<int64_t>(num());
    else if (k == "log_every") o.log_every = static_cast<int64_t>(num());
    else if (k == "keep_last") o.keep_last = static_cast<int64_t>(num());
    else if (k == "patience") o.patience = static_cast<int64_t>(num());
    else if (k == "schedule") a.schedule = str();
    else if (k == "warmup") a.warmup = static_cast<int64_t>(num());
    else if (k == "lr_scale") a.lr_scale = num();
    else if (k == "lr") a.lr = num();
    else if (k == "tokenizer") a.tokenizer = str();
    else if (k == "src_tokenizer") a.job.tokenizers.src = str();
    else if (k == "tgt_tokenizer") a.job.tokenizers.tgt = str();
    else if (k == "vocab_size") a.job.tokenizers.vocab_size = static_cast<int>(num());
    else if (k == "shared_vocab") a.job.tokenizers.shared = v.get<bool>();
    else if (k == "src_lowercase") a.job.tokenizers.src_lowercase = v.get<bool>();
    else throw Error(source + ": unknown training key \"train." + k + "\"");
  }
}

}  // namespace

Run add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  TrainJob& j = a->job;
  TrainOptions& o = j.train;
  o.max_steps = 0;
  app.add_option("--model", j.model_dir, "Model directory to write (created if needed)")->required();
  app.add_option("--config", a->config_file, "JSON file: model keys (as config.json) and a \"train\" object");
  app.add_option("--set", a->sets, "Override a model key, e.g. --set d_model=256 (repeatable)");
  auto* data = app.add_option_group("data", "Training and validation data");
  data->add_option("--train-src", j.data.train_src, "Training source sentences, one per line");
  data->add_option("--train-tgt", j.data.train_tgt, "Training target sentences, one per line");
  data->add_option("--train-tsv", j.data.train_tsv, "Training pairs as source<TAB>target lines");
  data->add_option("--valid-src", j.data.valid_src, "Validation source sentences");
  data->add_option("--valid-tgt", j.data.valid_tgt, "Validation target sentences");
  data->add_option("--valid-tsv", j.data.valid_tsv, "Validation pairs as source<TAB>target lines");
  data->add_option("--train-text", j.data.train_text,
                   "Language model (--set arch=lm): training sequences, one per line");
  data->add_option("--valid-text", j.data.valid_text, "Language model: validation sequences, one per line");
  data->add_flag("--ids", j.data.ids, "The files hold token ids; the config must give the vocabulary sizes");
  auto* tok = app.add_option_group("tokenizers", "Tokenizers made from the training data");
  const auto kinds = CLI::IsMember({"char", "word", "bpe", "unigram"});
  tok->add_option("--tokenizer", a->tokenizer, "Both sides: char, word, bpe or unigram")->check(kinds);
  tok->add_option("--src-tokenizer", j.tokenizers.src, "Source side")->check(kinds)->capture_default_str();
  tok->add_option("--tgt-tokenizer", j.tokenizers.tgt, "Target side")->check(kinds)->capture_default_str();
  tok->add_option("--vocab-size", j.tokenizers.vocab_size, "SentencePiece vocabulary size (upper bound)")
      ->check(CLI::Range(8, 1 << 20))->capture_default_str();
  tok->add_flag("--shared-vocab", j.tokenizers.shared, "One tokenizer for both sides (for tie_embeddings)");
  tok->add_flag("--src-lowercase", j.tokenizers.src_lowercase,
                "The source tokenizer lowercases ASCII letters, in training and at inference (char, word)");
  auto* tr = app.add_option_group("training", "Optimisation");
  tr->add_option("--steps", o.max_steps, "Stop after this many updates")->check(CLI::NonNegativeNumber);
  tr->add_option("--epochs", o.max_epochs, "Stop after this many epochs")->check(CLI::NonNegativeNumber);
  tr->add_option("--max-tokens", o.batching.max_tokens, "Padded tokens per batch")->check(CLI::PositiveNumber)
      ->capture_default_str();
  tr->add_option("--schedule", a->schedule, "paper | constant | inverse_sqrt | linear (down to 0 at --steps)")
      ->check(CLI::IsMember({"paper", "constant", "inverse_sqrt", "linear"}))->capture_default_str();
  tr->add_option("--warmup", a->warmup, "Warm-up steps")->check(CLI::PositiveNumber)->capture_default_str();
  tr->add_option("--lr-scale", a->lr_scale, "Factor of the paper's schedule")->check(CLI::PositiveNumber)
      ->capture_default_str();
  tr->add_option("--lr", a->lr, "Learning rate (constant) or peak (inverse_sqrt, linear)")->check(CLI::PositiveNumber)
      ->capture_default_str();
  tr->add_option("--label-smoothing", o.label_smoothing, "Label smoothing epsilon")->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  tr->add_option("--clip-norm", o.clip_norm, "Clip the gradient norm to this (0: off)")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  tr->add_option("--seed", o.seed, "Seed of initialisation, batch order and dropout")->capture_default_str();
  tr->add_option("--validate-every", o.validate_every, "Steps between validations (0: each epoch)")
      ->check(CLI::NonNegativeNumber);
  tr->add_option("--save-every", o.save_every, "Steps between checkpoints (0: each epoch)")->check(CLI::NonNegativeNumber);
  tr->add_option("--log-every", o.log_every, "Steps between log lines")->check(CLI::NonNegativeNumber)->capture_default_str();
  tr->add_option("--keep-last", o.keep_last, "Step checkpoints kept")->check(CLI::NonNegativeNumber)->capture_default_str();
  tr->add_option("--patience", o.patience, "Stop after this many validations without improvement (0: never)")
      ->check(CLI::NonNegativeNumber);
  tr->add_flag("--skip-long", o.batching.skip_long, "Leave out pairs longer than max_len instead of failing");
  app.add_flag("--resume", j.resume, "Continue from the latest checkpoint in <model>/checkpoints");
  // Remember which options were given, so the config file's "train" values do not override them.
  return [a, &app] {
    TrainJob& j = a->job;
    TrainArgs from_file;  // config-file values, then the command line on top
    if (!a->config_file.empty()) {
      nlohmann::json cfg;
      const std::string text = read_file(a->config_file);
      try {
        cfg = nlohmann::json::parse(text);
      } catch (const nlohmann::json::parse_error& e) {
        throw Error(a->config_file + ": not valid JSON (" + e.what() + ")");
      }
      TFM_CHECK(cfg.is_object(), a->config_file, ": expected a JSON object");
      if (cfg.contains("train")) {
        from_file = *a;
        apply_train_json(cfg["train"], from_file, a->config_file);
        cfg.erase("train");
      }
      j.config = config_from_json(cfg, a->config_file, /*validate=*/false);
      if (!from_file.job.model_dir.empty()) {
        // Copy the file's training values for every option not given on the command line.
        auto given = [&](const char* name) { return app.count(name) > 0; };
        TrainOptions& o = j.train;
        const TrainOptions& f = from_file.job.train;
        if (!given("--steps")) o.max_steps = f.max_steps;
        if (!given("--epochs")) o.max_epochs = f.max_epochs;
        if (!given("--max-tokens")) o.batching.max_tokens = f.batching.max_tokens;
        o.batching.max_sentences = f.batching.max_sentences;
        if (!given("--label-smoothing")) o.label_smoothing = f.label_smoothing;
        if (!given("--clip-norm")) o.clip_norm = f.clip_norm;
        if (!given("--seed")) o.seed = f.seed;
        if (!given("--validate-every")) o.validate_every = f.validate_every;
        if (!given("--save-every")) o.save_every = f.save_every;
        if (!given("--log-every")) o.log_every = f.log_every;
        if (!given("--keep-last")) o.keep_last = f.keep_last;
        if (!given("--patience")) o.patience = f.patience;
        if (!given("--schedule")) a->schedule = from_file.schedule;
        if (!given("--warmup")) a->warmup = from_file.warmup;
        if (!given("--lr-scale")) a->lr_scale = from_file.lr_scale;
        if (!given("--lr")) a->lr = from_file.lr;
        if (!given("--tokenizer")) a->tokenizer = from_file.tokenizer;
        if (!given("--src-tokenizer")) j.tokenizers.src = from_file.job.tokenizers.src;
        if (!given("--tgt-tokenizer")) j.tokenizers.tgt = from_file.job.tokenizers.tgt;
        if (!given("--vocab-size")) j.tokenizers.vocab_size = from_file.job.tokenizers.vocab_size;
        if (!given("--shared-vocab")) j.tokenizers.shared = from_file.job.tokenizers.shared;
        if (!given("--src-lowercase")) j.tokenizers.src_lowercase = from_file.job.tokenizers.src_lowercase;
      }
    }
    if (!a->sets.empty()) {
      nlohmann::json cfg = config_to_json(j.config);
      for (const std::string& kv : a->sets) {
        auto eq = kv.find('=');
        TFM_CHECK(eq != std::string::npos && eq > 0, "--set expects key=value, got '", kv, "'");
        const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
        nlohmann::json v;
        try {
          v = nlohmann::json::parse(value);
        } catch (const nlohmann::json::parse_error&) {
          v = value;  // a bare word is a string
        }
        cfg[key] = v;
      }
      j.config = config_from_json(cfg, "--set", /*validate=*/false);
    }
    if (!a->tokenizer.empty()) j.tokenizers.src = j.tokenizers.tgt = a->tokenizer;
    if (a->schedule == "paper") j.train.schedule = Schedule::paper(0, a->warmup, a->lr_scale);
    else if (a->schedule == "constant") j.train.schedule = Schedule::constant(a->lr);
    else if (a->schedule == "inverse_sqrt") j.train.schedule = Schedule::inverse_sqrt(a->lr, a->warmup);
    else {
      TFM_CHECK(j.train.max_steps > 0, "the linear schedule decays to 0 at the last step: give --steps (or train.steps)");
      j.train.schedule = Schedule::linear(a->lr, a->warmup, j.train.max_steps);
    }
    if (j.train.max_steps == 0 && j.train.max_epochs == 0) j.train.max_epochs = 10;
    TrainSummary s = run_train_job(j, {[](const std::string& m) { std::fprintf(stderr, "%s\n", m.c_str()); }});
    std::fprintf(stderr, "done: %lld steps, %lld epochs%s\n", static_cast<long long>(s.steps),
                 static_cast<long long>(s.epochs_completed),
                 s.best_valid_loss ? (", best validation loss " + std::to_string(*s.best_valid_loss)).c_str() : "");
  };
}

}  // namespace tfm::cli
