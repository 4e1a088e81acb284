// The training loop (section 5): batches by token count, teacher-forced forward with dropout
// (section 5.4, "Residual Dropout"), label-smoothed cross-entropy (section 5.4, "Label
// Smoothing", eps_ls = 0.1), backward, optional gradient clipping, an Adam update with the
// learning rate of the schedule (section 5.3); validation, logging and checkpoints at intervals.
//
// Deterministic: for a given seed, data and thread count, the batches, the dropout masks and so
// the losses are the same on every run, and a run resumed from a checkpoint continues exactly as
// the uninterrupted run would have (same batches, same losses, same parameters).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/transformer.h"
#include "train/batching.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace tfm {

struct TrainOptions {
  // When to stop: after max_steps updates, or after max_epochs passes over the data, whichever
  // comes first (0: no limit; at least one must be set), or by patience.
  int64_t max_steps = 0;
  int64_t max_epochs = 0;
  BatchingOptions batching;
  double label_smoothing = 0.1;  // section 5.4
  double clip_norm = 0;          // the global gradient norm is clipped to this (0: no clipping)
  Schedule schedule;             // default: the paper's, with the model's d_model
  AdamOptions adam;              // default: section 5.3's betas and eps
  uint64_t seed = 1;             // batch order and dropout
  // Validation every this many steps (0: at the end of each epoch), and at the end of training.
  int64_t validate_every = 0;
  // A step checkpoint every this many steps (0: at the end of each epoch), and at the end; only
  // with a checkpoint_dir.
  int64_t save_every = 0;
  int64_t log_every = 100;       // steps between on_log calls (0: never)
  int64_t keep_last = 5;         // step checkpoints kept (0: all)
  int64_t patience = 0;          // stop after this many validations without a better loss (0: never)
  // Where checkpoints go: <checkpoint_dir>/step-<N> and <checkpoint_dir>/best ("" = none).
  std::string checkpoint_dir;
  // Throws tfm::Error naming the option when a value is out of range.
  void validate() const;
};

// One update.
struct StepReport {
  int64_t step = 0;     // the update just made, from 1
  int64_t epoch = 0;    // the epoch it belongs to, from 1
  double lr = 0;
  double loss = 0;      // label-smoothed, mean per target token of the batch
  double grad_norm = 0; // before clipping
  int64_t rows = 0, target_tokens = 0;
  bool epoch_end = false;  // this batch was the last of its epoch
};

// What on_log receives every log_every steps: averages over the steps since the previous call.
struct TrainLog {
  int64_t step = 0, epoch = 0;
  double lr = 0;                  // of the last step
  double loss = 0;                // mean per target token over the interval
  double grad_norm = 0;           // of the last step, before clipping
  double tokens_per_second = 0;   // target tokens
  int64_t target_tokens = 0;      // over the interval
  double seconds = 0;             // wall time of the interval
};

struct ValidationResult {
  double loss = 0;      // label-smoothed cross-entropy, mean per target token (as trained)
  double nll = 0;       // plain cross-entropy (exp(nll) is the perplexity)
  double accuracy = 0;  // share of target tokens whose argmax is right
  int64_t target_tokens = 0;
};

struct ValidationReport {
  int64_t step = 0, epoch = 0;
  ValidationResult result;
  bool best = false;  // the best so far
  int64_t bad_validations = 0;
};

struct TrainCallbacks {
  std::function<void(const TrainLog&)> on_log;
  std::function<void(const ValidationReport&)> on_validation;
  // Notes in words: examples skipped, checkpoints written, early stopping.
  std::function<void(const std::string&)> on_message;
  // Writes further files (config.json, tokenizer files) into a checkpoint directory before it
  // is put in place, so they become part of the same atomic write.
  std::function<void(const std::filesystem::path&)> add_to_checkpoint;
};

enum class StopReason { MaxSteps, MaxEpochs, Patience };

struct TrainSummary {
  int64_t steps = 0;
  int64_t epochs_completed = 0;
  StopReason reason = StopReason::MaxSteps;
  std::optional<double> best_valid_loss;
  int64_t best_step = 0;
};

class Trainer {
 public:
  // The model must outlive the trainer. Examples as in train/batching.h; valid may be empty.
  Trainer(Seq2SeqModel& model, std::vector<Example> train, std::vector<Example> valid,
          TrainOptions options, TrainCallbacks callbacks = {});

  // One update on the next batch.
  StepReport step();
  // Updates, validations and checkpoints until a stopping rule holds.
  TrainSummary run();
  // Loss and accuracy on the validation examples: no dropout, no gradients.
  ValidationResult validate() const;
  // True when a stopping rule holds.
  bool done() const;

  // Writes a checkpoint directory (see train/checkpoint.h) atomically.
  void save_checkpoint(const std::filesystem::path& dir) const;
  // Loads a checkpoint written by a run with the same options and training data, and continues
  // from it. Refuses, naming what differs, a checkpoint of another model, other options or data.
  void resume(const std::filesystem::path& dir);

  const TrainerState& state() const { return state_; }
  const TrainOptions& options() const { return options_; }
  const Batcher& train_batcher() const { return train_; }
  Adam& optimizer() { return adam_; }

 private:
  const std::vector<BatchIndices>& epoch_batches();
  void after_validation(const ValidationResult& r);
  void save_step_checkpoint();
  void message(const std::string& text) const;
  nlohmann::json trajectory() const;

  Seq2SeqModel& model_;
  TrainOptions options_;
  TrainCallbacks callbacks_;
  Batcher train_;
  std::optional<Batcher> valid_;
  Adam adam_;
  std::vector<Var*> params_;
  Rng rng_;
  TrainerState state_;
  int64_t batches_epoch_ = 0;  // the epoch epoch_batches_ belongs to (0: none)
  std::vector<BatchIndices> epoch_batches_;
  // Since the last on_log call.
  double log_loss_sum_ = 0;
  int64_t log_tokens_ = 0;
  double log_start_ = 0;
};

}  // namespace tfm
