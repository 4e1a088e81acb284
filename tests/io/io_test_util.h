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

#include "../common/scratch.h"
#include "core/error.h"

namespace tfm::io_test {

using test::error_of;
using test::ScratchDir;

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
