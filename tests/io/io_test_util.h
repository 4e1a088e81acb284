// Helpers shared by the io tests: a scratch directory per test, and raw file access that does
// not go through the code under test.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"

namespace tfm::io_test {

// The message of the tfm::Error that f throws (fails the test when it throws nothing).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a tfm::Error";
  return "";
}

// A fresh directory named after the running test (and the pid, since ctest runs tests in
// parallel processes), removed with its contents at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("tfm_") + info->test_suite_name() + "_" + info->name() + "_" +
                       std::to_string(::getpid());
    std::replace(name.begin(), name.end(), '/', '_');  // parameterized tests: "Io/Suite.Test/0"
    path_ = std::filesystem::path(testing::TempDir()) / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Names in the directory, to prove that no temporary file was left behind.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::filesystem::path path_;
};

inline void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << "cannot write test file " << path;
}

inline std::string read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A safetensors file as the reference writes it: 8-byte little-endian length, the JSON header
// padded with spaces to a multiple of 8 (unless pad is false), then the data section.
inline std::string safetensors_bytes(std::string header, const std::string& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// Little-endian bytes of float values, as numpy's tobytes() gives them.
inline std::string f32_bytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) {
    char b[4];
    std::memcpy(b, &v, 4);
    out.append(b, 4);
  }
  return out;
}

// Model directories made by the reference (torch_reference.py make) that another part of the
// project commits under tests/fixtures/parity/; empty when there are none (yet).
inline std::vector<std::string> parity_fixture_dirs() {
  std::vector<std::string> found;
#ifdef TFM_SOURCE_DIR
  std::filesystem::path root = std::filesystem::path(TFM_SOURCE_DIR) / "tests/fixtures/parity";
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return found;
  for (const auto& e : std::filesystem::directory_iterator(root, ec))
    if (std::filesystem::exists(e.path() / "model.safetensors") &&
        std::filesystem::exists(e.path() / "config.json"))
      found.push_back(e.path().string());
  std::sort(found.begin(), found.end());  // the same order every run
#endif
  return found;
}

}  // namespace tfm::io_test
