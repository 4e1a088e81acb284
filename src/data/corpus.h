// Reading training and input data. Every reader checks what it reads (UTF-8, the shape of each
// line, the range of each id) and throws tfm::Error naming the file and the 1-based line, and
// saying what was expected; no line is skipped silently.
//
// Lines end at '\n'; one trailing '\r' is removed (files from Windows); a final line without
// '\n' still counts; a UTF-8 byte order mark at the start of a file is removed (it is encoding
// metadata, not text).
#pragma once
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

struct ParallelCorpus {
  std::vector<std::string> src, tgt;  // src[i] is translated by tgt[i]
};

// The lines of a text file. A missing or unreadable file is an error naming it.
std::vector<std::string> read_lines(const std::string& path);
// The lines of a stream; name stands for it in errors (e.g. "<stdin>").
std::vector<std::string> read_lines(std::istream& in, const std::string& name);
// All of standard input, named "<stdin>" in errors.
std::vector<std::string> read_stdin_lines();

// One line at a time, for input that should be answered as it comes (an interactive pipe).
class LineReader {
 public:
  // in must outlive the reader.
  LineReader(std::istream& in, std::string name);
  // The next line, checked like read_lines; false at the end of the input.
  bool next(std::string& line);
  // The 1-based number of the line last returned (0 before the first).
  int64_t line_number() const { return line_number_; }
  const std::string& name() const { return name_; }
  // "name:line" of the line last returned, for messages about it.
  std::string where() const;

 private:
  std::istream& in_;
  std::string name_;
  int64_t line_number_ = 0;
};

// Two line-aligned files. Their line counts must match; the error names both files and counts.
ParallelCorpus read_parallel(const std::string& src_path, const std::string& tgt_path);

// One pair a line: "source<TAB>target", exactly one tab (either side may be empty).
ParallelCorpus read_tsv(const std::string& path);

// Token ids, space-separated, one sentence a line; an empty line is an empty sentence. Every id
// must be an integer in [0, vocab_size).
std::vector<std::vector<int>> read_ids(const std::string& path, int vocab_size);
// One line of ids, checked the same way; where (e.g. "<stdin>:3") prefixes errors.
std::vector<int> parse_ids(std::string_view line, int vocab_size, std::string_view where);

}  // namespace tfm
