// Whole-file reads and atomic writes. Writes follow DESIGN.md: a temp file in the same directory,
// flush, fsync, rename; so a reader sees the old file or the new one, never half of one.
// (io/atomic_file.h does the same for the io tier; DESIGN.md puts text/data above io, so this
// tier cannot include it and keeps its own, under other names to avoid a clash at link time.)
#pragma once
#include <string>
#include <string_view>

namespace tfm {

// The bytes of the file at path. Throws tfm::Error naming the file if it cannot be opened or read.
std::string read_file_contents(const std::string& path);

// Replaces the file at path with contents atomically. Throws tfm::Error naming the file (and the
// system's reason) on failure; the temp file is removed then.
void replace_file_atomic(const std::string& path, std::string_view contents);

}  // namespace tfm
