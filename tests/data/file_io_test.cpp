#include "data/file_io.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "error_message.h"
#include "temp_dir.h"

namespace tfm {
namespace {

using testing::error_message;
using testing::TempDir;

TEST(DataFileIo, AtomicWriteReplacesAndLeavesNoTempFile) {
  TempDir dir;
  const std::string path = dir.file("out.bin");
  replace_file_atomic(path, std::string("first\0x", 7));
  EXPECT_EQ(read_file_contents(path), std::string("first\0x", 7));
  replace_file_atomic(path, "second");
  EXPECT_EQ(read_file_contents(path), "second");
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(DataFileIo, ErrorsNameTheFile) {
  TempDir dir;
  const std::string missing_dir = dir.file("no/such/dir/out.txt");
  std::string msg = error_message([&] { replace_file_atomic(missing_dir, "x"); });
  EXPECT_NE(msg.find(missing_dir), std::string::npos) << msg;
  msg = error_message([&] { read_file_contents(dir.path().string()); });
  EXPECT_NE(msg.find("is a directory"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tfm
