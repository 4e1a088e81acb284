#include "data/cmudict.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/file.h"
#include "data/corpus.h"
#include "text/utf8.h"

namespace tfm {

namespace {

// The 39 phonemes of CMUdict 0.7b (its symbols.txt without the stress variants).
constexpr std::array<std::string_view, 15> kVowels = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER",
                                                      "EY", "IH", "IY", "OW", "OY", "UH", "UW"};
constexpr std::array<std::string_view, 24> kConsonants = {"B",  "CH", "D", "DH", "F", "G",  "HH", "JH",
                                                          "K",  "L",  "M", "N",  "NG", "P", "R",  "S",
                                                          "SH", "T",  "TH", "V", "W",  "Y", "Z",  "ZH"};

bool is_vowel(std::string_view p) { return std::find(kVowels.begin(), kVowels.end(), p) != kVowels.end(); }
bool is_consonant(std::string_view p) {
  return std::find(kConsonants.begin(), kConsonants.end(), p) != kConsonants.end();
}

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// s in single quotes with bytes outside printable ASCII as \xNN (the dictionary is not UTF-8),
// cut to 40 bytes so that a message stays one readable line.
std::string quote_bytes(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > 40) out += "...";
  return out + "'";
}

std::string phoneme_inventory() {
  std::string s;
  for (auto p : kVowels) s.append(s.empty() ? "" : " ").append(p);
  for (auto p : kConsonants) s.append(" ").append(p);
  return s;
}

// The phoneme without its stress digit, or "" when token is not a phoneme.
std::string_view strip_stress(std::string_view token) {
  if (!token.empty() && is_digit(token.back())) {
    const std::string_view base = token.substr(0, token.size() - 1);
    return token.back() <= '2' && is_vowel(base) ? base : std::string_view{};
  }
  return is_vowel(token) || is_consonant(token) ? token : std::string_view{};
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const size_t begin = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > begin) out.push_back(s.substr(begin, i - begin));
  }
  return out;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The reason a headword is not kept, or DropReason::Count when it is made of letters and
// apostrophes with at least one letter.
DropReason classify(std::string_view headword) {
  bool letter = false;
  for (char ch : headword) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_letter(ch)) letter = true;
    else if (ch == '\'') continue;
    else if (c >= 0x80) return DropReason::NonAscii;
    else if (is_digit(ch)) return DropReason::Digit;
    else if (ch == '.') return DropReason::Period;
    else if (ch == '-') return DropReason::Hyphen;
    else if (ch == '_') return DropReason::Underscore;
    else return DropReason::OtherSymbol;
  }
  return letter ? DropReason::Count : DropReason::NoLetter;
}

struct RawPronunciation {
  int64_t variant;  // 0 for WORD, N for WORD(N)
  int64_t line;
  std::string phones;
};

}  // namespace

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::Digit: return "digit";
    case DropReason::Period: return "period";
    case DropReason::Hyphen: return "hyphen";
    case DropReason::Underscore: return "underscore";
    case DropReason::OtherSymbol: return "other symbol";
    case DropReason::NonAscii: return "non-ASCII byte";
    case DropReason::NoLetter: return "no letter";
    case DropReason::Count: break;
  }
  throw InternalError("drop_reason_name: not a reason");
}

int64_t CmudictStats::dropped_entries() const { return std::accumulate(dropped.begin(), dropped.end(), int64_t{0}); }

int64_t Cmudict::pronunciations() const {
  int64_t n = 0;
  for (const auto& w : words) n += static_cast<int64_t>(w.pronunciations.size());
  return n;
}

Cmudict parse_cmudict(std::string_view text, std::string_view name) {
  Cmudict dict;
  CmudictStats& st = dict.stats;
  std::map<std::string, std::vector<RawPronunciation>> kept;
  std::set<std::string> dropped_words;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const int64_t number = ++st.lines;
    auto fail = [&](const std::string& what) {
      throw Error(detail::concat(name, ":", number, ": ", what));
    };
    if (line.starts_with(";;;")) {
      ++st.comments;
      continue;
    }
    if (std::all_of(line.begin(), line.end(), is_space)) {
      ++st.blank;
      continue;
    }
    if (is_space(line.front()))
      fail("the line starts with whitespace; expected 'WORD  PH1 PH2 ...' with the headword first");
    const auto fields = split_spaces(line);
    std::string_view headword = fields[0];
    if (fields.size() == 1)
      fail(detail::concat("headword ", quote_bytes(headword),
                          " has no phonemes; expected 'WORD  PH1 PH2 ...'"));
    std::string phones;
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string_view p = strip_stress(fields[i]);
      if (p.empty())
        fail(detail::concat("unknown phoneme ", quote_bytes(fields[i]), " in the entry of ", quote_bytes(headword),
                            "; expected one of the 39 ARPAbet phonemes (", phoneme_inventory(),
                            "), vowels with an optional stress digit 0, 1 or 2"));
      if (!phones.empty()) phones += ' ';
      phones += p;
    }
    // WORD(N): the N-th alternative of WORD.
    int64_t variant = 0;
    const size_t open = headword.find('(');
    if (open != std::string_view::npos || headword.find(')') != std::string_view::npos) {
      const bool ok = open != std::string_view::npos && open > 0 && headword.back() == ')' &&
                      headword.size() - open > 2 && headword.size() - open <= 11 &&
                      std::all_of(headword.begin() + open + 1, headword.end() - 1, is_digit) &&
                      headword.substr(0, open).find_first_of("()") == std::string_view::npos;
      if (!ok)
        fail(detail::concat("malformed alternative marker in ", quote_bytes(headword),
                            "; expected WORD(N) with N a number, e.g. HELLO(1)"));
      for (char c : headword.substr(open + 1, headword.size() - open - 2)) variant = variant * 10 + (c - '0');
      headword = headword.substr(0, open);
    }
    ++st.entries;
    const DropReason reason = classify(headword);
    if (reason != DropReason::Count) {
      ++st.dropped[static_cast<int>(reason)];
      dropped_words.insert(lowercase(headword));
      continue;
    }
    ++st.kept;
    kept[lowercase(headword)].push_back({variant, number, std::move(phones)});
  }
  st.dropped_headwords = static_cast<int64_t>(dropped_words.size());
  dict.words.reserve(kept.size());
  for (auto& [word, raw] : kept) {
    std::stable_sort(raw.begin(), raw.end(),
                     [](const RawPronunciation& a, const RawPronunciation& b) { return a.variant < b.variant; });
    LexiconEntry e{word, {}, {}};
    for (auto& r : raw) {
      if (std::find(e.pronunciations.begin(), e.pronunciations.end(), r.phones) != e.pronunciations.end()) {
        ++st.merged_duplicates;
        continue;
      }
      e.pronunciations.push_back(std::move(r.phones));
      e.lines.push_back(r.line);
    }
    dict.words.push_back(std::move(e));
  }
  return dict;
}

Cmudict read_cmudict(const std::string& path) { return parse_cmudict(read_file(path), path); }

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

G2pSplit split_words(const std::vector<LexiconEntry>& words, SplitSizes sizes) {
  TFM_CHECK(sizes.test >= 0 && sizes.dev >= 0, "split sizes must not be negative, got test ", sizes.test,
            " and dev ", sizes.dev);
  std::vector<std::pair<uint64_t, size_t>> order;
  order.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) order.emplace_back(fnv1a64(words[i].word), i);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return words[a.second].word < words[b.second].word;
  });
  G2pSplit split;
  const size_t n_test = std::min(order.size(), static_cast<size_t>(sizes.test));
  const size_t n_dev = std::min(order.size() - n_test, static_cast<size_t>(sizes.dev));
  for (size_t k = 0; k < order.size(); ++k) {
    auto& part = k < n_test ? split.test : k < n_test + n_dev ? split.dev : split.train;
    part.push_back(words[order[k].second]);
  }
  for (auto* part : {&split.train, &split.dev, &split.test})
    std::sort(part->begin(), part->end(),
              [](const LexiconEntry& a, const LexiconEntry& b) { return a.word < b.word; });
  return split;
}

std::string lexicon_tsv(const std::vector<LexiconEntry>& entries) {
  std::string out;
  for (const auto& e : entries)
    for (const auto& p : e.pronunciations) out.append(e.word).append("\t").append(p).append("\n");
  return out;
}

void write_split(const G2pSplit& split, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  TFM_CHECK(!ec, dir, ": cannot create the directory: ", ec.message());
  write_file_atomic(dir + "/train.tsv", lexicon_tsv(split.train));
  write_file_atomic(dir + "/dev.tsv", lexicon_tsv(split.dev));
  write_file_atomic(dir + "/test.tsv", lexicon_tsv(split.test));
}

std::vector<LexiconEntry> read_lexicon_tsv(const std::string& path, bool allow_empty_pronunciation) {
  const std::vector<std::string> lines = read_lines(path);
  std::vector<LexiconEntry> entries;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const int64_t number = static_cast<int64_t>(i + 1);
    auto fail = [&](const std::string& what) { throw Error(detail::concat(path, ":", number, ": ", what)); };
    const auto tabs = std::count(line.begin(), line.end(), '\t');
    if (tabs != 1)
      fail(detail::concat("expected 'word<TAB>phonemes' with exactly one tab, got ",
                          tabs == 0 ? std::string("no tab") : detail::concat(tabs, " tabs"),
                          line.empty() ? " (an empty line)" : ""));
    const size_t tab = line.find('\t');
    const std::string word = line.substr(0, tab);
    if (word.empty()) fail("empty word; expected 'word<TAB>phonemes'");
    if (word.find(' ') != std::string::npos)
      fail(detail::concat("the word ", quote_clipped(word), " holds a space; expected one word before the tab"));
    std::string phones;
    for (std::string_view p : split_spaces(std::string_view(line).substr(tab + 1))) {
      if (!phones.empty()) phones += ' ';
      phones += p;
    }
    if (phones.empty() && !allow_empty_pronunciation)
      fail(detail::concat("empty pronunciation for ", quote_clipped(word),
                          "; a reference needs at least one phoneme after the tab"));
    auto [it, fresh] = index.emplace(word, entries.size());
    if (fresh) entries.push_back({word, {}, {}});
    entries[it->second].pronunciations.push_back(std::move(phones));
    entries[it->second].lines.push_back(number);
  }
  return entries;
}

std::vector<std::string> match_hypotheses(const std::vector<LexiconEntry>& refs, const std::string& ref_path,
                                          const std::vector<LexiconEntry>& hyps, const std::string& hyp_path) {
  std::unordered_map<std::string, size_t> ref_index;
  for (size_t i = 0; i < refs.size(); ++i) ref_index.emplace(refs[i].word, i);
  std::vector<std::string> out(refs.size());
  std::vector<bool> have(refs.size(), false);
  for (const auto& h : hyps) {
    if (h.pronunciations.size() > 1)
      throw Error(detail::concat(hyp_path, ":", h.lines[1], ": a second hypothesis for ", quote_clipped(h.word),
                                 " (the first is on line ", h.lines[0], "); expected one line per word"));
    auto it = ref_index.find(h.word);
    if (it == ref_index.end())
      throw Error(detail::concat(hyp_path, ":", h.lines[0], ": ", quote_clipped(h.word), " is not a word of ",
                                 ref_path, "; expected hypotheses for the reference words only"));
    out[it->second] = h.pronunciations[0];
    have[it->second] = true;
  }
  for (size_t i = 0; i < refs.size(); ++i)
    if (!have[i])
      throw Error(detail::concat(hyp_path, ": no hypothesis for ", quote_clipped(refs[i].word), " (", ref_path, ":",
                                 refs[i].lines[0], "); expected one line per word of the references"));
  return out;
}

}  // namespace tfm
