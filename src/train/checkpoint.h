// Training checkpoints. A checkpoint is a directory:
//   model.safetensors      the model's state_dict, under the reference's names (F32)
//   optimizer.safetensors  the Adam state (train/optimizer.h)
//   trainer_state.json     where training stands (TrainerState below)
// plus whatever the caller adds (config.json, tokenizer files: io/model_dir's business).
// A checkpoint directory is written whole into a temporary directory beside it and then put in
// place with one rename, so a crash never leaves a half-written or damaged checkpoint.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tfm {

inline constexpr const char* kModelFile = "model.safetensors";
inline constexpr const char* kOptimizerFile = "optimizer.safetensors";
inline constexpr const char* kTrainerStateFile = "trainer_state.json";

// Everything besides the tensors that a resumed run needs to continue exactly.
struct TrainerState {
  int64_t step = 0;             // updates done
  int64_t epoch = 1;            // the epoch in progress, from 1
  int64_t batch_in_epoch = 0;   // batches of that epoch done
  uint64_t rng_seed_state = 0;  // the dropout stream (Rng::seed_state, Rng::counter)
  uint64_t rng_counter = 0;
  std::optional<double> best_valid_loss;  // none before the first validation
  int64_t best_step = 0;
  int64_t bad_validations = 0;  // validations since the best one (for patience)
  // The options and the data that decide the batches and the losses, and a digest of them: a
  // resume with other values would not continue the same run, so it is refused.
  nlohmann::json trajectory = nlohmann::json::object();
  std::string trajectory_digest;
};

nlohmann::json trainer_state_to_json(const TrainerState& s);
// Strict: a missing key or a value of the wrong type is a tfm::Error naming `source` and the key.
TrainerState trainer_state_from_json(const nlohmann::json& j, const std::string& source);

// 64-bit FNV-1a of bytes, as 16 hex digits.
std::string digest_hex(std::string_view bytes);

// Makes `dir`: `fill` writes the files into a fresh temporary directory beside it, which then
// replaces `dir` in one step (an existing `dir` is exchanged atomically and then removed). If
// fill throws, the temporary is removed and an existing `dir` is untouched.
void write_directory_atomic(const std::filesystem::path& dir,
                            const std::function<void(const std::filesystem::path&)>& fill);

// The checkpoints "step-<N>" under root, by increasing N ([] when root does not exist).
std::vector<std::pair<int64_t, std::filesystem::path>> list_step_checkpoints(const std::filesystem::path& root);
// "step-00001234": names sort in step order.
std::string step_checkpoint_name(int64_t step);
// The newest step checkpoint under root, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& root);
// Removes all but the newest keep_last step checkpoints under root (keep_last 0: keep all).
// Returns the removed paths.
std::vector<std::filesystem::path> prune_checkpoints(const std::filesystem::path& root, int64_t keep_last);

}  // namespace tfm
