#include "data/metrics.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace tfm {

std::vector<std::string> split_symbols(std::string_view s) {
  std::vector<std::string> out;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && space(s[i])) ++i;
    const size_t begin = i;
    while (i < s.size() && !space(s[i])) ++i;
    if (i > begin) out.emplace_back(s.substr(begin, i - begin));
  }
  return out;
}

int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // The classic dynamic programme over two rows: row[j] = distance(a[0..i), b[0..j)).
  std::vector<int64_t> prev(b.size() + 1), row(b.size() + 1);
  std::iota(prev.begin(), prev.end(), int64_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j)
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, row);
  }
  return prev[b.size()];
}

WordScore score_word(std::string_view hypothesis, const std::vector<std::string>& references) {
  TFM_CHECK(!references.empty(), "score_word: no reference pronunciation for hypothesis '", hypothesis,
            "'; expected at least one");
  const std::vector<std::string> hyp = split_symbols(hypothesis);
  WordScore best;
  for (size_t r = 0; r < references.size(); ++r) {
    const std::vector<std::string> ref = split_symbols(references[r]);
    const int64_t d = edit_distance(hyp, ref);
    const auto len = static_cast<int64_t>(ref.size());
    if (r == 0 || d < best.edits || (d == best.edits && len < best.reference_length))
      best = WordScore{d == 0, d, len, r};
  }
  return best;
}

void ErrorCounts::add(const WordScore& s) {
  ++words;
  wrong_words += s.correct ? 0 : 1;
  edits += s.edits;
  reference_phonemes += s.reference_length;
}

double ErrorCounts::wer() const { return words ? 100.0 * static_cast<double>(wrong_words) / static_cast<double>(words) : 0.0; }

double ErrorCounts::per() const {
  return reference_phonemes ? 100.0 * static_cast<double>(edits) / static_cast<double>(reference_phonemes) : 0.0;
}

int64_t count_code_points(std::string_view s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

G2pScores score_words(const std::vector<std::string>& words, const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references) {
  TFM_CHECK(words.size() == hypotheses.size() && words.size() == references.size(), "score_words: ",
            words.size(), " words, ", hypotheses.size(), " hypotheses and ", references.size(),
            " reference lists; expected one of each per word");
  G2pScores out;
  for (size_t i = 0; i < words.size(); ++i) {
    const WordScore s = score_word(hypotheses[i], references[i]);
    out.total.add(s);
    out.by_length[count_code_points(words[i])].add(s);
  }
  return out;
}

}  // namespace tfm
