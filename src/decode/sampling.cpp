#include "decode/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "decode/step_decoder.h"

namespace tfm {

void SampleOptions::validate() const {
  TFM_CHECK(temperature > 0 && std::isfinite(temperature), "sampling: temperature must be positive, got ",
            temperature);
  TFM_CHECK(top_k >= 0, "sampling: top-k must be 0 (no limit) or positive, got ", top_k);
  TFM_CHECK(top_p > 0 && top_p <= 1, "sampling: top-p must be in (0, 1], got ", top_p);
  TFM_CHECK(max_tokens >= 1, "sampling: max-tokens must be at least 1, got ", max_tokens);
}

std::vector<double> sampling_distribution(const float* logprobs, int64_t V, const SampleOptions& o) {
  std::vector<double> p(V);
  double top = -INFINITY;
  for (int64_t i = 0; i < V; ++i) top = std::max(top, static_cast<double>(logprobs[i]));
  for (int64_t i = 0; i < V; ++i) p[i] = std::exp((logprobs[i] - top) / o.temperature);
  // Most probable first; ties by id, so the kept set is well defined.
  std::vector<int64_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  int64_t keep = V;
  if (o.top_k > 0) keep = std::min<int64_t>(keep, o.top_k);
  if (o.top_p < 1) {
    double total = 0;
    for (int64_t i = 0; i < keep; ++i) total += p[order[i]];
    double mass = 0;
    for (int64_t i = 0; i < keep; ++i) {
      mass += p[order[i]];
      if (mass >= o.top_p * total) {
        keep = i + 1;
        break;
      }
    }
  }
  double total = 0;
  for (int64_t i = 0; i < keep; ++i) total += p[order[i]];
  std::vector<double> out(V, 0.0);
  for (int64_t i = 0; i < keep; ++i) out[order[i]] = p[order[i]] / total;
  return out;
}

int32_t sample_token(const float* logprobs, int64_t V, const SampleOptions& o, Rng& rng) {
  const std::vector<double> p = sampling_distribution(logprobs, V, o);
  const double u = rng.uniform();
  double cum = 0;
  int32_t last = 0;
  for (int64_t i = 0; i < V; ++i) {
    if (p[i] == 0) continue;
    cum += p[i];
    last = static_cast<int32_t>(i);
    if (u < cum) return last;
  }
  return last;  // rounding left u just above the total
}

std::vector<Hypothesis> sample_sequences(const Seq2SeqModel& model, const std::vector<std::vector<int32_t>>& prompts,
                                         const std::vector<std::vector<int32_t>>& src, const SampleOptions& o,
                                         uint64_t first_stream) {
  o.validate();
  const Config& c = model.config();
  const size_t N = prompts.size();
  std::vector<Hypothesis> out(N);
  if (N == 0) return out;
  TFM_CHECK(!model.has_source() || src.size() == N, "sampling: ", N, " prompts but ", src.size(), " sources");
  int64_t longest_prompt = 0;
  for (const auto& p : prompts) longest_prompt = std::max<int64_t>(longest_prompt, static_cast<int64_t>(p.size()));
  // Input positions: bos, the prompt, then generated tokens; at most max_len of them.
  const int64_t steps = std::min<int64_t>(c.max_len, longest_prompt + o.max_tokens);
  TFM_CHECK(longest_prompt < c.max_len, "sampling: a prompt of ", longest_prompt, " tokens leaves no room in max_len ",
            c.max_len);
  std::vector<std::vector<int32_t>> rows_src;
  if (model.has_source()) {
    rows_src = src;
    for (auto& s : rows_src) s.push_back(c.eos_id);
  } else {
    rows_src.assign(N, {c.eos_id});  // only the row count matters
  }
  auto decoder = make_step_decoder(model, make_batch(rows_src, c.pad_id), 1, steps);
  std::vector<Rng> rngs;
  for (size_t i = 0; i < N; ++i) rngs.emplace_back(Rng(o.seed).at(first_stream + i));
  std::vector<int64_t> active(N);  // row -> sequence
  std::iota(active.begin(), active.end(), 0);
  std::vector<int32_t> tokens(N, c.bos_id);
  for (int64_t t = 0; !active.empty(); ++t) {
    const Tensor& lp = decoder->step(tokens);
    const int64_t V = lp.dim(1);
    std::vector<int64_t> keep_rows, still;
    std::vector<int32_t> next;
    for (size_t r = 0; r < active.size(); ++r) {
      const int64_t i = active[r];
      const float* row = lp.data<float>() + r * V;
      Hypothesis& h = out[i];
      int32_t tok;
      const bool forced = t < static_cast<int64_t>(prompts[i].size());
      if (forced) {
        tok = prompts[i][t];
      } else {
        tok = sample_token(row, V, o, rngs[i]);
        h.token_logprobs.push_back(row[tok]);
        h.score += row[tok];
        if (tok == c.eos_id) {
          h.finished = true;
          continue;
        }
        h.tokens.push_back(tok);
        if (static_cast<int64_t>(h.tokens.size()) >= o.max_tokens) continue;
      }
      if (t + 1 >= steps) continue;  // no room for another input position
      keep_rows.push_back(static_cast<int64_t>(r));
      still.push_back(i);
      next.push_back(tok);
    }
    if (still.size() != active.size() && !still.empty()) decoder->reorder(keep_rows);
    active = std::move(still);
    tokens = std::move(next);
  }
  for (auto& h : out) h.normalized = h.score;
  return out;
}

}  // namespace tfm
