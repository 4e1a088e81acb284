#include <gtest/gtest.h>

#include <filesystem>

#include "autograd/ops.h"
#include "core/file.h"
#include "io/safetensors.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace tfm {
namespace {

namespace fs = std::filesystem;
using train_test::bitwise_equal;
using train_test::error_of;

// A tiny model with dropout (so the resumed RNG matters), its data and options that cross an
// epoch boundary, shuffle, bucket and clip.
struct TinyRun {
  Config config = train_test::tiny_config(0.1);
  std::vector<Example> train = train_test::random_examples(40, config, 21);
  std::vector<Example> valid = train_test::random_examples(6, config, 22);
  TrainOptions options() const {
    TrainOptions o;
    o.max_steps = 12;
    o.batching.max_tokens = 40;
    o.batching.chunk_size = 16;
    o.schedule = Schedule::paper(0, 4);
    o.clip_norm = 1.0;
    o.seed = 7;
    o.log_every = 0;
    return o;
  }
  std::unique_ptr<Transformer> model(uint64_t init_seed = 3) const {
    auto m = std::make_unique<Transformer>(config);
    Rng rng(init_seed);
    m->init_parameters(rng);
    return m;
  }
};

void expect_same_parameters(const Transformer& a, const Transformer& b) {
  const auto sa = a.state_dict(), sb = b.state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) EXPECT_TRUE(bitwise_equal(t, sb.at(name))) << name;
}

TEST(TrainTrainer, ResumeContinuesExactlyAsTheUninterruptedRun) {
  TinyRun s;
  auto full_model = s.model();
  Trainer full(*full_model, s.train, s.valid, s.options());
  std::vector<double> full_losses;
  std::vector<int64_t> epochs;
  for (int i = 0; i < 12; ++i) {
    const StepReport r = full.step();
    full_losses.push_back(r.loss);
    epochs.push_back(r.epoch);
  }
  ASSERT_GT(epochs.back(), 1) << "the test should cross an epoch boundary";

  train_test::ScratchDir scratch;
  const fs::path ckpt = scratch.path() / "ckpt";
  {
    auto m = s.model();
    Trainer first(*m, s.train, s.valid, s.options());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(first.step().loss, full_losses[i]) << "step " << i + 1;
    first.save_checkpoint(ckpt);
  }
  EXPECT_TRUE(fs::exists(ckpt / "model.safetensors"));
  EXPECT_TRUE(fs::exists(ckpt / "optimizer.safetensors"));
  EXPECT_TRUE(fs::exists(ckpt / "trainer_state.json"));

  auto m = s.model(/*init_seed=*/99);  // other weights: all must come from the checkpoint
  Trainer resumed(*m, s.train, s.valid, s.options());
  resumed.resume(ckpt);
  EXPECT_EQ(resumed.state().step, 5);
  for (int i = 5; i < 12; ++i) {
    const StepReport r = resumed.step();
    EXPECT_EQ(r.step, i + 1);
    EXPECT_EQ(r.epoch, epochs[i]);
    EXPECT_EQ(r.loss, full_losses[i]) << "step " << i + 1;
  }
  expect_same_parameters(*m, *full_model);
  const TensorMap a = resumed.optimizer().state_dict(), b = full.optimizer().state_dict();
  for (const auto& [name, t] : a) EXPECT_TRUE(bitwise_equal(t, b.at(name))) << name;
}

TEST(TrainTrainer, RunWritesCheckpointsKeepsTheLastAndResumesFromTheLatest) {
  TinyRun s;
  train_test::ScratchDir scratch;
  auto full_model = s.model();
  TrainOptions o = s.options();
  o.validate_every = 4;
  Trainer full(*full_model, s.train, s.valid, o);
  full.run();

  o.max_steps = 7;
  o.save_every = 2;
  o.keep_last = 2;
  o.checkpoint_dir = (scratch.path() / "run").string();
  std::vector<std::string> messages;
  int extra_files = 0;
  TrainCallbacks cb;
  cb.on_message = [&](const std::string& m) { messages.push_back(m); };
  cb.add_to_checkpoint = [&](const fs::path& dir) {
    write_file_atomic((dir / "config.json").string(), "{}\n");
    ++extra_files;
  };
  {
    auto m = s.model();
    Trainer first(*m, s.train, s.valid, o, cb);
    const TrainSummary summary = first.run();
    EXPECT_EQ(summary.steps, 7);
    EXPECT_EQ(summary.reason, StopReason::MaxSteps);
  }
  // Steps 2, 4, 6 and the end (7); the two newest are kept; best from the validations.
  const auto kept = list_step_checkpoints(o.checkpoint_dir);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].first, 6);
  EXPECT_EQ(kept[1].first, 7);
  EXPECT_EQ(kept[1].second.filename(), "step-00000007");
  EXPECT_TRUE(fs::exists(fs::path(o.checkpoint_dir) / "best" / "trainer_state.json"));
  EXPECT_TRUE(fs::exists(kept[1].second / "config.json"));
  EXPECT_GE(extra_files, 5);
  for (const auto& e : fs::directory_iterator(o.checkpoint_dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  EXPECT_FALSE(messages.empty());

  o.max_steps = 12;
  auto m = s.model(5);
  Trainer second(*m, s.train, s.valid, o);
  second.resume(*latest_checkpoint(o.checkpoint_dir));
  second.run();
  expect_same_parameters(*m, *full_model);
}

TEST(TrainTrainer, ResumeRefusesOtherOptionsOrData) {
  TinyRun s;
  train_test::ScratchDir scratch;
  auto m = s.model();
  Trainer t(*m, s.train, {}, s.options());
  t.step();
  t.save_checkpoint(scratch.path() / "c");

  TrainOptions other = s.options();
  other.seed = 8;
  other.label_smoothing = 0.2;
  Trainer t2(*m, s.train, {}, other);
  std::string msg = error_of([&] { t2.resume(scratch.path() / "c"); });
  EXPECT_NE(msg.find("trainer_state.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("seed: the checkpoint has 7, this run has 8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label_smoothing"), std::string::npos) << msg;

  auto data = s.train;
  data[3].tgt.push_back(5);
  Trainer t3(*m, data, {}, s.options());
  msg = error_of([&] { t3.resume(scratch.path() / "c"); });
  EXPECT_NE(msg.find("train_data"), std::string::npos) << msg;

  Config bigger = s.config;
  bigger.d_ff = 32;
  Transformer other_model(bigger);
  Trainer t4(other_model, s.train, {}, s.options());
  msg = error_of([&] { t4.resume(scratch.path() / "c"); });
  EXPECT_NE(msg.find("optimizer.safetensors"), std::string::npos) << msg;
}

TEST(TrainTrainer, CheckpointWriteIsAtomic) {
  train_test::ScratchDir scratch;
  const fs::path dir = scratch.path() / "ck";
  write_directory_atomic(dir, [](const fs::path& tmp) { write_file_atomic((tmp / "a").string(), "old"); });
  EXPECT_EQ(read_file((dir / "a").string()), "old");
  // A failing write leaves the existing checkpoint as it was and no temporary behind.
  EXPECT_THROW(write_directory_atomic(dir,
                                      [](const fs::path& tmp) {
                                        write_file_atomic((tmp / "a").string(), "half");
                                        throw Error("disk full");
                                      }),
               Error);
  EXPECT_EQ(read_file((dir / "a").string()), "old");
  EXPECT_EQ(scratch.entries(), std::vector<std::string>{"ck"});
  // A replacement swaps the whole directory.
  write_directory_atomic(dir, [](const fs::path& tmp) { write_file_atomic((tmp / "b").string(), "new"); });
  EXPECT_FALSE(fs::exists(dir / "a"));
  EXPECT_EQ(read_file((dir / "b").string()), "new");
  EXPECT_EQ(scratch.entries(), std::vector<std::string>{"ck"});
}

TEST(TrainTrainer, ValidationIsTheMeanPerTokenWithoutDropout) {
  TinyRun s;
  auto m = s.model();
  TrainOptions o = s.options();
  o.batching.max_tokens = 1000;  // all validation examples in one batch
  Trainer t(*m, s.train, s.valid, o);
  const ValidationResult r = t.validate();

  TrainBatch b = make_train_batch(s.valid, [&] {
    BatchIndices all(s.valid.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
    return all;
  }(), s.config);
  NoGradGuard no_grad;
  ForwardContext ctx;
  Var logits = m->forward(b.src, b.tgt_in, ctx);
  EXPECT_NEAR(r.loss, ops::cross_entropy(logits, b.targets, 0, 0.1).value().item(), 1e-5);
  EXPECT_NEAR(r.nll, ops::cross_entropy(logits, b.targets, 0, 0.0).value().item(), 1e-5);
  EXPECT_EQ(r.target_tokens, b.target_tokens);
  EXPECT_GE(r.accuracy, 0.0);
  EXPECT_LE(r.accuracy, 1.0);
  EXPECT_EQ(t.validate().loss, r.loss);  // no dropout: the same every time
}

TEST(TrainTrainer, LogsAndStopsWithPatience) {
  TinyRun s;
  auto m = s.model();
  TrainOptions o = s.options();
  o.max_steps = 100;
  o.schedule = Schedule::constant(0.0);  // nothing moves: the validation loss never improves
  o.validate_every = 1;
  o.patience = 2;
  o.log_every = 2;
  std::vector<TrainLog> logs;
  std::vector<ValidationReport> validations;
  TrainCallbacks cb;
  cb.on_log = [&](const TrainLog& l) { logs.push_back(l); };
  cb.on_validation = [&](const ValidationReport& v) { validations.push_back(v); };
  Trainer t(*m, s.train, s.valid, o, cb);
  const TrainSummary summary = t.run();
  EXPECT_EQ(summary.reason, StopReason::Patience);
  EXPECT_EQ(summary.steps, 3);
  EXPECT_EQ(summary.best_step, 1);
  ASSERT_EQ(validations.size(), 3u);
  EXPECT_TRUE(validations[0].best);
  EXPECT_FALSE(validations[2].best);
  EXPECT_EQ(validations[2].bad_validations, 2);
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].step, 2);
  EXPECT_GT(logs[0].loss, 0.0);
  EXPECT_GT(logs[0].target_tokens, 0);
  EXPECT_GT(logs[0].grad_norm, 0.0);
}

TEST(TrainTrainer, EpochsEndTrainingAndBadOptionsAreRefused) {
  TinyRun s;
  auto m = s.model();
  TrainOptions o = s.options();
  o.max_steps = 0;
  o.max_epochs = 2;
  Trainer t(*m, s.train, {}, o);
  const int64_t per_epoch = static_cast<int64_t>(t.train_batcher().epoch(1, o.seed).size() +
                                                 t.train_batcher().epoch(2, o.seed).size());
  const TrainSummary summary = t.run();
  EXPECT_EQ(summary.reason, StopReason::MaxEpochs);
  EXPECT_EQ(summary.epochs_completed, 2);
  EXPECT_EQ(summary.steps, per_epoch);

  TrainOptions bad = s.options();
  bad.max_steps = 0;
  EXPECT_NE(error_of([&] { Trainer(*m, s.train, {}, bad); }).find("max_steps or max_epochs"), std::string::npos);
  bad = s.options();
  bad.label_smoothing = 1.0;
  EXPECT_NE(error_of([&] { Trainer(*m, s.train, {}, bad); }).find("label_smoothing"), std::string::npos);
}

}  // namespace
}  // namespace tfm
