#include "text/utf8.h"

#include <cstdio>

#include "core/error.h"

namespace tfm {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (RFC 3629 table 3-7).
size_t sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates U+D800..U+DFFF
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // continuation byte, overlong C0/C1, or F5..FF
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII fast path: most of our text is ASCII.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

void check_utf8(std::string_view s, std::string_view where) {
  const size_t bad = find_invalid_utf8(s);
  if (bad == std::string_view::npos) return;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(s[bad]));
  throw Error(detail::concat(where, where.empty() ? "" : ": ", "invalid UTF-8 at byte ", bad + 1,
                             " (", hex, "); expected UTF-8 text"));
}

std::vector<std::string_view> split_code_points(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = sequence_length(s, i);
    TFM_ASSERT(n != 0, "split_code_points: unchecked invalid UTF-8 at byte ", i + 1);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string quote_clipped(std::string_view s, size_t max_bytes) {
  size_t cut = s.size();
  if (s.size() > max_bytes) {
    cut = max_bytes;
    // Back up to a code point boundary so the message stays valid UTF-8.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  }
  // Appending rather than "'" + ... + "'": GCC 12 at -O3 gives a false -Wrestrict on the latter.
  std::string out;
  out.reserve(cut + 5);
  out += '\'';
  out.append(s.substr(0, cut));
  if (cut < s.size()) out += "...";
  out += '\'';
  return out;
}

}  // namespace tfm
