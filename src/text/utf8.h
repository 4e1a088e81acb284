// UTF-8 checking and splitting. Every text that enters the library is checked once, where it is
// read, so that an error can name the file and line instead of surfacing later as a bad token.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

// Byte offset of the first invalid UTF-8 sequence in s (overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences are invalid), or std::string_view::npos if s is valid.
size_t find_invalid_utf8(std::string_view s);

// Throws tfm::Error "<where>: invalid UTF-8 at byte N (0xXX)" (N 1-based) if s is not valid UTF-8.
// where names the source, e.g. "train.src:12"; empty where gives "invalid UTF-8 at ...".
void check_utf8(std::string_view s, std::string_view where = {});

// The code points of s as views into s (one view per code point). s must be valid UTF-8.
std::vector<std::string_view> split_code_points(std::string_view s);

// s in single quotes, cut to at most max_bytes (at a code point boundary) with "..." appended,
// so that an error message quoting user input stays one readable line.
std::string quote_clipped(std::string_view s, size_t max_bytes = 40);

}  // namespace tfm
