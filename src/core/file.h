// Whole-file reads and crash-safe writes.
//
// A write goes to a temporary file in the same directory (so the rename cannot cross file
// systems), is flushed and fsync'ed, then renamed over the destination, and the directory is
// fsync'ed so the rename itself survives a crash. A reader therefore sees either the old file
// or the complete new one, never a prefix. On failure the temporary is removed, an existing file
// at the destination is left untouched, and tfm::Error says which path and which step failed.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

void write_file_atomic(const std::string& path, std::string_view bytes);

// The same, for a file made of several pieces written one after the other (a header and the
// tensors' own buffers), so that a large file need not be assembled in memory first.
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& parts);

// The whole file; tfm::Error naming the path when it is missing, a directory or unreadable.
std::string read_file(const std::string& path);

}  // namespace tfm
