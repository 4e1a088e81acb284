// Error rates of grapheme-to-phoneme output, with the conventions of the G2P literature (as in
// Yao & Zweig 2015, Yolchuyeva et al. 2019, and the tables issue 5 compares against):
//   WER  a word is wrong when its hypothesis equals none of its reference pronunciations;
//        WER = wrong words / words.
//   PER  per word, the edit distance (unit-cost insertions, deletions, substitutions of phonemes)
//        to the closest reference, the shortest one among equally close; PER = the sum of those
//        distances / the sum of the lengths of those same references.
// A pronunciation is a string of phonemes separated by whitespace; phonemes compare as exact
// strings ("AH0" is not "AH").
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

// The whitespace-separated symbols of s.
std::vector<std::string> split_symbols(std::string_view s);

// Levenshtein distance between two symbol sequences (every edit costs 1).
int64_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b);

struct WordScore {
  bool correct = false;          // the hypothesis equals one of the references (edits == 0)
  int64_t edits = 0;             // edit distance to the closest reference
  int64_t reference_length = 0;  // the length of that reference (the shortest among equally close)
  size_t reference = 0;          // its index (the first among equally close and equally short)
};

// One word's score; references must not be empty (a tfm::Error otherwise).
WordScore score_word(std::string_view hypothesis, const std::vector<std::string>& references);

struct ErrorCounts {
  int64_t words = 0;
  int64_t wrong_words = 0;
  int64_t edits = 0;               // summed over the words
  int64_t reference_phonemes = 0;  // the summed lengths of the chosen references
  void add(const WordScore& s);
  double wer() const;  // percent; 0 for no words
  double per() const;  // percent; 0 for no reference phonemes
};

struct G2pScores {
  ErrorCounts total;
  // By the word's length in characters (Unicode code points, apostrophes included: the length
  // of the model's source).
  std::map<int64_t, ErrorCounts> by_length;
};

// The scores of hypotheses[i] against references[i], the pronunciations of words[i]. The three
// vectors have one element per word (a tfm::Error otherwise).
G2pScores score_words(const std::vector<std::string>& words, const std::vector<std::string>& hypotheses,
                      const std::vector<std::vector<std::string>>& references);

// The number of Unicode code points of UTF-8 text (bytes that do not continue a sequence).
int64_t count_code_points(std::string_view s);

}  // namespace tfm
