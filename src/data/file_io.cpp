#include "data/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace tfm {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Writes all of data to fd, retrying short writes and EINTR.
bool write_all(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string read_file_contents(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(detail::concat("cannot read '", path, "': it is a directory, expected a file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(detail::concat("cannot open '", path, "': ", errno_text(errno)));
  std::ostringstream s;
  s << in.rdbuf();
  // An empty file leaves rdbuf extraction with failbit set, which is not an error.
  if (in.bad()) throw Error(detail::concat("cannot read '", path, "': ", errno_text(errno)));
  return std::move(s).str();
}

void replace_file_atomic(const std::string& path, std::string_view contents) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  // mkstemp gives a unique name, so concurrent writers of the same target do not collide.
  std::string tmp_name = ".";
  tmp_name += target.filename().string();
  tmp_name += ".XXXXXX.tmp";
  std::string tmp = (dir / tmp_name).string();
  const int fd = ::mkstemps(tmp.data(), 4);
  if (fd < 0)
    throw Error(detail::concat("cannot write '", path, "': cannot create a temp file in '",
                               dir.string(), "': ", errno_text(errno)));
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw Error(detail::concat("cannot write '", path, "': ", what, ": ", errno_text(err)));
  };
  // mkstemp creates 0600; the file is an ordinary output, readable like one. (Not 0666 & ~umask:
  // reading the umask means setting it, which races with other threads creating files.)
  if (::fchmod(fd, 0644) != 0) fail("fchmod");
  if (!write_all(fd, contents)) fail("write");
  if (::fsync(fd) != 0) fail("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(detail::concat("cannot write '", path, "': close: ", errno_text(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(detail::concat("cannot write '", path, "': rename: ", errno_text(err)));
  }
  // fsync the directory so the rename itself survives a crash.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace tfm
