#include "text/vocab_tokenizer.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "core/error.h"
#include "core/file.h"
#include "text/utf8.h"

namespace tfm {

namespace {

constexpr std::string_view kMagic = "#transformer-vocab ";
constexpr std::string_view kVersion = "v1";
constexpr std::string_view kUnkSurface = "<unk>";

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The whitespace-separated words of text, as views into it.
std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_ascii_space(text[i])) ++i;
    const size_t begin = i;
    while (i < text.size() && !is_ascii_space(text[i])) ++i;
    if (i > begin) out.push_back(text.substr(begin, i - begin));
  }
  return out;
}

std::vector<std::string_view> split_symbols(VocabTokenizer::Kind kind, std::string_view text) {
  return kind == VocabTokenizer::Kind::Char ? split_code_points(text) : split_words(text);
}

bool is_special_name(std::string_view s) {
  return std::find(special::names.begin(), special::names.end(), s) != special::names.end();
}

// Why symbol cannot be in a vocabulary of this kind, or empty if it can.
std::string symbol_problem(VocabTokenizer::Kind kind, std::string_view symbol) {
  if (symbol.empty()) return "an empty symbol";
  if (find_invalid_utf8(symbol) != std::string_view::npos) return "a symbol that is not valid UTF-8";
  if (kind == VocabTokenizer::Kind::Char) {
    if (split_code_points(symbol).size() != 1)
      return detail::concat("a symbol of ", split_code_points(symbol).size(),
                            " code points in a char vocabulary (expected exactly one)");
  } else if (std::any_of(symbol.begin(), symbol.end(), is_ascii_space)) {
    return "a symbol containing whitespace in a word vocabulary";
  }
  return {};
}

}  // namespace

VocabTokenizer::Kind parse_vocab_kind(std::string_view kind) {
  if (kind == "char") return VocabTokenizer::Kind::Char;
  if (kind == "word") return VocabTokenizer::Kind::Word;
  if (kind == "sentencepiece")
    throw Error("a sentencepiece vocabulary is trained with train_sentencepiece, not build_vocab");
  throw Error(detail::concat("unknown vocabulary kind '", kind, "'; expected 'char' or 'word'"));
}

VocabTokenizer::VocabTokenizer(Kind kind, std::vector<std::string> symbols)
    : kind_(kind), symbols_(std::move(symbols)) {
  TFM_CHECK(symbols_.size() >= special::count, "vocabulary: ", symbols_.size(),
            " symbols; expected at least the ", special::count, " specials");
  for (int i = 0; i < special::count; ++i)
    TFM_CHECK(symbols_[i] == special::names[i], "vocabulary: id ", i, " is ",
              quote_clipped(symbols_[i]), "; expected '", special::names[i], "'");
  ids_.reserve(symbols_.size());
  for (int i = special::count; i < static_cast<int>(symbols_.size()); ++i) {
    const std::string& s = symbols_[i];
    const std::string problem = symbol_problem(kind_, s);
    TFM_CHECK(problem.empty(), "vocabulary: id ", i, " is ", problem);
    TFM_CHECK(!is_special_name(s), "vocabulary: id ", i, " is the special name '", s,
              "'; expected it only at its special id");
    const auto [it, inserted] = ids_.emplace(s, i);
    TFM_CHECK(inserted, "vocabulary: id ", i, " repeats ", quote_clipped(s), " (first at id ",
              it->second, ")");
  }
}

std::string VocabTokenizer::symbol(int id) const {
  TFM_CHECK(id >= 0 && id < vocab_size(), "token id ", id, " is outside [0, ", vocab_size(), ")");
  return symbols_[id];
}

int VocabTokenizer::id(std::string_view symbol) const {
  // C++20's unordered_map has no heterogeneous find without a transparent hash; the copy is
  // cheap next to the rest of encoding.
  const auto it = ids_.find(std::string(symbol));
  return it == ids_.end() ? special::unk : it->second;
}

namespace {
std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
}  // namespace

std::vector<int> VocabTokenizer::encode_checked(std::string_view original,
                                                std::vector<std::string>* unknown) const {
  const std::string lowered = lowercase_ ? ascii_lower(original) : std::string();
  const std::string_view text = lowercase_ ? std::string_view(lowered) : original;
  std::vector<int> out;
  for (std::string_view s : split_symbols(kind_, text)) {
    const int i = id(s);
    if (i == special::unk && unknown) unknown->emplace_back(s);
    out.push_back(i);
  }
  return out;
}

std::string VocabTokenizer::decode_checked(const std::vector<int>& ids) const {
  std::string out;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (kind_ == Kind::Word && k > 0) out += ' ';
    out += ids[k] == special::unk ? kUnkSurface : std::string_view(symbols_[ids[k]]);
  }
  return out;
}

std::string escape_symbol(std::string_view symbol) {
  std::string out;
  out.reserve(symbol.size());
  for (char c : symbol) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case ' ': out += "\\s"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out;
}

std::string unescape_symbol(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\\') {
      out += line[i];
      continue;
    }
    if (++i == line.size())
      throw Error("a trailing '\\'; expected one of the escapes \\\\ \\s \\t \\n \\r");
    switch (line[i]) {
      case '\\': out += '\\'; break;
      case 's': out += ' '; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default:
        throw Error(detail::concat("unknown escape '\\", line[i],
                                   "'; expected one of \\\\ \\s \\t \\n \\r"));
    }
  }
  return out;
}

std::string VocabTokenizer::serialize() const {
  std::string out = detail::concat(kMagic, kind(), " ", kVersion, " size=", symbols_.size(),
                                   lowercase_ ? " lowercase" : "", "\n");
  for (const std::string& s : symbols_) {
    out += escape_symbol(s);
    out += '\n';
  }
  return out;
}

void VocabTokenizer::save(const std::string& path) const { write_file_atomic(path, serialize()); }

std::unique_ptr<VocabTokenizer> build_vocab(std::string_view kind_name,
                                            const std::vector<std::string>& texts, int min_count,
                                            bool lowercase) {
  const VocabTokenizer::Kind kind = parse_vocab_kind(kind_name);
  TFM_CHECK(min_count >= 1, "build_vocab: min_count is ", min_count, "; expected at least 1");
  // std::map keeps the symbols in bytewise order, which for UTF-8 is code point order: the
  // stable sort below then breaks count ties by it.
  std::map<std::string, int64_t, std::less<>> counts;
  for (size_t t = 0; t < texts.size(); ++t) {
    check_utf8(texts[t], detail::concat("build_vocab: text ", t + 1));
    const std::string text = lowercase ? ascii_lower(texts[t]) : texts[t];
    for (std::string_view s : split_symbols(kind, text)) {
      auto it = counts.find(s);
      if (it == counts.end()) it = counts.emplace(std::string(s), 0).first;
      ++it->second;
    }
  }
  std::vector<std::pair<std::string, int64_t>> sorted;
  for (auto& [s, c] : counts)
    if (c >= min_count && !is_special_name(s)) sorted.emplace_back(s, c);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> symbols(special::names.begin(), special::names.end());
  for (auto& [s, c] : sorted) symbols.push_back(std::move(s));
  auto tok = std::make_unique<VocabTokenizer>(kind, std::move(symbols));
  tok->set_lowercase(lowercase);
  return tok;
}

std::unique_ptr<VocabTokenizer> parse_vocab(std::string_view contents, const std::string& path) {
  // Lines, split on '\n' only: a '\r' is not a line end here, so a CRLF file is caught below as
  // an unescaped '\r' rather than silently changing symbols.
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string_view::npos) end = contents.size();
    lines.push_back(contents.substr(start, end - start));
    start = end + 1;
  }
  auto fail = [&](size_t line, const std::string& what) -> Error {
    return Error(detail::concat(path, ":", line, ": ", what));
  };

  // Header: "#transformer-vocab <kind> v1 size=<N>".
  const std::string_view header = lines.empty() ? std::string_view() : lines[0];
  const std::string expected_header =
      detail::concat("expected the header '", kMagic, "<char|word> ", kVersion, " size=<N> [lowercase]'");
  if (header.ends_with('\r'))
    throw fail(1, "the file has Windows line ends (\\r\\n); expected \\n line ends");
  if (!header.starts_with(kMagic))
    throw fail(1, detail::concat(expected_header, ", got ", quote_clipped(header)));
  std::vector<std::string_view> fields;
  for (size_t i = kMagic.size(); i <= header.size();) {
    size_t j = header.find(' ', i);
    if (j == std::string_view::npos) j = header.size();
    fields.push_back(header.substr(i, j - i));
    i = j + 1;
  }
  const bool lowercase = fields.size() == 4 && fields[3] == "lowercase";
  if ((fields.size() != 3 && !lowercase) || !fields[2].starts_with("size="))
    throw fail(1, detail::concat(expected_header, ", got ", quote_clipped(header)));
  if (fields[0] != "char" && fields[0] != "word")
    throw fail(1, detail::concat("unknown vocabulary kind ", quote_clipped(fields[0]),
                                 "; expected 'char' or 'word'"));
  if (fields[1] != kVersion)
    throw fail(1, detail::concat("vocabulary format version ", quote_clipped(fields[1]),
                                 " is not supported; expected '", kVersion, "'"));
  const VocabTokenizer::Kind kind = parse_vocab_kind(fields[0]);
  const std::string_view size_text = fields[2].substr(5);
  size_t size = 0;
  const auto [ptr, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (ec != std::errc() || ptr != size_text.data() + size_text.size() || size < special::count)
    throw fail(1, detail::concat("expected size=<N> with N >= ", special::count, ", got ",
                                 quote_clipped(fields[2])));
  const size_t have = lines.size() - 1;
  if (have != size)
    throw fail(lines.size(),
               detail::concat("the header says size=", size, " but the file has ", have,
                              " symbol lines; expected ", size, " (is the file truncated?)"));

  std::vector<std::string> symbols;
  symbols.reserve(size);
  std::unordered_map<std::string_view, size_t> first_line;
  for (size_t k = 1; k < lines.size(); ++k) {
    const size_t line = k + 1;
    std::string_view raw = lines[k];
    if (raw.empty()) throw fail(line, "an empty line; expected a symbol (write a space as \\s)");
    if (raw.find_first_of(" \t\r") != std::string_view::npos)
      throw fail(line, detail::concat("an unescaped space, tab or carriage return in ",
                                      quote_clipped(raw), "; expected \\s, \\t or \\r"));
    if (const size_t bad = find_invalid_utf8(raw); bad != std::string_view::npos)
      throw fail(line, detail::concat("invalid UTF-8 at byte ", bad + 1, "; expected UTF-8 text"));
    std::string s;
    try {
      s = unescape_symbol(raw);
    } catch (const Error& e) {
      throw fail(line, e.what());
    }
    const int id = static_cast<int>(k - 1);
    if (id < special::count) {
      if (s != special::names[id])
        throw fail(line, detail::concat("expected the special symbol '", special::names[id],
                                        "' for id ", id, ", got ", quote_clipped(s)));
    } else {
      if (is_special_name(s))
        throw fail(line, detail::concat("the special symbol '", s, "' again; expected it only at id ",
                                        std::find(special::names.begin(), special::names.end(), s) -
                                            special::names.begin()));
      const std::string problem = symbol_problem(kind, s);
      if (!problem.empty()) throw fail(line, problem);
      const auto [it, inserted] = first_line.emplace(raw, line);
      if (!inserted)
        throw fail(line, detail::concat("the symbol ", quote_clipped(raw),
                                        " again (first on line ", it->second,
                                        "); expected each symbol once"));
    }
    symbols.push_back(std::move(s));
  }
  auto tok = std::make_unique<VocabTokenizer>(kind, std::move(symbols));
  tok->set_lowercase(lowercase);
  return tok;
}

}  // namespace tfm
