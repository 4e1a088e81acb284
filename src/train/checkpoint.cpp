#include "train/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace tfm {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "transformer-trainer-state";
constexpr int kVersion = 1;

template <class T>
T get(const json& j, const char* key, const std::string& source) {
  TFM_CHECK(j.contains(key), source, ": key '", key, "' is missing");
  const json& v = j.at(key);
  if constexpr (std::is_same_v<T, std::string>) {
    TFM_CHECK(v.is_string(), source, ": key '", key, "' must be a string, got ", v.type_name());
  } else if constexpr (std::is_unsigned_v<T>) {
    TFM_CHECK(v.is_number_unsigned(), source, ": key '", key, "' must be an integer >= 0, got ", v.dump());
  } else if constexpr (std::is_integral_v<T>) {
    TFM_CHECK(v.is_number_integer(), source, ": key '", key, "' must be an integer, got ", v.dump());
  } else {
    TFM_CHECK(v.is_number(), source, ": key '", key, "' must be a number, got ", v.dump());
  }
  return v.get<T>();
}

void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  TFM_CHECK(fd >= 0, "cannot open directory ", dir.string(), " to sync it: ", std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  TFM_CHECK(rc == 0 || err == EINVAL, "fsync of directory ", dir.string(), " failed: ", std::strerror(err));
}

fs::path sibling(const fs::path& dir, const char* what) {
  static std::atomic<unsigned long> counter{0};
  return fs::path(dir.string() + "." + what + "." + std::to_string(::getpid()) + "." +
                  std::to_string(counter++));
}

}  // namespace

json trainer_state_to_json(const TrainerState& s) {
  json j = json::object();
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["step"] = s.step;
  j["epoch"] = s.epoch;
  j["batch_in_epoch"] = s.batch_in_epoch;
  j["rng"] = {{"seed_state", s.rng_seed_state}, {"counter", s.rng_counter}};
  j["best_valid_loss"] = s.best_valid_loss ? json(*s.best_valid_loss) : json(nullptr);
  j["best_step"] = s.best_step;
  j["bad_validations"] = s.bad_validations;
  j["trajectory"] = s.trajectory;
  j["trajectory_digest"] = s.trajectory_digest;
  return j;
}

TrainerState trainer_state_from_json(const json& j, const std::string& source) {
  TFM_CHECK(j.is_object(), source, ": expected a JSON object");
  const std::string format = get<std::string>(j, "format", source);
  TFM_CHECK(format == kFormat, source, ": format is '", format, "', expected '", kFormat, "'");
  const int version = get<int>(j, "version", source);
  TFM_CHECK(version == kVersion, source, ": version ", version, " is not understood (this build reads ",
            kVersion, ")");
  TrainerState s;
  s.step = get<int64_t>(j, "step", source);
  s.epoch = get<int64_t>(j, "epoch", source);
  s.batch_in_epoch = get<int64_t>(j, "batch_in_epoch", source);
  TFM_CHECK(s.step >= 0 && s.epoch >= 1 && s.batch_in_epoch >= 0, source,
            ": step, epoch and batch_in_epoch must be >= 0, >= 1 and >= 0");
  TFM_CHECK(j.contains("rng") && j.at("rng").is_object(), source, ": key 'rng' must be an object");
  s.rng_seed_state = get<uint64_t>(j.at("rng"), "seed_state", source + " (rng)");
  s.rng_counter = get<uint64_t>(j.at("rng"), "counter", source + " (rng)");
  TFM_CHECK(j.contains("best_valid_loss"), source, ": key 'best_valid_loss' is missing");
  if (!j.at("best_valid_loss").is_null()) s.best_valid_loss = get<double>(j, "best_valid_loss", source);
  s.best_step = get<int64_t>(j, "best_step", source);
  s.bad_validations = get<int64_t>(j, "bad_validations", source);
  TFM_CHECK(j.contains("trajectory") && j.at("trajectory").is_object(), source,
            ": key 'trajectory' must be an object");
  s.trajectory = j.at("trajectory");
  s.trajectory_digest = get<std::string>(j, "trajectory_digest", source);
  return s;
}

std::string digest_hex(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

void write_directory_atomic(const fs::path& dir, const std::function<void(const fs::path&)>& fill) {
  TFM_CHECK(!dir.empty() && dir.has_filename(), "cannot write a checkpoint to '", dir.string(),
            "': expected a directory path not ending in '/'");
  const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  TFM_CHECK(!ec, "cannot create directory ", parent.string(), ": ", ec.message());
  const fs::path tmp = sibling(dir, "tmp");
  fs::create_directory(tmp, ec);
  TFM_CHECK(!ec, "cannot create the temporary directory ", tmp.string(), ": ", ec.message());
  try {
    fill(tmp);
    sync_directory(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  if (!fs::exists(dir)) {
    TFM_CHECK(::rename(tmp.c_str(), dir.c_str()) == 0, "cannot write ", dir.string(), ": renaming ",
              tmp.string(), " into place failed: ", std::strerror(errno));
  } else {
    TFM_CHECK(fs::is_directory(dir), "cannot write the checkpoint ", dir.string(),
              ": a file of that name exists");
    // Swap the two in one step; the old contents end up in tmp and are removed below.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) != 0) {
      // No RENAME_EXCHANGE on this file system: move the old one aside first. A crash between
      // the two renames leaves the old checkpoint complete under its ".old" name.
      const int err = errno;
      TFM_CHECK(err == EINVAL || err == ENOSYS, "cannot replace ", dir.string(), ": ", std::strerror(err));
      const fs::path old = sibling(dir, "old");
      TFM_CHECK(::rename(dir.c_str(), old.c_str()) == 0, "cannot move ", dir.string(), " aside: ",
                std::strerror(errno));
      TFM_CHECK(::rename(tmp.c_str(), dir.c_str()) == 0, "cannot write ", dir.string(), ": renaming ",
                tmp.string(), " into place failed: ", std::strerror(errno), " (the previous checkpoint is in ",
                old.string(), ")");
      fs::rename(old, tmp, ec);
    }
    fs::remove_all(tmp, ec);
  }
  sync_directory(parent);
}

std::string step_checkpoint_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

std::vector<std::pair<int64_t, fs::path>> list_step_checkpoints(const fs::path& root) {
  std::vector<std::pair<int64_t, fs::path>> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.rfind("step-", 0) != 0 || name.size() == 5) continue;
    const std::string digits = name.substr(5);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        digits.size() > 18)
      continue;  // e.g. a temporary "step-00000010.tmp.123.0"
    out.push_back({std::stoll(digits), e.path()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<fs::path> latest_checkpoint(const fs::path& root) {
  auto all = list_step_checkpoints(root);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

std::vector<fs::path> prune_checkpoints(const fs::path& root, int64_t keep_last) {
  std::vector<fs::path> removed;
  if (keep_last <= 0) return removed;
  auto all = list_step_checkpoints(root);
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < all.size(); ++i) {
    std::error_code ec;
    fs::remove_all(all[i].second, ec);
    TFM_CHECK(!ec, "cannot remove the old checkpoint ", all[i].second.string(), ": ", ec.message());
    removed.push_back(all[i].second);
  }
  return removed;
}

}  // namespace tfm
