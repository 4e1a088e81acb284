#include "io/pipeline.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "data/corpus.h"

namespace tfm {

std::vector<std::vector<int32_t>> encode_lines(const LoadedModel& m, bool source_side,
                                               const std::vector<std::string>& lines, bool ids,
                                               const LineSource& where,
                                               const std::function<void(const std::string&)>& warn) {
  const Config& c = m.config;
  const int vocab = source_side ? c.src_vocab_size : c.tgt_vocab_size;
  const Tokenizer* tok = source_side ? m.src_tokenizer.get() : m.tgt_tokenizer.get();
  TFM_CHECK(ids || tok, m.dir, ": this model has no tokenizer (config.json names none); ",
            "give token ids with --ids");
  std::vector<std::vector<int32_t>> out;
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string at = where.name + ":" + std::to_string(where.first_line + static_cast<int64_t>(i));
    std::vector<int> v;
    if (ids) {
      v = parse_ids(lines[i], vocab, at);
    } else {
      std::vector<std::string> unknown;
      v = tok->encode(lines[i], &unknown, at);
      if (!unknown.empty() && warn) {
        std::ostringstream s;
        s << at << ": warning: unknown symbol" << (unknown.size() > 1 ? "s" : "") << " ";
        for (size_t k = 0; k < unknown.size(); ++k) s << (k ? ", " : "") << "'" << unknown[k] << "'";
        s << " mapped to <unk>";
        warn(s.str());
      }
    }
    TFM_CHECK(static_cast<int64_t>(v.size()) + 1 <= c.max_len, at, ": sequence of ", v.size(),
              " tokens is too long: the model takes at most ", c.max_len - 1,
              " (max_len ", c.max_len, " including eos)");
    out.emplace_back(v.begin(), v.end());
  }
  return out;
}

std::vector<std::string> translate_lines(const LoadedModel& m, const std::vector<std::string>& lines,
                                         const TranslateOptions& o, const LineSource& where,
                                         const std::function<void(const std::string&)>& warn) {
  TFM_CHECK(o.batch >= 1, "--batch must be at least 1, got ", o.batch);
  TFM_CHECK(o.ids || m.tgt_tokenizer, m.dir, ": this model has no target tokenizer; use --ids");
  TFM_CHECK(m.model->has_source(), m.dir, ": a language model (arch lm) has no source to translate; use ",
            "`transformer sample` to generate from it");
  auto src = encode_lines(m, true, lines, o.ids, where, warn);
  // Longest first, so batches hold similar lengths and the first batch shows the memory peak.
  std::vector<size_t> order(src.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return src[a].size() > src[b].size(); });
  std::vector<std::string> out(src.size());
  for (size_t begin = 0; begin < order.size(); begin += o.batch) {
    const size_t end = std::min(order.size(), begin + static_cast<size_t>(o.batch));
    std::vector<std::vector<int32_t>> chunk;
    for (size_t k = begin; k < end; ++k) chunk.push_back(src[order[k]]);
    auto hyps = translate_batch(*m.model, chunk, o.decode);
    for (size_t k = begin; k < end; ++k) {
      const auto& toks = hyps[k - begin].tokens;
      if (o.ids) {
        std::ostringstream s;
        for (size_t t = 0; t < toks.size(); ++t) s << (t ? " " : "") << toks[t];
        out[order[k]] = s.str();
      } else {
        out[order[k]] = m.tgt_tokenizer->decode(std::vector<int>(toks.begin(), toks.end()));
      }
    }
  }
  return out;
}

std::vector<std::vector<double>> score_lines(const LoadedModel& m, const std::vector<std::string>& src,
                                             const std::vector<std::string>& tgt, bool ids,
                                             const LineSource& src_where, const LineSource& tgt_where,
                                             int batch, const std::function<void(const std::string&)>& warn) {
  const bool lm = !m.model->has_source();
  TFM_CHECK(!lm || src.empty(), m.dir, ": a language model (arch lm) scores target lines alone; give no source");
  TFM_CHECK(lm || src.size() == tgt.size(), src_where.name, " has ", src.size(), " lines but ", tgt_where.name,
            " has ", tgt.size(), "; scoring needs one target line per source line");
  TFM_CHECK(batch >= 1, "--batch must be at least 1, got ", batch);
  auto t = encode_lines(m, false, tgt, ids, tgt_where, warn);
  auto s = lm ? std::vector<std::vector<int32_t>>(t.size()) : encode_lines(m, true, src, ids, src_where, warn);
  std::vector<std::vector<double>> out;
  out.reserve(s.size());
  for (size_t begin = 0; begin < s.size(); begin += batch) {
    const size_t end = std::min(s.size(), begin + static_cast<size_t>(batch));
    std::vector<std::vector<int32_t>> bs(s.begin() + begin, s.begin() + end), bt(t.begin() + begin, t.begin() + end);
    for (auto& r : score_batch(*m.model, bs, bt)) out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> sample_lines(const LoadedModel& m, const std::vector<std::string>& lines,
                                      const SampleLinesOptions& o, const LineSource& where,
                                      const std::function<void(const std::string&)>& warn) {
  TFM_CHECK(o.batch >= 1, "--batch must be at least 1, got ", o.batch);
  TFM_CHECK(o.num >= 1, "--num must be at least 1, got ", o.num);
  TFM_CHECK(o.ids || m.tgt_tokenizer, m.dir, ": this model has no target tokenizer; use --ids");
  o.sample.validate();
  const bool lm = !m.model->has_source();
  // A language model's lines are prompts in the target vocabulary; a translation model's are sources.
  const auto in = encode_lines(m, !lm, lines, o.ids, where, warn);
  std::vector<std::vector<int32_t>> prompts, src;
  for (const auto& v : in)
    for (int k = 0; k < o.num; ++k) {
      if (lm) prompts.push_back(v);
      else {
        prompts.emplace_back();
        src.push_back(v);
      }
    }
  std::vector<std::string> out;
  for (size_t begin = 0; begin < prompts.size(); begin += o.batch) {
    const size_t end = std::min(prompts.size(), begin + static_cast<size_t>(o.batch));
    std::vector<std::vector<int32_t>> bp(prompts.begin() + begin, prompts.begin() + end), bs;
    if (!lm) bs.assign(src.begin() + begin, src.begin() + end);
    const auto hyps = sample_sequences(*m.model, bp, bs, o.sample, begin);
    for (size_t k = 0; k < hyps.size(); ++k) {
      std::vector<int> toks(bp[k].begin(), bp[k].end());
      toks.insert(toks.end(), hyps[k].tokens.begin(), hyps[k].tokens.end());
      if (o.ids) {
        std::ostringstream s;
        for (size_t t = 0; t < toks.size(); ++t) s << (t ? " " : "") << toks[t];
        out.push_back(s.str());
      } else {
        out.push_back(m.tgt_tokenizer->decode(toks));
      }
    }
  }
  return out;
}

}  // namespace tfm
