// bench_engine: our side of the benchmark against PyTorch (bench/torch_bench.py is the other
// side, bench/run.py runs both and compares; bench/README.md says what is measured and why).
// One process makes one measurement and prints one JSON line on stdout, so that each
// measurement's peak resident memory is its own.
//
//   bench_engine init   --config g2p|base --out DIR [--seed S]
//       DIR/config.json, DIR/model.safetensors (our init_parameters, seeded), and the workloads
//       both sides read: DIR/train_*.txt (training batches), DIR/decode_src.txt (sources).
//   bench_engine flops  --model DIR --data FILE
//       training FLOPs and target tokens of each batch of FILE (models/flops.h convention)
//   bench_engine check  --model DIR --data FILE
//       the loss of the first batch without dropout (the sanity check against PyTorch)
//   bench_engine train  --model DIR --data FILE --threads N [--warmup W] [--steps K] [--lr X]
//       full steps (forward, backward, Adam), step i on batch i mod (batches in FILE)
//   bench_engine decode --model DIR --src FILE --threads N --batch B [--beam K] [--length L]
//                       [--iters R] [--warmup W]
//       greedy (K = 1) or beam search over the KV cache, exactly L steps (no stop at eos)
//   bench_engine gemm   --n N --threads N [--iters R]
//       the fp32 GEMM rate (oneDNN sgemm, square N) that FLOP utilisation is measured against
//   bench_engine gemm   --m M --n N --k K [--ta 0|1] [--tb 0|1] [--beta 0|1] --threads N [--iters R]
//       one product of that shape through kernels::gemm (e.g. a training step's)
//   bench_engine bandwidth --mib M --threads N [--iters R]
//       the read rate of an M MiB buffer, every thread its block: what one-sentence decoding
//       (every weight read once a step) is bound by
//
// train and decode take --precision fp32 (default) | bf16 (matrix products in bfloat16, as the
// CLI's --bf16) | int8 (decode only: int8 linear layers, as the CLI's --int8); the JSON line
// says which.
//
// Data files: one example a line, "src ids<TAB>tgt ids" (no bos/eos), a blank line between
// batches; lines starting with '#' are comments. Source files: one sentence of ids a line.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threading.h"
#include "data/corpus.h"
#include "decode/incremental.h"
#include "decode/search.h"
#include "io/config_io.h"
#include "io/safetensors.h"
#include "kernels/gemm.h"
#include "kernels/inference_linear.h"
#include "models/flops.h"
#include "train/batching.h"
#include "train/optimizer.h"

namespace {

using namespace tfm;
using json = nlohmann::json;
namespace fs = std::filesystem;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Resident memory of this process in MiB: "VmHWM" (peak) or "VmRSS" (now).
double memory_mib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(line.find(':') + 1)) / 1024.0;  // kB
  return -1;
}

// --key value pairs after the subcommand.
struct Args {
  std::map<std::string, std::string> kv;
  std::string get(const std::string& k, const std::string& fallback = "") const {
    auto it = kv.find(k);
    if (it != kv.end()) return it->second;
    TFM_CHECK(!fallback.empty(), "bench_engine: --", k, " is required");
    return fallback;
  }
  int64_t num(const std::string& k, int64_t fallback) const { return std::stoll(get(k, std::to_string(fallback))); }
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 2; i < argc; i += 2) {
    std::string k = argv[i];
    TFM_CHECK(k.rfind("--", 0) == 0 && i + 1 < argc, "bench_engine: expected --key value, got '", k, "'");
    a.kv[k.substr(2)] = argv[i + 1];
  }
  return a;
}

// ---- workloads ----

// The two model sizes of issue 4. Dropout 0.1 as trained; vocabularies: G2P characters and
// phonemes (~64 symbols), and a base-sized subword vocabulary.
Config named_config(const std::string& name) {
  Config c;
  if (name == "g2p") {
    c.d_model = 256, c.heads = 4, c.encoder_layers = 3, c.decoder_layers = 3, c.d_ff = 1024;
    c.src_vocab_size = 64, c.tgt_vocab_size = 64, c.max_len = 64;
  } else if (name == "base") {
    c.d_model = 512, c.heads = 8, c.encoder_layers = 6, c.decoder_layers = 6, c.d_ff = 2048;
    c.src_vocab_size = 8000, c.tgt_vocab_size = 8000, c.max_len = 128;
  } else {
    TFM_CHECK(false, "bench_engine: unknown config '", name, "' (expected g2p or base)");
  }
  c.dropout = 0.1;
  c.validate();
  return c;
}

std::vector<int32_t> random_ids(Rng& rng, int64_t n, int vocab) {
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = 4 + static_cast<int32_t>(rng.below(vocab - 4));  // ids below 4 are special
  return ids;
}

// Word-like lengths of G2P: 4-14 letters, about 0.85 phonemes a letter (3-12).
Example random_word(Rng& rng, const Config& c) {
  const int64_t n = 4 + static_cast<int64_t>(rng.below(11));
  const int64_t m = std::clamp<int64_t>(std::llround(0.85 * n) + static_cast<int64_t>(rng.below(5)) - 2, 3, 12);
  return {random_ids(rng, n, c.src_vocab_size), random_ids(rng, m, c.tgt_vocab_size)};
}

using Batches = std::vector<std::vector<Example>>;

void write_batches(const fs::path& path, const std::string& comment, const Batches& batches) {
  std::ofstream f(path);
  f << "# " << comment << "\n";
  auto ids = [&f](const std::vector<int32_t>& v) {
    for (size_t i = 0; i < v.size(); ++i) f << (i ? " " : "") << v[i];
  };
  for (size_t b = 0; b < batches.size(); ++b) {
    if (b) f << "\n";
    for (const Example& e : batches[b]) {
      ids(e.src);
      f << "\t";
      ids(e.tgt);
      f << "\n";
    }
  }
  TFM_CHECK(f.good(), path.string(), ": write failed");
}

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> v;
  std::istringstream in(s);
  for (int x; in >> x;) v.push_back(x);
  return v;
}

Batches read_batches(const std::string& path) {
  std::ifstream f(path);
  TFM_CHECK(f.good(), path, ": cannot read (run 'bench_engine init' first)");
  Batches out(1);
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty()) {
      if (!out.back().empty()) out.emplace_back();
      continue;
    }
    const auto tab = line.find('\t');
    TFM_CHECK(tab != std::string::npos, path, ": expected 'src<TAB>tgt', got '", line, "'");
    out.back().push_back({parse_ids(line.substr(0, tab)), parse_ids(line.substr(tab + 1))});
  }
  if (out.back().empty()) out.pop_back();
  TFM_CHECK(!out.empty(), path, ": no batches");
  return out;
}

std::vector<TrainBatch> train_batches(const Batches& batches, const Config& c) {
  std::vector<TrainBatch> out;
  for (const auto& b : batches) {
    BatchIndices idx(b.size());
    for (size_t i = 0; i < b.size(); ++i) idx[i] = static_cast<int64_t>(i);
    out.push_back(make_train_batch(b, idx, c));
  }
  return out;
}

// Training FLOPs of one batch: every row costs what its padded shape costs, since that is what
// the kernels compute (3x the forward's matmuls, attention included, embeddings excluded).
double batch_train_flops(const TrainBatch& b, const Config& c) {
  return 3.0 * static_cast<double>(b.src.B()) * estimate_flops(c, b.src.T(), b.tgt_in.T()).forward;
}

// The model of a directory written by cmd_init: config.json and model.safetensors.
struct Loaded {
  Config config;
  std::unique_ptr<Transformer> model;
};
Loaded load_model(const std::string& dir) {
  Loaded m;
  m.config = load_config(dir + "/config.json");
  m.model = std::make_unique<Transformer>(m.config);
  m.model->load_state_dict(load_safetensors(dir + "/model.safetensors"), dir + "/model.safetensors");
  return m;
}

void cmd_init(const Args& a) {
  const std::string name = a.get("config");
  const fs::path out = a.get("out");
  const uint64_t seed = static_cast<uint64_t>(a.num("seed", 1));
  const Config c = named_config(name);
  fs::create_directories(out);
  Transformer model(c);
  Rng init_rng(seed);
  model.init_parameters(init_rng);
  save_config((out / "config.json").string(), c);
  save_safetensors((out / "model.safetensors").string(), model.state_dict());

  Rng rng(seed + 1);
  json files = json::array();
  auto fixed = [&](int64_t rows, int64_t src_len, int64_t tgt_len, int64_t count) {
    Batches bs(count);
    for (auto& b : bs)
      for (int64_t r = 0; r < rows; ++r)
        b.push_back({random_ids(rng, src_len, c.src_vocab_size), random_ids(rng, tgt_len, c.tgt_vocab_size)});
    return bs;
  };
  if (name == "g2p") {
    // 64 sequences of 24 positions a side: src 23 + eos, bos + tgt 23 (targets tgt 23 + eos).
    write_batches(out / "train_fixed.txt", "g2p: 64 rows, 24 positions a side", fixed(64, 23, 23, 4));
    files.push_back("train_fixed.txt");
    // Word-like lengths packed as real G2P training packs them: shuffled chunks sorted by length,
    // about 3,000 target positions (rows x longest tgt + 1) a batch; the first 8 of the epoch.
    std::vector<Example> words;
    for (int i = 0; i < 30000; ++i) words.push_back(random_word(rng, c));
    BatchingOptions bo;
    bo.max_tokens = 3000;
    bo.budget = TokenBudget::Target;
    Batcher batcher(words, bo, c);
    Batches bs;
    for (const auto& idx : batcher.epoch(1, seed)) {
      if (bs.size() == 8) break;
      bs.emplace_back();
      for (int64_t i : idx) bs.back().push_back(batcher.examples()[i]);
    }
    write_batches(out / "train_words.txt", "g2p: word-like lengths, <= 3000 padded target tokens a batch", bs);
    files.push_back("train_words.txt");
  } else {
    // 128 rows of 32 positions a side: 4,096 target tokens a batch.
    write_batches(out / "train_fixed.txt", "base: 128 rows, 32 positions a side", fixed(128, 31, 31, 2));
    files.push_back("train_fixed.txt");
  }
  // Decoding sources: word-like for g2p, 16-31 tokens for base.
  std::ofstream src(out / "decode_src.txt");
  for (int i = 0; i < 64; ++i) {
    std::vector<int32_t> s = name == "g2p" ? random_word(rng, c).src
                                           : random_ids(rng, 16 + static_cast<int64_t>(rng.below(16)), c.src_vocab_size);
    for (size_t k = 0; k < s.size(); ++k) src << (k ? " " : "") << s[k];
    src << "\n";
  }
  std::cout << json{{"init", name}, {"dir", out.string()}, {"train_files", files}, {"seed", seed}}.dump() << "\n";
}

void cmd_flops(const Args& a) {
  Loaded m = load_model(a.get("model"));
  json flops = json::array(), tokens = json::array(), shapes = json::array();
  for (const TrainBatch& b : train_batches(read_batches(a.get("data")), m.config)) {
    flops.push_back(batch_train_flops(b, m.config));
    tokens.push_back(b.target_tokens);
    shapes.push_back({b.src.B(), b.src.T(), b.tgt_in.T()});
  }
  std::cout << json{{"train_flops", flops}, {"target_tokens", tokens}, {"shapes_B_S_T", shapes}}.dump() << "\n";
}

void cmd_check(const Args& a) {
  Loaded m = load_model(a.get("model"));
  const Config& c = m.config;
  TrainBatch b = train_batches(read_batches(a.get("data")), c).front();
  NoGradGuard no_grad;
  ForwardContext ctx;  // no dropout
  Var logits = m.model->forward(b.src, b.tgt_in, ctx);
  const double loss = ops::cross_entropy(logits, b.targets, c.pad_id, 0.1).value().item();
  std::cout << json{{"side", "ours"}, {"mode", "check"}, {"loss_no_dropout", loss}}.dump() << "\n";
}

// As Trainer::step (train/trainer.cpp) does it: forward with dropout, label-smoothed loss,
// backward, the gradient norm, an Adam update. Batches are made before the clock starts.
void cmd_train(const Args& a) {
  const double rss_start = memory_mib("VmRSS");
  Loaded m = load_model(a.get("model"));
  const Config& c = m.config;
  Transformer& model = *m.model;
  const auto batches = train_batches(read_batches(a.get("data")), c);
  const int64_t warmup = a.num("warmup", 2), steps = a.num("steps", 10);
  const double lr = std::stod(a.get("lr", "1e-4"));
  Adam adam(model);
  const std::vector<Var*> params = model.parameters();
  Rng rng(1);
  json losses = json::array(), seconds = json::array(), tokens = json::array();
  for (int64_t i = 0; i < warmup + steps; ++i) {
    const TrainBatch& b = batches[i % batches.size()];
    const double t0 = now();
    adam.zero_grad();
    ForwardContext ctx{true, &rng};
    Var logits = model.forward(b.src, b.tgt_in, ctx);
    Var loss = ops::cross_entropy(logits, b.targets, c.pad_id, 0.1);  // section 5.4: eps_ls 0.1
    const double l = loss.value().item();
    loss.backward();
    const double gn = grad_norm(params);
    adam.step(lr);
    const double dt = now() - t0;
    TFM_CHECK(std::isfinite(l) && std::isfinite(gn), "step ", i, ": loss ", l, ", gradient norm ", gn);
    losses.push_back(l);
    if (i >= warmup) {
      seconds.push_back(dt);
      tokens.push_back(b.target_tokens);
    }
  }
  std::cout << json{{"side", "ours"},       {"mode", "train"},       {"threads", num_threads()},
                    {"precision", kernels::matmul_precision() == kernels::MatmulPrecision::BF16 ? "bf16" : "fp32"},
                    {"warmup", warmup},     {"steps", steps},        {"step_seconds", seconds},
                    {"target_tokens", tokens}, {"losses", losses},   {"rss_start_mib", rss_start},
                    {"peak_rss_mib", memory_mib("VmHWM")}}
                   .dump()
            << "\n";
}

// One batch of B sentences, exactly L decoder steps from bos, greedy (K = 1) or beam search of
// width K (scores summed, no length penalty: with a fixed length it would not change the
// ranking). Returns the tokens of row 0 at every step.
std::vector<int32_t> decode_batch(const Transformer& model, const std::vector<std::vector<int32_t>>& src,
                                  int64_t K, int64_t L) {
  const Config& c = model.config();
  std::vector<std::vector<int32_t>> rows = src;
  for (auto& r : rows) r.push_back(c.eos_id);
  const int64_t B = static_cast<int64_t>(src.size()), R = B * K;
  IncrementalDecoder dec(model, make_batch(rows, c.pad_id), K, L);
  std::vector<int32_t> tokens(R, c.bos_id), first;
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::vector<double> score(R, neg_inf);
  for (int64_t r = 0; r < R; r += K) score[r] = 0;  // one live beam per sentence at the start
  for (int64_t t = 0; t < L; ++t) {
    const Tensor& lp = dec.step(tokens);
    const int64_t V = lp.dim(1);
    const float* p = lp.data<float>();
    if (K == 1) {
      for (int64_t r = 0; r < R; ++r)
        tokens[r] = static_cast<int32_t>(std::max_element(p + r * V, p + (r + 1) * V) - (p + r * V));
    } else {
      std::vector<int64_t> from(R);
      std::vector<double> next_score(R);
#pragma omp parallel for schedule(static)
      for (int64_t s = 0; s < B; ++s) {
        const std::vector<Extension> best = best_extensions(score.data() + s * K, K, p + s * K * V, V, K);
        for (int64_t k = 0; k < K; ++k) {
          from[s * K + k] = s * K + best[k].beam;
          tokens[s * K + k] = best[k].token;
          next_score[s * K + k] = best[k].score;
        }
      }
      score = std::move(next_score);
      if (t + 1 < L) dec.reorder(from);
    }
    first.push_back(tokens[0]);
  }
  return first;
}

void cmd_decode(const Args& a) {
  const double rss_start = memory_mib("VmRSS");
  Loaded m = load_model(a.get("model"));
  std::vector<std::vector<int32_t>> src;
  for (const auto& r : read_ids(a.get("src"), m.config.src_vocab_size)) src.emplace_back(r.begin(), r.end());
  const int64_t B = a.num("batch", 1), K = a.num("beam", 1), L = a.num("length", 24);
  const int64_t iters = a.num("iters", 10), warmup = a.num("warmup", 1);
  TFM_CHECK(L + 1 <= m.config.max_len, "--length ", L, " needs max_len > ", L);
  json seconds = json::array(), first;
  int64_t next = 0;  // sentences taken in turn, round the file
  for (int64_t i = 0; i < warmup + iters; ++i) {
    std::vector<std::vector<int32_t>> batch;
    for (int64_t b = 0; b < B; ++b) batch.push_back(src[next++ % src.size()]);
    const double t0 = now();
    const auto tokens = decode_batch(*m.model, batch, K, L);
    const double dt = now() - t0;
    if (i == 0) first = tokens;
    if (i >= warmup) seconds.push_back(dt);
  }
  std::cout << json{{"side", "ours"},         {"mode", "decode"},   {"variant", "kvcache"},
                    {"precision", kernels::inference_linears_active() && kernels::inference_linears_precision() == kernels::LinearPrecision::INT8 ? "int8"
                                  : kernels::matmul_precision() == kernels::MatmulPrecision::BF16 ? "bf16" : "fp32"},
                    {"threads", num_threads()}, {"batch", B},        {"beam", K},
                    {"length", L},            {"iter_seconds", seconds}, {"first_tokens", first},
                    {"rss_start_mib", rss_start}, {"peak_rss_mib", memory_mib("VmHWM")}}
                   .dump()
            << "\n";
}

// One product of a chosen shape through kernels::gemm, as the library calls it: C (M, N) =
// op(A) op(B), A (M, K) or with --ta 1 (K, M), B (K, N) or with --tb 1 (N, K); beta 1 (a gradient's
// accumulation) with --beta 1.
void cmd_gemm_shape(const Args& a) {
  const int64_t M = a.num("m", 0), N = a.num("n", 0), K = a.num("k", 0), iters = a.num("iters", 5);
  const bool ta = a.num("ta", 0) != 0, tb = a.num("tb", 0) != 0;
  const float beta = static_cast<float>(a.num("beta", 0));
  TFM_CHECK(M > 0 && N > 0 && K > 0, "bench_engine gemm: --m, --n and --k are positive sizes");
  std::vector<float> A(M * K), B(K * N), C(M * N, 0.f);
  Rng rng(7);
  for (auto& x : A) x = static_cast<float>(rng.uniform() - 0.5);
  for (auto& x : B) x = static_cast<float>(rng.uniform() - 0.5);
  auto run = [&] {
    kernels::gemm<float>(ta, tb, M, N, K, 1.f, A.data(), ta ? M : K, B.data(), tb ? K : N, beta, C.data(), N);
  };
  run();
  json seconds = json::array();
  for (int64_t i = 0; i < iters; ++i) {
    const double t0 = now();
    run();
    seconds.push_back(now() - t0);
  }
  std::cout << json{{"side", "ours"}, {"mode", "gemm"}, {"threads", num_threads()}, {"m", M}, {"n", N}, {"k", K},
                    {"ta", ta}, {"tb", tb}, {"beta", beta}, {"flops", 2.0 * M * N * K}, {"iter_seconds", seconds}}
                   .dump()
            << "\n";
}

// The read bandwidth the decoding of one sentence is bound by: every thread sums its contiguous
// block of a buffer of --mib MiB (above the cache's share: main memory), the fastest of --iters.
void cmd_bandwidth(const Args& a) {
  const int64_t mib = a.num("mib", 256), iters = a.num("iters", 10);
  TFM_CHECK(mib > 0, "bench_engine bandwidth: --mib is a positive size");
  const int64_t n = mib * (int64_t{1} << 20) / static_cast<int64_t>(sizeof(float));  // a multiple of 64
  std::vector<float> buf(n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i % 3) - 1.f;  // pages touched by their reader; sums to ~0
  json seconds = json::array();
  double total = 0;
  for (int64_t it = 0; it < iters; ++it) {
    const double t0 = now();
    float s = 0.f;
    constexpr int64_t kLanes = 64;  // independent sums, so the adds keep up with the loads
    const int64_t blocks = n / kLanes;
#pragma omp parallel reduction(+ : s)
    {
      alignas(64) float acc[kLanes] = {};
#pragma omp for schedule(static)
      for (int64_t b = 0; b < blocks; ++b) {
        const float* p = buf.data() + b * kLanes;
#pragma omp simd aligned(acc : 64)
        for (int64_t l = 0; l < kLanes; ++l) acc[l] += p[l];
      }
      for (float x : acc) s += x;
    }
    seconds.push_back(now() - t0);
    total += s;
  }
  std::cout << json{{"side", "ours"}, {"mode", "bandwidth"}, {"threads", num_threads()}, {"bytes", n * 4},
                    {"iter_seconds", seconds}, {"checksum", total}}
                   .dump()
            << "\n";
}

void cmd_gemm(const Args& a) {
  if (a.kv.count("m")) return cmd_gemm_shape(a);
  const int64_t n = a.num("n", 2048), iters = a.num("iters", 5);
  std::vector<float> A(n * n), B(n * n), C(n * n);
  Rng rng(7);
  for (auto& x : A) x = static_cast<float>(rng.uniform() - 0.5);
  for (auto& x : B) x = static_cast<float>(rng.uniform() - 0.5);
  kernels::sgemm_square(n, A.data(), B.data(), C.data());  // warm-up: pages, oneDNN's kernel choice
  json seconds = json::array();
  for (int64_t i = 0; i < iters; ++i) {
    const double t0 = now();
    kernels::sgemm_square(n, A.data(), B.data(), C.data());
    seconds.push_back(now() - t0);
  }
  std::cout << json{{"side", "ours"}, {"mode", "gemm"}, {"threads", num_threads()}, {"n", n},
                    {"flops", 2.0 * n * n * n}, {"iter_seconds", seconds}, {"peak_rss_mib", memory_mib("VmHWM")}}
                   .dump()
            << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    TFM_CHECK(argc >= 2, "usage: bench_engine init|flops|check|train|decode|gemm --key value ... (see the source)");
    const std::string cmd = argv[1];
    const Args a = parse_args(argc, argv);
    if (a.kv.count("threads")) set_num_threads(static_cast<int>(a.num("threads", 1)));
    const std::string precision = a.kv.count("precision") ? a.kv.at("precision") : "fp32";
    TFM_CHECK(precision == "fp32" || precision == "bf16" || (precision == "int8" && cmd == "decode"),
              "bench_engine: --precision is fp32, bf16 or (decode only) int8, not '", precision, "'");
    if (precision == "bf16") kernels::set_matmul_precision(kernels::MatmulPrecision::BF16);
    // Decoding prepares its weights once, as the CLI's inference commands do (packed fp32, or int8).
    std::optional<kernels::InferenceLinears> prepared;
    if (cmd == "decode" && precision != "bf16")
      prepared.emplace(precision == "int8" ? kernels::LinearPrecision::INT8 : kernels::LinearPrecision::FP32);
    if (cmd == "init") cmd_init(a);
    else if (cmd == "flops") cmd_flops(a);
    else if (cmd == "check") cmd_check(a);
    else if (cmd == "train") cmd_train(a);
    else if (cmd == "decode") cmd_decode(a);
    else if (cmd == "gemm") cmd_gemm(a);
    else if (cmd == "bandwidth") cmd_bandwidth(a);
    else TFM_CHECK(false, "bench_engine: unknown command '", cmd, "'");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine: %s\n", e.what());
    return 1;
  }
  return 0;
}
