#include "data/corpus.h"

#include <algorithm>
#include <charconv>
#include <iostream>

#include "core/error.h"
#include "core/file.h"
#include "text/utf8.h"

namespace tfm {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

std::string location(std::string_view name, int64_t line) {
  return detail::concat(name, ":", line);
}

// Removes the trailing '\r' and checks UTF-8; the shared per-line rule of every reader.
void finish_line(std::string& line, std::string_view name, int64_t number) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  check_utf8(line, location(name, number));
}

std::vector<std::string> split_lines(std::string_view bytes, std::string_view name) {
  if (bytes.starts_with(kByteOrderMark)) bytes.remove_prefix(kByteOrderMark.size());
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    lines.emplace_back(bytes.substr(start, end - start));
    finish_line(lines.back(), name, static_cast<int64_t>(lines.size()));
    start = end + 1;
  }
  return lines;
}

}  // namespace

std::vector<std::string> read_lines(const std::string& path) {
  return split_lines(read_file(path), path);
}

std::vector<std::string> read_lines(std::istream& in, const std::string& name) {
  LineReader reader(in, name);
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(std::move(line));
  return lines;
}

std::vector<std::string> read_stdin_lines() { return read_lines(std::cin, "<stdin>"); }

LineReader::LineReader(std::istream& in, std::string name) : in_(in), name_(std::move(name)) {}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) throw Error(detail::concat("cannot read ", name_, " after line ", line_number_));
    return false;
  }
  ++line_number_;
  if (line_number_ == 1 && std::string_view(line).starts_with(kByteOrderMark))
    line.erase(0, kByteOrderMark.size());
  finish_line(line, name_, line_number_);
  return true;
}

std::string LineReader::where() const { return location(name_, line_number_); }

ParallelCorpus read_parallel(const std::string& src_path, const std::string& tgt_path) {
  ParallelCorpus c{read_lines(src_path), read_lines(tgt_path)};
  TFM_CHECK(c.src.size() == c.tgt.size(), "parallel corpus: '", src_path, "' has ", c.src.size(),
            " lines but '", tgt_path, "' has ", c.tgt.size(),
            "; expected the same number (line i of one is the translation of line i of the other)");
  return c;
}

ParallelCorpus read_tsv(const std::string& path) {
  ParallelCorpus c;
  const std::vector<std::string> lines = read_lines(path);
  c.src.reserve(lines.size());
  c.tgt.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t tab = line.find('\t');
    const size_t tabs = std::count(line.begin(), line.end(), '\t');
    if (tabs != 1)
      throw Error(detail::concat(location(path, static_cast<int64_t>(i + 1)),
                                 ": expected 'source<TAB>target' with exactly one tab, got ",
                                 tabs == 0 ? std::string("no tab") : detail::concat(tabs, " tabs"),
                                 line.empty() ? " (an empty line)" : ""));
    c.src.push_back(line.substr(0, tab));
    c.tgt.push_back(line.substr(tab + 1));
  }
  return c;
}

std::vector<int> parse_ids(std::string_view line, int vocab_size, std::string_view where) {
  TFM_CHECK(vocab_size > 0, where, ": vocabulary size ", vocab_size, "; expected at least 1");
  std::vector<int> ids;
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    const size_t begin = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    const std::string_view token = line.substr(begin, i - begin);
    int64_t id = 0;
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), id);
    const bool whole = ptr == token.data() + token.size();
    if (ec == std::errc::result_out_of_range && whole)
      throw Error(detail::concat(where, ": token id ", token, " is outside [0, ", vocab_size,
                                 ") (the vocabulary size is ", vocab_size, ")"));
    if (ec != std::errc() || !whole)
      throw Error(detail::concat(where, ": expected a token id, got ", quote_clipped(token)));
    if (id < 0 || id >= vocab_size)
      throw Error(detail::concat(where, ": token id ", id, " is outside [0, ", vocab_size,
                                 ") (the vocabulary size is ", vocab_size, ")"));
    ids.push_back(static_cast<int>(id));
  }
  return ids;
}

std::vector<std::vector<int>> read_ids(const std::string& path, int vocab_size) {
  TFM_CHECK(vocab_size > 0, "read_ids '", path, "': vocabulary size ", vocab_size,
            "; expected at least 1");
  const std::vector<std::string> lines = read_lines(path);
  std::vector<std::vector<int>> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i)
    out.push_back(parse_ids(lines[i], vocab_size, location(path, static_cast<int64_t>(i + 1))));
  return out;
}

}  // namespace tfm
