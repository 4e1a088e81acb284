#include "core/file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>

#include "core/error.h"
#include "../io/io_test_util.h"

namespace tfm {
namespace {

using io_test::error_of;
using io_test::read_raw;
using io_test::ScratchDir;
using io_test::write_raw;
using testing::HasSubstr;

TEST(CoreFile, WritesAndReadsBackBytesIncludingNul) {
  ScratchDir dir;
  std::string path = dir.file("a.bin");
  std::string bytes("one\0two\nthree", 13);
  write_file_atomic(path, bytes);
  EXPECT_EQ(read_file(path), bytes);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.bin"}) << "a temporary file was left";
}

TEST(CoreFile, WritesEmptyFileAndPieces) {
  ScratchDir dir;
  write_file_atomic(dir.file("empty"), std::string_view{});
  EXPECT_EQ(read_file(dir.file("empty")), "");
  write_file_atomic(dir.file("parts"), std::vector<std::string_view>{"ab", "", "cde"});
  EXPECT_EQ(read_file(dir.file("parts")), "abcde");
}

TEST(CoreFile, ReplacesExistingFile) {
  ScratchDir dir;
  std::string path = dir.file("a.txt");
  write_raw(path, "old contents, longer than the new ones");
  write_file_atomic(path, "new");
  EXPECT_EQ(read_raw(path), "new");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.txt"});
}

TEST(CoreFile, MissingDirectoryIsAnErrorNamingThePath) {
  ScratchDir dir;
  std::string path = dir.file("no/such/dir/a.txt");
  std::string msg = error_of([&] { write_file_atomic(path, "x"); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("No such file or directory"));
  EXPECT_TRUE(dir.entries().empty());
}

// Restores the file-size limit and SIGXFSZ disposition however the test ends.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead
    rlimit lim = saved_;
    lim.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_FSIZE, &lim) == 0;
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = nullptr;
  bool ok_ = false;
};

// A disk that fills up in the middle of the write (simulated with RLIMIT_FSIZE, which works
// even as root): the old file must survive intact and the temporary must be gone.
TEST(CoreFile, FailedWriteLeavesExistingFileUntouched) {
  ScratchDir dir;
  std::string path = dir.file("model.safetensors");
  write_raw(path, "the old model");
  std::string msg;
  {
    FileSizeLimit limit(64);
    ASSERT_TRUE(limit.ok());
    msg = error_of([&] { write_file_atomic(path, std::string(4096, 'x')); });
  }
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("File too large"));
  EXPECT_EQ(read_raw(path), "the old model");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"})
      << "the temporary file was not removed";
}

TEST(CoreFile, RenameOntoDirectoryFailsAndRemovesTemporary) {
  ScratchDir dir;
  std::string path = dir.file("taken");
  std::filesystem::create_directories(path + "/inside");
  std::string msg = error_of([&] { write_file_atomic(path, "x"); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("renaming"));
  EXPECT_TRUE(std::filesystem::is_directory(path + "/inside"));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken"});
}

TEST(CoreFile, ReadMissingFileNamesThePath) {
  ScratchDir dir;
  std::string path = dir.file("missing.json");
  std::string msg = error_of([&] { read_file(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("No such file or directory"));
}

TEST(CoreFile, ReadDirectoryIsAnError) {
  ScratchDir dir;
  std::string msg = error_of([&] { read_file(dir.path().string()); });
  EXPECT_THAT(msg, HasSubstr(dir.path().string()));
  EXPECT_THAT(msg, HasSubstr("directory"));
}

TEST(CoreFile, BareFileNameWritesInCurrentDirectory) {
  ScratchDir dir;
  auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  EXPECT_NO_THROW(write_file_atomic("bare.txt", "hi"));
  std::filesystem::current_path(cwd);
  EXPECT_EQ(read_raw(dir.file("bare.txt")), "hi");
}

}  // namespace
}  // namespace tfm
