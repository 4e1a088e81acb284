#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include "autograd/ops.h"
#include "core/file.h"
#include "io/safetensors.h"

namespace tfm {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// 64-bit FNV-1a over the examples: lengths and ids, so a resume on other data is caught.
std::string examples_digest(const std::vector<Example>& examples) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](int64_t x) {
    for (int i = 0; i < 8; ++i) {
      h ^= static_cast<uint8_t>(x >> (8 * i));
      h *= 0x100000001b3ull;
    }
  };
  for (const Example& e : examples) {
    mix(static_cast<int64_t>(e.src.size()));
    for (int32_t id : e.src) mix(id);
    mix(static_cast<int64_t>(e.tgt.size()));
    for (int32_t id : e.tgt) mix(id);
  }
  return digest_hex(std::to_string(h));
}

const char* name_of(TokenBudget b) { return b == TokenBudget::Target ? "target" : "longer"; }
const char* name_of(Bucketing b) {
  switch (b) {
    case Bucketing::None: return "none";
    case Bucketing::Sorted: return "sorted";
    case Bucketing::ShuffledChunks: return "shuffled_chunks";
  }
  return "?";
}

TrainOptions validated(TrainOptions o) {
  o.validate();
  return o;
}

BatchingOptions validation_batching(BatchingOptions b) {
  b.bucketing = Bucketing::Sorted;  // least padding; the order does not matter for a sum
  b.shuffle = false;
  return b;
}

}  // namespace

void TrainOptions::validate() const {
  TFM_CHECK(max_steps >= 0 && max_epochs >= 0, "train: max_steps and max_epochs must be >= 0, got ",
            max_steps, " and ", max_epochs);
  TFM_CHECK(max_steps > 0 || max_epochs > 0, "train: set max_steps or max_epochs (both are 0: no end)");
  TFM_CHECK(label_smoothing >= 0 && label_smoothing < 1, "train: label_smoothing must be in [0, 1), got ",
            label_smoothing);
  TFM_CHECK(clip_norm >= 0 && std::isfinite(clip_norm), "train: clip_norm must be >= 0 (0: off), got ", clip_norm);
  TFM_CHECK(validate_every >= 0, "train: validate_every must be >= 0, got ", validate_every);
  TFM_CHECK(save_every >= 0, "train: save_every must be >= 0, got ", save_every);
  TFM_CHECK(log_every >= 0, "train: log_every must be >= 0, got ", log_every);
  TFM_CHECK(keep_last >= 0, "train: keep_last must be >= 0 (0: keep all), got ", keep_last);
  TFM_CHECK(patience >= 0, "train: patience must be >= 0 (0: never stop early), got ", patience);
  batching.validate();
  schedule.validate();
  adam.validate();
}

Trainer::Trainer(Seq2SeqModel& model, std::vector<Example> train, std::vector<Example> valid,
                 TrainOptions options, TrainCallbacks callbacks)
    : model_(model),
      options_(validated(std::move(options))),
      callbacks_(std::move(callbacks)),
      train_(std::move(train), options_.batching, model.config()),
      adam_(model, options_.adam),
      params_(model.parameters()),
      rng_(options_.seed) {
  options_.schedule = options_.schedule.resolved(model.config().d_model);
  options_.schedule.validate();
  if (!valid.empty()) valid_.emplace(std::move(valid), validation_batching(options_.batching), model.config());
  TFM_CHECK(train_.size() > 0, "train: no training examples (", train_.examples().size(), " given, ",
            train_.skipped().size(), " of them left out as too long)");
  auto report_skipped = [&](const Batcher& b, const char* which) {
    if (b.skipped().empty()) return;
    std::ostringstream s;
    s << "left out " << b.skipped().size() << " " << which << " example(s) longer than the model takes "
      << "(max_len " << model.config().max_len << ") or than max_tokens " << options_.batching.max_tokens
      << "; the first at index " << b.skipped().front();
    message(s.str());
  };
  report_skipped(train_, "training");
  if (valid_) report_skipped(*valid_, "validation");
  state_.trajectory = trajectory();
  state_.trajectory_digest = digest_hex(state_.trajectory.dump());
  log_start_ = now_seconds();
}

json Trainer::trajectory() const {
  const BatchingOptions& b = options_.batching;
  const Config& c = model_.config();
  json t = json::object();
  t["seed"] = options_.seed;
  t["label_smoothing"] = options_.label_smoothing;
  t["clip_norm"] = options_.clip_norm;
  t["schedule"] = options_.schedule.describe();
  t["adam"] = {{"beta1", options_.adam.beta1}, {"beta2", options_.adam.beta2}, {"eps", options_.adam.eps}};
  t["batching"] = {{"max_tokens", b.max_tokens}, {"max_sentences", b.max_sentences},
                   {"budget", name_of(b.budget)},  {"bucketing", name_of(b.bucketing)},
                   {"chunk_size", b.chunk_size},   {"shuffle", b.shuffle},
                   {"skip_long", b.skip_long}};
  t["dropout"] = {{"dropout", c.dropout}, {"embed_dropout", c.embed_dropout}};
  t["train_data"] = {{"examples", train_.examples().size()}, {"digest", examples_digest(train_.examples())}};
  return t;
}

void Trainer::message(const std::string& text) const {
  if (callbacks_.on_message) callbacks_.on_message(text);
}

const std::vector<BatchIndices>& Trainer::epoch_batches() {
  if (batches_epoch_ != state_.epoch) {
    epoch_batches_ = train_.epoch(state_.epoch, options_.seed);
    batches_epoch_ = state_.epoch;
  }
  return epoch_batches_;
}

StepReport Trainer::step() {
  const std::vector<BatchIndices>& batches = epoch_batches();
  TFM_ASSERT(state_.batch_in_epoch < static_cast<int64_t>(batches.size()), "batch ", state_.batch_in_epoch,
             " of an epoch of ", batches.size());
  const Config& c = model_.config();
  TrainBatch b = make_train_batch(train_.examples(), batches[state_.batch_in_epoch], c);

  StepReport r;
  r.step = state_.step + 1;
  r.epoch = state_.epoch;
  r.rows = b.src.B();
  r.target_tokens = b.target_tokens;

  adam_.zero_grad();
  ForwardContext ctx{true, &rng_};
  Var logits = model_.forward(b.src, b.tgt_in, ctx);
  // Section 5.4: label smoothing of value eps_ls = 0.1; pad targets are ignored.
  Var loss = ops::cross_entropy(logits, b.targets, c.pad_id, options_.label_smoothing);
  r.loss = loss.value().item();
  TFM_CHECK(std::isfinite(r.loss), "step ", r.step, ": the loss is ", r.loss,
            "; training diverged (lower the learning rate or set clip_norm)");
  loss.backward();
  r.grad_norm = options_.clip_norm > 0 ? clip_grad_norm(params_, options_.clip_norm) : grad_norm(params_);
  TFM_CHECK(std::isfinite(r.grad_norm), "step ", r.step, ": the gradient norm is ", r.grad_norm,
            "; training diverged (lower the learning rate or set clip_norm)");
  r.lr = options_.schedule.rate(r.step);
  adam_.step(r.lr);

  state_.step = r.step;
  if (++state_.batch_in_epoch == static_cast<int64_t>(batches.size())) {
    r.epoch_end = true;
    ++state_.epoch;
    state_.batch_in_epoch = 0;
  }

  log_loss_sum_ += r.loss * static_cast<double>(r.target_tokens);
  log_tokens_ += r.target_tokens;
  if (options_.log_every > 0 && r.step % options_.log_every == 0) {
    const double now = now_seconds();
    TrainLog log;
    log.step = r.step;
    log.epoch = r.epoch;
    log.lr = r.lr;
    log.loss = log_tokens_ ? log_loss_sum_ / static_cast<double>(log_tokens_) : 0.0;
    log.grad_norm = r.grad_norm;
    log.target_tokens = log_tokens_;
    log.seconds = now - log_start_;
    log.tokens_per_second = log.seconds > 0 ? static_cast<double>(log_tokens_) / log.seconds : 0.0;
    if (callbacks_.on_log) callbacks_.on_log(log);
    log_loss_sum_ = 0;
    log_tokens_ = 0;
    log_start_ = now;
  }
  return r;
}

ValidationResult Trainer::validate() const {
  TFM_CHECK(valid_ && valid_->size() > 0, "validate: there are no validation examples");
  NoGradGuard no_grad;
  const Config& c = model_.config();
  const double eps = options_.label_smoothing;
  double loss_sum = 0, nll_sum = 0;
  int64_t correct = 0, tokens = 0;
  for (const BatchIndices& batch : valid_->epoch(1, 0)) {
    TrainBatch b = make_train_batch(valid_->examples(), batch, c);
    ForwardContext ctx;  // not training: no dropout
    Var logits = model_.forward(b.src, b.tgt_in, ctx);
    const Tensor& L = logits.value();
    const int64_t V = L.dim(-1), N = L.numel() / V;
    dispatch_float(L.dtype(), [&]<class T>() {
      for (int64_t n = 0; n < N; ++n) {
        const int32_t target = b.targets[n];
        if (target == c.pad_id) continue;
        const T* row = L.data<T>() + n * V;
        int64_t argmax = 0;
        for (int64_t v = 1; v < V; ++v)
          if (row[v] > row[argmax]) argmax = v;
        const double top = row[argmax];
        double sum_exp = 0, sum = 0;
        for (int64_t v = 0; v < V; ++v) {
          sum_exp += std::exp(static_cast<double>(row[v]) - top);
          sum += row[v];
        }
        const double lse = top + std::log(sum_exp);
        const double nll = lse - static_cast<double>(row[target]);
        // The smoothed target puts 1 - eps on the target and eps / V on every class.
        loss_sum += (1 - eps) * nll + eps * (lse - sum / static_cast<double>(V));
        nll_sum += nll;
        correct += argmax == target;
        ++tokens;
      }
    });
  }
  ValidationResult r;
  r.target_tokens = tokens;
  if (tokens > 0) {
    r.loss = loss_sum / static_cast<double>(tokens);
    r.nll = nll_sum / static_cast<double>(tokens);
    r.accuracy = static_cast<double>(correct) / static_cast<double>(tokens);
  }
  return r;
}

bool Trainer::done() const {
  if (options_.max_steps > 0 && state_.step >= options_.max_steps) return true;
  if (options_.max_epochs > 0 && state_.epoch > options_.max_epochs) return true;
  return options_.patience > 0 && state_.bad_validations >= options_.patience;
}

void Trainer::after_validation(const ValidationResult& r) {
  ValidationReport report;
  report.step = state_.step;
  report.epoch = state_.batch_in_epoch == 0 ? state_.epoch - 1 : state_.epoch;
  report.result = r;
  report.best = !state_.best_valid_loss || r.loss < *state_.best_valid_loss;
  if (report.best) {
    state_.best_valid_loss = r.loss;
    state_.best_step = state_.step;
    state_.bad_validations = 0;
  } else {
    ++state_.bad_validations;
  }
  report.bad_validations = state_.bad_validations;
  if (callbacks_.on_validation) callbacks_.on_validation(report);
  if (report.best && !options_.checkpoint_dir.empty()) {
    const fs::path dir = fs::path(options_.checkpoint_dir) / "best";
    save_checkpoint(dir);
    message("step " + std::to_string(state_.step) + ": best validation loss so far; wrote " + dir.string());
  }
  if (options_.patience > 0 && state_.bad_validations >= options_.patience)
    message("step " + std::to_string(state_.step) + ": no better validation loss in " +
            std::to_string(options_.patience) + " validations; stopping");
}

void Trainer::save_step_checkpoint() {
  const fs::path root(options_.checkpoint_dir);
  const fs::path dir = root / step_checkpoint_name(state_.step);
  save_checkpoint(dir);
  message("step " + std::to_string(state_.step) + ": wrote checkpoint " + dir.string());
  for (const fs::path& old : prune_checkpoints(root, options_.keep_last))
    message("removed old checkpoint " + old.string());
}

TrainSummary Trainer::run() {
  bool stepped = false, validated = false, saved = false;
  log_start_ = now_seconds();
  while (!done()) {
    const StepReport r = step();
    stepped = true;
    validated = saved = false;
    if (valid_ && valid_->size() > 0 &&
        (options_.validate_every > 0 ? r.step % options_.validate_every == 0 : r.epoch_end)) {
      after_validation(validate());
      validated = true;
    }
    if (!options_.checkpoint_dir.empty() &&
        (options_.save_every > 0 ? r.step % options_.save_every == 0 : r.epoch_end)) {
      save_step_checkpoint();
      saved = true;
    }
  }
  if (stepped && !validated && valid_ && valid_->size() > 0) after_validation(validate());
  if (stepped && !saved && !options_.checkpoint_dir.empty()) save_step_checkpoint();

  TrainSummary s;
  s.steps = state_.step;
  s.epochs_completed = state_.epoch - 1;
  s.best_valid_loss = state_.best_valid_loss;
  s.best_step = state_.best_step;
  if (options_.patience > 0 && state_.bad_validations >= options_.patience)
    s.reason = StopReason::Patience;
  else if (options_.max_steps > 0 && state_.step >= options_.max_steps)
    s.reason = StopReason::MaxSteps;
  else
    s.reason = StopReason::MaxEpochs;
  return s;
}

void Trainer::save_checkpoint(const fs::path& dir) const {
  TrainerState s = state_;
  s.rng_seed_state = rng_.seed_state();
  s.rng_counter = rng_.counter();
  write_directory_atomic(dir, [&](const fs::path& tmp) {
    save_safetensors((tmp / kModelFile).string(), model_.state_dict());
    save_safetensors((tmp / kOptimizerFile).string(), adam_.state_dict());
    write_file_atomic((tmp / kTrainerStateFile).string(), trainer_state_to_json(s).dump(2) + "\n");
    if (callbacks_.add_to_checkpoint) callbacks_.add_to_checkpoint(tmp);
  });
}

void Trainer::resume(const fs::path& dir) {
  const std::string state_path = (dir / kTrainerStateFile).string();
  json j;
  try {
    j = json::parse(read_file(state_path));
  } catch (const json::parse_error& e) {
    throw Error(state_path + ": not valid JSON: " + e.what());
  }
  TrainerState s = trainer_state_from_json(j, state_path);
  if (s.trajectory_digest != state_.trajectory_digest || s.trajectory != state_.trajectory) {
    std::ostringstream diff;
    for (const auto& [key, value] : state_.trajectory.items()) {
      const json theirs = s.trajectory.contains(key) ? s.trajectory.at(key) : json(nullptr);
      if (theirs != value) diff << "\n  " << key << ": the checkpoint has " << theirs.dump() << ", this run has " << value.dump();
    }
    for (const auto& [key, value] : s.trajectory.items())
      if (!state_.trajectory.contains(key)) diff << "\n  " << key << ": the checkpoint has " << value.dump() << ", this run has none";
    throw Error(state_path + ": the checkpoint was written by a run with other options or other training data, "
                "so resuming would not continue that run:" + (diff.str().empty() ? std::string(" (digest differs)") : diff.str()));
  }
  const std::string model_path = (dir / kModelFile).string(), optimizer_path = (dir / kOptimizerFile).string();
  TensorMap model_state = load_safetensors(model_path);
  TensorMap optimizer_state = load_safetensors(optimizer_path);
  adam_.load_state_dict(optimizer_state, optimizer_path);  // checks all before changing anything
  model_.load_state_dict(model_state, model_path);

  const int64_t batches = static_cast<int64_t>(train_.epoch(s.epoch, options_.seed).size());
  TFM_CHECK(s.batch_in_epoch < batches, state_path, ": batch_in_epoch ", s.batch_in_epoch,
            " is past the end of epoch ", s.epoch, " (", batches, " batches)");
  s.trajectory = state_.trajectory;
  state_ = s;
  rng_.restore(s.rng_seed_state, s.rng_counter);
  batches_epoch_ = 0;
  log_loss_sum_ = 0;
  log_tokens_ = 0;
  log_start_ = now_seconds();
  message("resumed from " + dir.string() + " at step " + std::to_string(state_.step) + " (epoch " +
          std::to_string(state_.epoch) + ", batch " + std::to_string(state_.batch_in_epoch) + ")");
}

}  // namespace tfm
