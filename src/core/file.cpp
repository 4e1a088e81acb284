#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace tfm {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// The directory that holds `path` ("." for a bare file name): where the temporary goes, and
// what must be fsync'ed after the rename.
std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A name no other writer uses: pid for other processes, a counter for other threads; O_EXCL
// below still guards against a stale file left by a crashed process with a recycled pid.
std::string temp_name(const std::string& path) {
  static std::atomic<unsigned long> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// Owns the temporary until it is renamed: closes and unlinks it on every early exit.
class TempFile {
 public:
  explicit TempFile(const std::string& path) : path_(path) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      temp_ = temp_name(path);
      // 0666 filtered by the umask: the same permissions a plain open() would give the file
      // (mkstemp would make it 0600, and the rename would carry that over).
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0 || errno != EEXIST) break;
    }
    TFM_CHECK(fd_ >= 0, "cannot write ", path_, ": cannot create the temporary file ", temp_,
              " in the same directory: ", errno_text(errno));
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(temp_.c_str());
  }

  void write(std::string_view bytes) {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0 && errno == EINTR) continue;
      TFM_CHECK(n > 0, "cannot write ", path_, ": writing the temporary file ", temp_, " failed: ",
                n < 0 ? errno_text(errno) : std::string("no progress"));
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

  // fsync before rename: otherwise a crash can leave the new name pointing at empty blocks.
  void sync_and_close() {
    TFM_CHECK(::fsync(fd_) == 0, "cannot write ", path_, ": fsync of ", temp_, " failed: ",
              errno_text(errno));
    int fd = fd_;
    fd_ = -1;
    // close() can report a deferred write error (NFS, quotas), so it is checked too.
    TFM_CHECK(::close(fd) == 0, "cannot write ", path_, ": closing ", temp_, " failed: ",
              errno_text(errno));
  }

  void rename_into_place() {
    TFM_CHECK(::rename(temp_.c_str(), path_.c_str()) == 0, "cannot write ", path_,
              ": renaming the temporary file ", temp_, " into place failed: ", errno_text(errno));
    renamed_ = true;
  }

 private:
  std::string path_;
  std::string temp_;
  int fd_ = -1;
  bool renamed_ = false;
};

// After the rename the new contents are in place; syncing the directory makes the rename
// durable. Some file systems cannot fsync a directory (EINVAL): there is nothing more to do.
void sync_directory(const std::string& path) {
  std::string dir = parent_dir(path);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  TFM_CHECK(fd >= 0, "wrote ", path, " but cannot open its directory ", dir,
            " to make the rename durable: ", errno_text(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  TFM_CHECK(rc == 0 || err == EINVAL, "wrote ", path, " but fsync of its directory ", dir,
            " failed: ", errno_text(err));
}

}  // namespace

void write_file_atomic(const std::string& path, const std::vector<std::string_view>& parts) {
  TFM_CHECK(!path.empty(), "cannot write a file with an empty path");
  {
    TempFile tmp(path);
    for (std::string_view part : parts) tmp.write(part);
    tmp.sync_and_close();
    tmp.rename_into_place();
  }
  sync_directory(path);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, std::vector<std::string_view>{bytes});
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  TFM_CHECK(fd >= 0, "cannot read ", path, ": ", errno_text(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  TFM_CHECK(::fstat(fd, &st) == 0, "cannot read ", path, ": ", errno_text(errno));
  TFM_CHECK(!S_ISDIR(st.st_mode), "cannot read ", path, ": it is a directory, expected a file");

  std::string out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<size_t>(st.st_size));
  // Read to end of file rather than trusting st_size: pipes and /proc report 0.
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    TFM_CHECK(n >= 0, "cannot read ", path, ": ", errno_text(errno));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace tfm
