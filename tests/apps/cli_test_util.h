// Helpers for the Cli* tests: they run the real `transformer` binary as a user would, capturing
// stdout, stderr and the exit code, in a scratch directory of their own.
//
// The binary is $TFM_CLI (ctest sets it), else TFM_BINARY_DIR/transformer (running
// transformer_tests by hand from any directory).
#pragma once
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace tfm::cli_test {

namespace fs = std::filesystem;

inline std::string cli_path() {
  if (const char* p = std::getenv("TFM_CLI"); p && *p) return p;
#ifdef TFM_BINARY_DIR
  return std::string(TFM_BINARY_DIR) + "/transformer";
#else
  return "transformer";
#endif
}

inline std::string source_dir() {
#ifdef TFM_SOURCE_DIR
  return TFM_SOURCE_DIR;
#else
  return ".";
#endif
}

// tests/fixtures/parity/<name>, made by the reference (tests/fixtures/parity/make.sh).
inline std::string parity_dir(const std::string& name) {
  return source_dir() + "/tests/fixtures/parity/" + name;
}
inline std::vector<std::string> parity_names() {
  return {"enc1_dec3_heads6", "odd_sizes", "post_norm", "post_norm_no_final",
          "pre_norm", "pre_norm_no_final_gelu", "tied"};
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("test helper: cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("test helper: cannot write " + path);
}

// A fresh directory (mkdtemp), removed with its contents when the test ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "tfm-cli-XXXXXX").string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string path() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = file(name);
    fs::create_directories(fs::path(p).parent_path());
    write_file(p, bytes);
    return p;
  }
  // A copy of a model directory (or any directory) under this one.
  std::string copy_dir(const std::string& from, const std::string& name) const {
    const std::string to = file(name);
    fs::copy(from, to, fs::copy_options::recursive);
    return to;
  }

 private:
  fs::path path_;
};

struct CliResult {
  int code = -1;  // the exit status; -N when killed by signal N
  std::string out, err;
};

inline std::ostream& operator<<(std::ostream& os, const CliResult& r) {
  return os << "exit " << r.code << "\n--- stdout ---\n" << r.out.substr(0, 2000)
            << "\n--- stderr ---\n" << r.err.substr(0, 2000);
}

// Runs `transformer args...` with stdin from the file `stdin_path` (/dev/null when empty) and
// stdout/stderr into files (no pipes, so no deadlock however much either side writes).
inline CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_path = "") {
  ScratchDir io;
  const std::string out_path = io.file("stdout"), err_path = io.file("stderr");
  const std::string bin = cli_path();
  std::vector<std::string> argv_s{bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string in = stdin_path.empty() ? "/dev/null" : stdin_path;
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    throw std::runtime_error("cannot run " + bin + ": " + std::strerror(rc) +
                             " (build the `transformer` target, or set TFM_CLI)");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

// run_cli with `--threads 1` first: the tiny fixture models gain nothing from threads, and under
// `ctest -j2` on two cores every extra thread oversubscribes the machine (OpenMP barriers then
// cost far more than the work).
inline CliResult run_cli1(std::vector<std::string> args, const std::string& stdin_path = "") {
  args.insert(args.begin(), {"--threads", "1"});
  return run_cli(args, stdin_path);
}

// Every regular file under dir (relative path -> bytes): equal snapshots before and after a run
// prove that the run changed, added and removed nothing there.
using Snapshot = std::map<std::string, std::string>;
inline Snapshot snapshot(const std::string& dir) {
  Snapshot s;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (!e.is_directory())
      s[fs::relative(e.path(), dir).string()] =
          e.is_regular_file() ? read_file(e.path().string()) : "<not a regular file>";
  return s;
}

// Names what differs between two snapshots, "" when none.
inline std::string snapshot_diff(const Snapshot& before, const Snapshot& after) {
  std::string d;
  for (const auto& [name, bytes] : before) {
    auto it = after.find(name);
    if (it == after.end()) d += "removed " + name + "; ";
    else if (it->second != bytes) d += "changed " + name + "; ";
  }
  for (const auto& [name, bytes] : after)
    if (!before.count(name)) d += "added " + name + "; ";
  return d;
}

// Numbers of a whitespace-separated text file, one vector per line.
inline std::vector<std::vector<double>> parse_rows(const std::string& text) {
  std::vector<std::vector<double>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream s(line);
    std::vector<double> row;
    std::string tok;
    while (s >> tok) row.push_back(std::stod(tok));
    rows.push_back(row);
  }
  return rows;
}

inline size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace tfm::cli_test
