#include "decode/search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/ops.h"
#include "decode/step_decoder.h"

namespace tfm {

namespace {
std::vector<std::vector<int32_t>> with_eos(const std::vector<std::vector<int32_t>>& src, int32_t eos) {
  auto out = src;
  for (auto& s : out) s.push_back(eos);
  return out;
}
double length_penalty(double alpha, size_t length) {
  return alpha == 0 ? 1.0 : std::pow((5.0 + static_cast<double>(length)) / 6.0, alpha);
}
int64_t longest(const Config& c, const DecodeOptions& o, const std::vector<std::vector<int32_t>>& src) {
  int64_t m = 1;
  for (const auto& s : src) m = std::max(m, max_output_length(c, o, static_cast<int64_t>(s.size())));
  return m;
}
}  // namespace

std::vector<Extension> best_extensions(const double* score, int64_t K, const float* logprobs, int64_t V, size_t n) {
  std::vector<Extension> best;
  best.reserve(n);
  if (n == 0) return best;
  for (int64_t k = 0; k < K; ++k) {
    if (score[k] == -std::numeric_limits<double>::infinity()) continue;
    const float* row = logprobs + k * V;
    constexpr int64_t kBlock = 32;
    for (int64_t v0 = 0; v0 < V; v0 += kBlock) {
      const int64_t v1 = std::min(V, v0 + kBlock);
      if (best.size() == n) {  // skip a block none of which beats the n-th best: most of them
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t v = v0; v < v1; ++v) m = m < row[v] ? row[v] : m;  // a NaN is never the max
        if (!(score[k] + m > best.back().score)) continue;
      }
      for (int64_t v = v0; v < v1; ++v) {
        const double s = score[k] + row[v];
        if (best.size() == n && !(s > best.back().score)) continue;
        // Insert after every kept one at least as good: those came earlier (lower beam or token).
        if (best.size() < n) best.push_back({});
        size_t j = best.size() - 1;
        for (; j > 0 && best[j - 1].score < s; --j) best[j] = best[j - 1];
        best[j] = {s, k, static_cast<int32_t>(v)};
      }
    }
  }
  return best;
}

int64_t max_output_length(const Config& c, const DecodeOptions& o, int64_t n) {
  int64_t by_ratio = static_cast<int64_t>(std::floor(o.max_len_ratio * n)) + o.max_len_extra;
  // The decoder input is [bos] + output without its eos, at most max_len positions; so the
  // output has at most max_len - 1 tokens before the eos, as the scoring convention requires.
  return std::clamp<int64_t>(by_ratio, 1, c.max_len - 1);
}

std::vector<Hypothesis> greedy_search(const Seq2SeqModel& model,
                                      const std::vector<std::vector<int32_t>>& src,
                                      const DecodeOptions& opts) {
  const Config& c = model.config();
  std::vector<Hypothesis> out(src.size());
  if (src.empty()) return out;
  auto decoder = make_step_decoder(model, make_batch(with_eos(src, c.eos_id), c.pad_id), 1, longest(c, opts, src));
  StepDecoder& dec = *decoder;
  std::vector<int64_t> active(src.size());  // row -> sentence
  for (size_t i = 0; i < src.size(); ++i) active[i] = static_cast<int64_t>(i);
  std::vector<int32_t> tokens(src.size(), c.bos_id);
  while (!active.empty()) {
    const Tensor& lp = dec.step(tokens);
    const int64_t V = lp.dim(1);
    std::vector<int64_t> keep_rows;
    std::vector<int64_t> still;
    std::vector<int32_t> next;
    for (size_t r = 0; r < active.size(); ++r) {
      Hypothesis& h = out[active[r]];
      const float* row = lp.data<float>() + r * V;
      int32_t best = static_cast<int32_t>(std::max_element(row, row + V) - row);  // first max on ties
      h.token_logprobs.push_back(row[best]);
      h.score += row[best];
      if (best == c.eos_id) {
        h.finished = true;
      } else {
        h.tokens.push_back(best);
        if (static_cast<int64_t>(h.tokens.size()) <
            max_output_length(c, opts, static_cast<int64_t>(src[active[r]].size()))) {
          keep_rows.push_back(static_cast<int64_t>(r));
          still.push_back(active[r]);
          next.push_back(best);
        }
      }
    }
    if (still.size() != active.size() && !still.empty()) dec.reorder(keep_rows);
    active = std::move(still);
    tokens = std::move(next);
  }
  for (auto& h : out) h.normalized = h.score / length_penalty(opts.alpha, h.token_logprobs.size());
  return out;
}

std::vector<Hypothesis> beam_search(const Seq2SeqModel& model,
                                    const std::vector<std::vector<int32_t>>& src,
                                    const DecodeOptions& opts) {
  const Config& c = model.config();
  const int64_t K = opts.beam;
  TFM_CHECK(K >= 1, "beam size must be at least 1, got ", K);
  std::vector<Hypothesis> out(src.size());
  if (src.empty()) return out;
  auto decoder = make_step_decoder(model, make_batch(with_eos(src, c.eos_id), c.pad_id), K, longest(c, opts, src));
  StepDecoder& dec = *decoder;

  struct Beam {
    Hypothesis h;
    double score;  // -inf: an empty slot (only beam 0 is live at the first step)
  };
  struct Sentence {
    int64_t index;
    std::vector<Beam> beams;
    std::vector<Hypothesis> finished;
  };
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::vector<Sentence> active;
  for (size_t i = 0; i < src.size(); ++i) {
    Sentence s{static_cast<int64_t>(i), std::vector<Beam>(K, Beam{{}, neg_inf}), {}};
    s.beams[0].score = 0;
    active.push_back(std::move(s));
  }
  std::vector<int32_t> tokens(src.size() * K, c.bos_id);
  while (!active.empty()) {
    const Tensor& lp = dec.step(tokens);
    const int64_t V = lp.dim(1);
    // Every sentence's best 2K extensions (ties to the lower beam, then the lower token: greedy's
    // argmax rule), the sentences shared over the threads.
    const auto n_active = static_cast<int64_t>(active.size());
    std::vector<std::vector<Extension>> chosen(active.size());
#pragma omp parallel for schedule(static) if (n_active > 1)
    for (int64_t si = 0; si < n_active; ++si) {
      std::vector<double> beam_scores(K);
      for (int64_t k = 0; k < K; ++k) beam_scores[k] = active[si].beams[k].score;
      chosen[si] = best_extensions(beam_scores.data(), K, lp.data<float>() + si * K * V, V, static_cast<size_t>(2 * K));
    }
    std::vector<Sentence> still;
    std::vector<int64_t> rows;
    std::vector<int32_t> next;
    for (size_t si = 0; si < active.size(); ++si) {
      Sentence& s = active[si];
      const int64_t limit = max_output_length(c, opts, static_cast<int64_t>(src[s.index].size()));
      const std::vector<Extension>& cands = chosen[si];
      const size_t top = cands.size();
      std::vector<Beam> beams;
      std::vector<int64_t> parents;
      for (size_t r = 0; r < top && static_cast<int64_t>(beams.size()) < K; ++r) {
        const Extension& cd = cands[r];
        const Beam& parent = s.beams[cd.beam];
        const float tok_lp = lp.data<float>()[(si * K + cd.beam) * V + cd.token];
        if (cd.token == c.eos_id) {
          // An eos among the best K candidates ends a hypothesis; one further down is ignored.
          if (static_cast<int64_t>(r) < K) {
            Hypothesis h = parent.h;
            h.token_logprobs.push_back(tok_lp);
            h.score = cd.score;
            h.finished = true;
            h.normalized = h.score / length_penalty(opts.alpha, h.token_logprobs.size());
            s.finished.push_back(std::move(h));
          }
          continue;
        }
        Beam b{parent.h, cd.score};
        b.h.tokens.push_back(cd.token);
        b.h.token_logprobs.push_back(tok_lp);
        b.h.score = cd.score;
        beams.push_back(std::move(b));
        parents.push_back(si * K + cd.beam);
      }
      const bool at_limit = !beams.empty() && static_cast<int64_t>(beams[0].h.tokens.size()) >= limit;
      // Done when K hypotheses have ended and none of the live beams, normalised as it stands,
      // beats the best ended one. (Stopping at K ended hypotheses alone lets low-probability
      // eos candidates that slip into the top K end a sentence before its good hypothesis does.)
      bool enough = static_cast<int64_t>(s.finished.size()) >= K;
      if (enough) {
        double best_finished = -std::numeric_limits<double>::infinity();
        for (const auto& h : s.finished) best_finished = std::max(best_finished, h.normalized);
        for (const auto& b : beams)
          if (b.h.score / length_penalty(opts.alpha, b.h.token_logprobs.size()) > best_finished) enough = false;
      }
      if (enough || beams.empty() || at_limit) {
        if (s.finished.empty() || at_limit)
          for (auto& b : beams) {  // cut at the length limit: ranked like the finished ones
            b.h.normalized = b.h.score / length_penalty(opts.alpha, b.h.token_logprobs.size());
            s.finished.push_back(std::move(b.h));
          }
        auto best = std::max_element(s.finished.begin(), s.finished.end(), [](const Hypothesis& a, const Hypothesis& b) {
          return a.normalized < b.normalized;
        });
        out[s.index] = *best;
        continue;
      }
      while (static_cast<int64_t>(beams.size()) < K) {  // fewer live candidates than beams
        beams.push_back(Beam{{}, neg_inf});
        parents.push_back(parents.front());
      }
      for (int64_t k = 0; k < K; ++k) {
        rows.push_back(parents[k]);
        next.push_back(beams[k].h.tokens.empty() ? c.bos_id : beams[k].h.tokens.back());
      }
      s.beams = std::move(beams);
      still.push_back(std::move(s));
    }
    if (!still.empty()) dec.reorder(rows);
    active = std::move(still);
    tokens = std::move(next);
  }
  return out;
}

std::vector<Hypothesis> translate_batch(const Seq2SeqModel& model,
                                        const std::vector<std::vector<int32_t>>& src,
                                        const DecodeOptions& opts) {
  return opts.beam <= 1 ? greedy_search(model, src, opts) : beam_search(model, src, opts);
}

std::vector<std::vector<double>> score_batch(const Seq2SeqModel& model,
                                             const std::vector<std::vector<int32_t>>& src,
                                             const std::vector<std::vector<int32_t>>& tgt) {
  TFM_ASSERT(src.size() == tgt.size(), "score_batch: ", src.size(), " sources, ", tgt.size(), " targets");
  const Config& c = model.config();
  std::vector<std::vector<double>> out(src.size());
  if (src.empty()) return out;
  std::vector<std::vector<int32_t>> tgt_in(tgt.size()), tgt_out(tgt.size());
  for (size_t i = 0; i < tgt.size(); ++i) {
    tgt_in[i].push_back(c.bos_id);
    tgt_in[i].insert(tgt_in[i].end(), tgt[i].begin(), tgt[i].end());
    tgt_out[i] = tgt[i];
    tgt_out[i].push_back(c.eos_id);
  }
  NoGradGuard no_grad;
  ForwardContext ctx;
  Batch sb = make_batch(with_eos(src, c.eos_id), c.pad_id), tb = make_batch(tgt_in, c.pad_id);
  Tensor lp = ops::log_softmax(model.forward(sb, tb, ctx)).value();
  const int64_t T = tb.T(), V = lp.dim(-1);
  for (size_t i = 0; i < tgt.size(); ++i)
    for (size_t t = 0; t < tgt_out[i].size(); ++t) {
      TFM_CHECK(tgt_out[i][t] >= 0 && tgt_out[i][t] < V, "target id ", tgt_out[i][t],
                " is outside the vocabulary [0, ", V, ")");
      out[i].push_back(lp.item((static_cast<int64_t>(i) * T + static_cast<int64_t>(t)) * V + tgt_out[i][t]));
    }
  return out;
}

}  // namespace tfm
