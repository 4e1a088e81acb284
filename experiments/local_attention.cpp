// Local attention at length (issue 3, claim 4): time and peak memory of one masked (decoder)
// self-attention layer, full vs local, as the sequence grows; forward pass only, batch 1.
//
//   full   ScoredAttention::self_attention(causal): the layer of the decoder; its kernel computes
//          an n x n score matrix per head (softmax(Q K^T / sqrt(dh)) with the causal mask)
//   local  LocalSelfAttention, 1D, masked (Parmar et al., 2018, section 3.2): query blocks of
//          `block` positions attend to themselves and the `flange` positions before them, so
//          nothing of size n x n exists: O(n * (block + flange) * d)
// Both layers have the same parameters (nn.MultiheadAttention's); they get the same values.
//
// One point per process (measure.h says why):
//   exp_local_attention --kind full|local --n N [--d 256] [--heads 4] [--block 256] [--flange 256]
//                       [--tape 0|1] [--threads 1]
// --tape 1 runs the forward with the autograd tape on (x requires a gradient), i.e. keeping what
// a training step's backward needs: full keeps the (B, H, n, n) probabilities, local keeps
// (B, H, n/block, block * (block + flange)). --tape 0 is inference: full still computes one
// n x n matrix at a time (one per thread), local one block x (block + flange).
// Prints one CSV row (see the header in experiments/local_attention.py).
#include <cstring>
#include <memory>
#include <string>

#include "core/threading.h"
#include "measure.h"
#include "nn/local_attention.h"
#include "nn/scored_attention.h"

namespace tfm::experiments {
namespace {

// What the attention kernels themselves hold at their peak, in bytes (float32), from their
// code: the model the measured resident memory is compared with.
//   full, tape:      probs (B, H, n, n) saved
//   full, no tape:   one (n, n) score matrix per thread
//   local, tape:     probs (B, H, nblocks, Qb * M) saved + per-thread scratch
//   local, no tape:  per-thread scratch (Q, O, K, V blocks and one Qb x M score block)
int64_t attention_bytes(const std::string& kind, bool tape, int64_t B, int64_t H, int64_t n,
                        int64_t dh, const kernels::LocalPattern& p, int threads) {
  if (kind == "full") return 4 * (tape ? B * H * n * n : threads * n * n);
  const int64_t scratch = threads * kernels::local_forward_scratch(p, dh);
  return 4 * ((tape ? B * H * kernels::local_probs_per_head(p) : 0) + scratch);
}

int run(int argc, char** argv) {
  const std::string kind = arg_str(argc, argv, "--kind", "");
  const int64_t n = arg_int(argc, argv, "--n", 1024), d = arg_int(argc, argv, "--d", 256);
  const int64_t H = arg_int(argc, argv, "--heads", 4), block = arg_int(argc, argv, "--block", 256);
  const int64_t flange = arg_int(argc, argv, "--flange", block);
  const bool tape = arg_int(argc, argv, "--tape", 0) != 0;
  const double budget = static_cast<double>(arg_int(argc, argv, "--budget-ms", 2000)) / 1000.0;
  TFM_CHECK(kind == "full" || kind == "local", "--kind must be full or local, got '", kind, "'");
  const int64_t B = 1;

  Rng rng(4321);
  ScoredAttention full(d, H, 0.0, DType::F32, AttentionKind::ScaledDot);
  LocalAttentionOptions o;
  o.masked = true, o.query_block = block, o.memory_flange = flange;
  LocalSelfAttention local(d, H, o, 0.0, DType::F32);
  randomize(full, rng, 1.0 / std::sqrt(double(d)));
  local.load_state_dict(full.state_dict(), "the full layer");
  ForwardContext ctx;  // not training: no dropout
  auto forward_at = [&](const Var& input, int64_t len) {
    if (kind == "full") full.self_attention(input, B, len, nullptr, /*causal=*/true, ctx);
    else local.forward(input, B, len, nullptr, ctx);
  };
  // NoGradGuard for inference; with the tape the forward records what a backward would need.
  auto grad_mode = [&] { return tape ? std::unique_ptr<NoGradGuard>() : std::make_unique<NoGradGuard>(); };
  {
    // Warm-up at a small size (large enough that the products go to oneDNN, not the plain loop
    // of kernels/gemm.cpp): the first call pages in the kernels' code and oneDNN writes its
    // JIT kernels (a few MB of resident memory that would otherwise count as the layer's).
    auto g = grad_mode();
    forward_at(Var(random_tensor({B * 128, d}, rng), tape), 128);
  }
  Var x(random_tensor({B * n, d}, rng), tape);
  // The Var each call returns (and, with the tape, what it saved) dies at the end of the call.
  const std::function<void()> forward = [&] { forward_at(x, n); };
  int64_t peak = 0;
  {
    auto g = grad_mode();
    peak = peak_extra_bytes(forward);  // the first call at this size
  }
  Timing t;
  {
    auto g = grad_mode();
    t = time_median(forward, 3, 15, budget);
  }
  const kernels::LocalPattern p = local.pattern(n);
  const int64_t model = attention_bytes(kind, tape, B, H, n, d / H, p, num_threads());
  // kind,n,d,heads,block,flange,tape,threads,reps,median_s,min_s,peak_extra_bytes,attention_bytes,
  // vmhwm_bytes,wall_median_s  (times: CPU seconds of the process, measure.h)
  std::printf("%s,%ld,%ld,%ld,%ld,%ld,%d,%d,%d,%.6e,%.6e,%ld,%ld,%ld,%.6e\n", kind.c_str(), long(n),
              long(d), long(H), long(block), long(flange), tape ? 1 : 0, num_threads(), t.reps,
              t.median_s, t.min_s, long(peak), long(model), long(proc_status_bytes("VmHWM")),
              t.wall_median_s);
  return 0;
}

}  // namespace
}  // namespace tfm::experiments

int main(int argc, char** argv) {
  try {
    tfm::set_num_threads(static_cast<int>(tfm::experiments::arg_int(argc, argv, "--threads", 1)));
    return tfm::experiments::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exp_local_attention: %s\n", e.what());
    return 1;
  }
}
