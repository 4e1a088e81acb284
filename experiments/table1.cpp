// Table 1 of "Attention Is All You Need", measured: one layer of each kind, forward pass only,
// batch 1, one thread (the driver, experiments/table1.py, pins it and sets the threads).
//
//   layer type                   complexity per layer   sequential ops   maximum path length
//   self-attention               O(n^2 d)               O(1)             O(1)
//   recurrent                    O(n d^2)               O(n)             O(n)
//   convolutional                O(k n d^2)             O(1)             O(log_k n) dilated, O(n/k) contiguous
//   self-attention (restricted)  O(r n d)               O(1)             O(n/r)
//
// Two modes, one point per process (measure.h says why):
//   exp_table1 time --layer L --n N --d D [--k 3] [--r 128]
//       one CSV row: time of the forward (median of repeats) and its peak extra resident memory
//   exp_table1 path --layer L --n N [--d 8] [--k 3] [--r 16]
//       one CSV row: the fewest stacked layers after which output position n-1 depends on input
//       position 0, i.e. d out[n-1] / d x[0] is not exactly zero (autograd through the stack)
// Layers (the table's rows; "_layer" adds the input and output projections of a real layer):
//   self_attention        softmax(Q K^T / sqrt(dh)) V over q = k = v = x, H = max(1, d/64) heads
//                         (ops::attention: the kernel the model's layers run)
//   self_attention_layer  ScoredAttention (scaled_dot): in_proj (3d x d), attention, out_proj
//   recurrent             LSTM with d inputs and d hidden units (nn::LSTM, PyTorch's equations)
//   convolutional         1D convolution, kernel width k, d -> d channels, "same" padding (kernels/conv1d)
//   restricted            local self-attention over a neighbourhood of r positions: query blocks of
//                         r/2, each seeing its block and r/4 positions on either side (ops::local_attention)
//   restricted_layer      the same with the input and output projections
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "autograd/ops_local.h"
#include "autograd/ops_recurrent.h"
#include "core/threading.h"
#include "kernels/conv1d.h"
#include "measure.h"
#include "nn/recurrent.h"
#include "nn/scored_attention.h"

namespace tfm::experiments {
namespace {

int64_t heads_for(int64_t d) { return std::max<int64_t>(1, d / 64); }

// The restricted neighbourhood: query blocks of r/2 positions; the memory block adds r/4 on
// each side, so every query sees r positions (fewer at the ends of the sequence): r/2 on each
// side in the middle of its block, r/4 and 3r/4 at the block's edges.
kernels::LocalPattern restricted_pattern(int64_t n, int64_t r) {
  const int64_t block = std::max<int64_t>(1, r / 2), flange = std::max<int64_t>(0, r / 4);
  return kernels::LocalPattern{1, n, 1, block, 0, flange, flange, false};
}

// The 1D convolution as an autograd op (kernels/conv1d has the forward and backward), so the
// path-length probe runs the same way through every layer kind.
// x (B*T, C), w (KW, OC, C), bias (OC) -> (B*T, OC)
Var conv1d(const Var& x, const Var& w, const Var& bias, int64_t B, int64_t T) {
  const kernels::Conv1dDims d{B, T, x.value().dim(-1), w.value().dim(1), w.value().dim(0)};
  Tensor out = Tensor::empty({B * T, d.OC}, x.dtype());
  dispatch_float(x.dtype(), [&]<class S>() {
    kernels::conv1d_forward<S>(d, x.value().data<S>(), w.value().data<S>(), bias.value().data<S>(),
                               out.data<S>());
  });
  return Var::make(out, "conv1d", {x, w, bias}, [x, w, bias, d](Node& self) {
    dispatch_float(self.value.dtype(), [&]<class S>() {
      auto g = [](const Var& v) { return v.requires_grad() ? v.grad_buffer().data<S>() : nullptr; };
      kernels::conv1d_backward<S>(d, x.value().data<S>(), w.value().data<S>(), self.grad.data<S>(),
                                  g(x), g(w), g(bias));
    });
  });
}

// Multiply-adds count 2 FLOPs; what each layer's matrix products do (the softmax, the gates'
// nonlinearities and the masks are not counted).
double flops_of(const std::string& layer, double n, double d, double k, double r) {
  if (layer == "self_attention") return 4 * n * n * d;                       // Q K^T, P V
  if (layer == "self_attention_layer") return 4 * n * n * d + 8 * n * d * d; // + 4 projections
  if (layer == "recurrent") return 16 * n * d * d;                           // W_ih x, W_hh h: 4d x d each
  if (layer == "convolutional") return 2 * k * n * d * d;
  if (layer == "restricted") return 4 * n * r * d;
  if (layer == "restricted_layer") return 4 * n * r * d + 8 * n * d * d;
  throw Error("unknown layer '" + layer + "'");
}

const std::vector<std::string> kLayers = {"self_attention", "self_attention_layer", "recurrent",
                                          "convolutional",  "restricted",           "restricted_layer"};

// One layer of one size with its input and parameters, ready to run forward.
struct Point {
  std::function<void()> forward;  // empty: unknown layer
  int64_t heads = 0;
};

// Everything the forward reads is made here, before the memory baseline is read: parameters
// and input are not counted as the layer's memory, only what its forward allocates and writes.
Point make_point(const std::string& layer, int64_t n, int64_t d, int64_t k, int64_t r) {
  const int64_t B = 1, H = heads_for(d);
  Rng rng(1234);
  auto x = std::make_shared<Var>(random_tensor({B * n, d}, rng));
  Point p;
  p.heads = H;
  if (layer == "self_attention") {
    ops::AttentionArgs a;
    a.B = B, a.Tq = n, a.Tk = n, a.H = H, a.dh = d / H;
    p.forward = [x, a] { ops::attention(*x, *x, *x, a); };
  } else if (layer == "self_attention_layer" || layer == "restricted_layer") {
    auto attn = std::make_shared<ScoredAttention>(d, H, 0.0, DType::F32, AttentionKind::ScaledDot);
    randomize(*attn, rng, 1.0 / std::sqrt(double(d)));
    if (layer == "self_attention_layer") {
      p.forward = [x, attn, B, n] {
        ForwardContext ctx;
        attn->self_attention(*x, B, n, nullptr, false, ctx);
      };
    } else {
      // LocalSelfAttention offers the 1D pattern with a left flange only; the restricted
      // neighbourhood here is symmetric, so the layer is written out: in_proj, attention, out_proj.
      ops::LocalAttentionArgs a;
      a.B = B, a.H = H, a.dh = d / H, a.pattern = restricted_pattern(n, r);
      a.q_col = 0, a.k_col = d, a.v_col = 2 * d;
      p.forward = [x, attn, a] {
        Var qkv = ops::linear(*x, attn->in_proj_weight, attn->in_proj_bias);
        attn->out_proj.forward(ops::local_attention(qkv, qkv, qkv, a));
      };
    }
  } else if (layer == "recurrent") {
    auto lstm = std::make_shared<LSTM>(d, d, DType::F32);
    lstm->reset_parameters(rng);
    auto x3 = std::make_shared<Var>(x->value().reshape({B, n, d}));
    const std::vector<int32_t> lengths(B, static_cast<int32_t>(n));
    p.forward = [x3, lstm, lengths] { lstm->forward(*x3, lengths); };
  } else if (layer == "convolutional") {
    Var w(random_tensor({k, d, d}, rng, 1.0 / std::sqrt(double(k * d))));
    Var b(random_tensor({d}, rng, 0.1));
    p.forward = [x, w, b, B, n] { conv1d(*x, w, b, B, n); };
  } else if (layer == "restricted") {
    ops::LocalAttentionArgs a;
    a.B = B, a.H = H, a.dh = d / H, a.pattern = restricted_pattern(n, r);
    p.forward = [x, a] { ops::local_attention(*x, *x, *x, a); };
  }
  return p;
}

int run_time(int argc, char** argv) {
  const std::string layer = arg_str(argc, argv, "--layer", "");
  const int64_t n = arg_int(argc, argv, "--n", 256), d = arg_int(argc, argv, "--d", 256);
  const int64_t k = arg_int(argc, argv, "--k", 3), r = arg_int(argc, argv, "--r", 128);
  const double budget = static_cast<double>(arg_int(argc, argv, "--budget-ms", 1500)) / 1000.0;
  NoGradGuard no_grad;  // forward pass only: no tape, nothing saved for a backward
  {
    // Warm-up at a small size (large enough that the products go to oneDNN, not the plain loop
    // of kernels/gemm.cpp): the first call of a kernel pages in its code and oneDNN writes its
    // JIT kernels (a few MB of resident memory that would otherwise count as the layer's).
    Point warm = make_point(layer, std::min<int64_t>(n, 128), d, k, r);
    if (!warm.forward) {
      std::cerr << "unknown --layer '" << layer << "'; one of:";
      for (const auto& l : kLayers) std::cerr << " " << l;
      std::cerr << "\n";
      return 2;
    }
    warm.forward();
  }
  Point p = make_point(layer, n, d, k, r);
  const int64_t peak = peak_extra_bytes(p.forward);  // the first call at this size
  const Timing t = time_median(p.forward, 3, 25, budget);
  const double flops = flops_of(layer, double(n), double(d), double(k), double(r));
  // layer,n,d,k,r,heads,threads,reps,median_s,min_s,peak_extra_bytes,flops,gflops,wall_median_s
  // (times: CPU seconds of the process, measure.h; gflops from the CPU-time median)
  std::printf("%s,%ld,%ld,%ld,%ld,%ld,%d,%d,%.6e,%.6e,%ld,%.6e,%.3f,%.6e\n", layer.c_str(), long(n),
              long(d), long(k), long(r), long(p.heads), num_threads(), t.reps, t.median_s, t.min_s,
              long(peak), flops, flops / t.median_s * 1e-9, t.wall_median_s);
  return 0;
}

// Whether d out[n-1] / d x[0] has a non-zero element after a stack of L layers (float64; random
// weights; exact zeros are structural: masked scores are exp(-inf) = 0, padding taps are skipped).
bool last_depends_on_first(const std::string& layer, int64_t n, int64_t d, int64_t k, int64_t r,
                           int64_t L) {
  Rng rng(99);
  Var x(random_tensor({n, d}, rng, 1.0, DType::F64), true);
  Var y = x;
  for (int64_t l = 0; l < L; ++l) {
    if (layer == "self_attention") {
      ops::AttentionArgs a;
      a.B = 1, a.Tq = n, a.Tk = n, a.H = 1, a.dh = d;
      y = ops::attention(y, y, y, a);
    } else if (layer == "restricted") {
      ops::LocalAttentionArgs a;
      a.B = 1, a.H = 1, a.dh = d, a.pattern = restricted_pattern(n, r);
      y = ops::local_attention(y, y, y, a);
    } else if (layer == "convolutional") {
      Var w(random_tensor({k, d, d}, rng, 1.0 / std::sqrt(double(k * d)), DType::F64));
      Var b(random_tensor({d}, rng, 0.1, DType::F64));
      y = conv1d(y, w, b, 1, n);
    } else {
      throw Error("unknown layer '" + layer + "' for path");
    }
  }
  Tensor probe = Tensor::zeros({n, d}, DType::F64);
  for (int64_t c = 0; c < d; ++c) probe.data<double>()[(n - 1) * d + c] = 1.0;  // sum of out[n-1, :]
  ops::weighted_sum(y, probe).backward();
  if (!x.grad().defined()) return false;
  for (int64_t c = 0; c < d; ++c)
    if (x.grad().data<double>()[c] != 0.0) return true;
  return false;
}

// The LSTM reads x as (B, T, I): the stack keeps that shape from the start.
bool recurrent_last_depends_on_first(int64_t n, int64_t d, int64_t L) {
  Rng rng(99);
  Var x(random_tensor({1, n, d}, rng, 1.0, DType::F64), true);
  Var y = x;
  const double s = 1.0 / std::sqrt(double(d));
  for (int64_t l = 0; l < L; ++l) {
    ops::RecurrentWeights w{Var(random_tensor({4 * d, d}, rng, s, DType::F64)),
                            Var(random_tensor({4 * d, d}, rng, s, DType::F64)),
                            Var(random_tensor({4 * d}, rng, s, DType::F64)),
                            Var(random_tensor({4 * d}, rng, s, DType::F64))};
    y = ops::lstm(y, {static_cast<int32_t>(n)}, w).out;
  }
  Tensor probe = Tensor::zeros({1, n, d}, DType::F64);
  for (int64_t c = 0; c < d; ++c) probe.data<double>()[(n - 1) * d + c] = 1.0;
  ops::weighted_sum(y, probe).backward();
  if (!x.grad().defined()) return false;
  for (int64_t c = 0; c < d; ++c)
    if (x.grad().data<double>()[c] != 0.0) return true;
  return false;
}

int run_path(int argc, char** argv) {
  const std::string layer = arg_str(argc, argv, "--layer", "");
  const int64_t n = arg_int(argc, argv, "--n", 64), d = arg_int(argc, argv, "--d", 8);
  const int64_t k = arg_int(argc, argv, "--k", 3), r = arg_int(argc, argv, "--r", 16);
  const int64_t max_layers = arg_int(argc, argv, "--max-layers", 4 * n);
  auto depends = [&](int64_t L) {
    return layer == "recurrent" ? recurrent_last_depends_on_first(n, d, L)
                                : last_depends_on_first(layer, n, d, k, r, L);
  };
  // Dependence is monotone in depth (each layer's receptive field contains its own position),
  // so double until it appears, then bisect: the fewest layers L with depends(L).
  int64_t lo = 0, hi = 1;  // invariant: !depends(lo) (depth 0 only sees itself)
  while (hi < max_layers && !depends(hi)) lo = hi, hi *= 2;
  hi = std::min(hi, max_layers);
  int64_t found = -1;
  if (depends(hi)) {
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      (depends(mid) ? hi : lo) = mid;
    }
    found = hi;
  }
  // layer,n,d,k,r,layers_needed (-1: not within max_layers)
  std::printf("%s,%ld,%ld,%ld,%ld,%ld\n", layer.c_str(), long(n), long(d), long(k), long(r), long(found));
  return 0;
}

}  // namespace
}  // namespace tfm::experiments

int main(int argc, char** argv) {
  using namespace tfm::experiments;
  const char* usage =
      "usage: exp_table1 time --layer L --n N --d D [--k 3] [--r 128] [--threads 1] [--budget-ms 1500]\n"
      "       exp_table1 path --layer L --n N [--d 8] [--k 3] [--r 16] [--max-layers 4n]\n";
  if (argc < 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  try {
    tfm::set_num_threads(static_cast<int>(arg_int(argc, argv, "--threads", 1)));
    if (std::strcmp(argv[1], "time") == 0) return run_time(argc, argv);
    if (std::strcmp(argv[1], "path") == 0) return run_path(argc, argv);
    std::fputs(usage, stderr);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exp_table1: %s\n", e.what());
    return 1;
  }
}
