#include "kernels/inference_linear.h"

#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/simd.h"

#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace tfm::kernels {

namespace {

// GCC 12 warns that the "undefined" pass-through operand of the AVX-512 min/max/convert
// intrinsics may be used uninitialized once they are inlined into an OpenMP region; it is never
// read (the intrinsics are unmasked).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// Per-row symmetric quantization of a (rows, cols) float matrix: scale[r] = max |x[r, :]| / 127
// (1 for an all-zero row), q[r, c] = round(x[r, c] / scale[r]).
void quantize_rows(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale) {
#pragma omp parallel for schedule(static) if (rows * cols > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float amax = 0.f;
    for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::abs(xr[c]));
    const float s = amax > 0.f ? amax / 127.f : 1.f;
    scale[r] = s;
    const float inv = 1.f / s;
    int8_t* qr = q + r * cols;
    int64_t c = 0;
#if defined(__AVX512F__)
    const __m512 vinv = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
    for (; c + 16 <= cols; c += 16) {
      __m512 v = _mm512_mul_ps(_mm512_loadu_ps(xr + c), vinv);
      v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
      const __m512i i32 = _mm512_cvtps_epi32(v);  // round to nearest even
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qr + c), _mm512_cvtsepi32_epi8(i32));
    }
#endif
    for (; c < cols; ++c) qr[c] = quantize_int8(xr[c], inv);
  }
}
#pragma GCC diagnostic pop

// A weight matrix (OC, C) prepared for the matmul primitives: INT8 quantizes it per output
// channel; both reorder it into the layout the primitive asks for.
struct PreparedWeights {
  std::vector<float> scale;   // INT8: OC
  std::vector<int8_t> plain;  // INT8: (OC, C) row-major, kept to repack for another layout
  dnnl::memory packed;
};

struct State {
  explicit State(LinearPrecision p) : precision(p) {}
  LinearPrecision precision;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
  std::map<std::tuple<const float*, int64_t, int64_t>, PreparedWeights> weights;
  std::map<std::tuple<const float*, int64_t, int64_t>, std::vector<float>> transposed;
  std::map<std::tuple<const float*, int64_t, int64_t, int64_t, int64_t>, std::vector<float>> panels;  // (B, K, N, sk, sn)
  std::map<std::tuple<const float*, int64_t, int64_t, float, const float*, int64_t, const float*>, std::vector<float>>
      table_products;  // (E, n, C, scale, W, OC, b)
  // One primitive per shape and bias; bounded, since batch sizes vary.
  struct Kernel {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul matmul;
  };
  std::map<std::tuple<int64_t, int64_t, int64_t, bool>, Kernel> kernels;  // (M, N, K, bias inside)
};

std::atomic<State*> g_state{nullptr};
constexpr size_t kMaxPrimitives = 512;
constexpr int64_t kAliasingStride = 512;  // floats: 2 KiB
constexpr int64_t kRowPadding = 16;       // floats: a cache line

}  // namespace

// y (N, OC) = x (N, C) W^T + b for N < 4 (decoding one sentence): each output is a dot product
// of a row of W with x, so W streams through once, row by row, and every row is used for all N
// inputs while it is in cache. The rows of W are split evenly over the threads in one parallel
// loop (sgemm's matrix-vector kernel split them unevenly here and cost a dispatch per call);
// the bias is added in the same pass.
// Each thread takes one contiguous block of rows (thread_block), so its part of W is a single
// stream, and prefetches kPrefetchAhead floats ahead of its reads: W (11 MB for the G2P decoder)
// does not fit the L2 caches, and the hardware prefetcher alone, restarting at every 4 KiB page,
// left bandwidth from L3 unused (batch-1 greedy decoding on the Xeon: 12.4 -> 10.5 ms a sentence,
// with 512 and 2048 floats ahead in between; a chunked dynamic schedule with the prefetch: no gain).
// The AVX2 path (CPUs without AVX-512) has no software prefetch: on the AMD EPYC host it made
// one-sentence base decoding 15% slower (95.7 against 81.7 ms, bench/README.md's log), g2p the same.
constexpr int64_t kPrefetchAhead = 1024;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // _mm512_reduce_add_ps: see quantize_rows
void matrix_vector_rows(const float* x, int64_t N, int64_t C, const float* W, int64_t o_begin, int64_t o_end,
                        const float* b, float* y, int64_t ldy) {
  for (int64_t o = o_begin; o < o_end; ++o) {
    const float* w = W + o * C;
    for (int64_t n = 0; n < N; ++n) {
      const float* xn = x + n * C;
      float s = 0.f;
      int64_t c = 0;
#if defined(__AVX512F__)
      __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
      for (; c + 32 <= C; c += 32) {
        if (n == 0) {
          _mm_prefetch(reinterpret_cast<const char*>(w + c + kPrefetchAhead), _MM_HINT_T0);
          _mm_prefetch(reinterpret_cast<const char*>(w + c + kPrefetchAhead + 16), _MM_HINT_T0);
        }
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + c), _mm512_loadu_ps(xn + c), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + c + 16), _mm512_loadu_ps(xn + c + 16), acc1);
      }
      for (; c + 16 <= C; c += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + c), _mm512_loadu_ps(xn + c), acc0);
      s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__) && defined(__FMA__)
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      for (; c + 16 <= C; c += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(xn + c), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 8), _mm256_loadu_ps(xn + c + 8), acc1);
      }
      for (; c + 8 <= C; c += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(xn + c), acc0);
      s = horizontal_sum(_mm256_add_ps(acc0, acc1));
#endif
      for (; c < C; ++c) s += w[c] * xn[c];
      y[n * ldy + o] = b ? s + b[o] : s;
    }
  }
}
#pragma GCC diagnostic pop

void matrix_vector_in_team(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b,
                           float* y) {
  const auto [begin, end] = thread_block(OC);
  matrix_vector_rows(x, N, C, W, begin, end, b, y, OC);
#pragma omp barrier
}

namespace {
// The same product in a parallel region of its own, unless it is too small to share.
void matrix_vector(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b, float* y) {
#pragma omp parallel if (OC * C >= (1 << 15))
  matrix_vector_in_team(x, N, C, W, OC, b, y);
}
}  // namespace

#if !defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)
#define TFM_FEW_ROWS_PANELS 1
namespace {
// B (K, N), element (k, n) at B[k * sk + n * sn], as ceil(N / 16) panels of (K, 16): panel p,
// row k holds B[k, 16 p .. 16 p + 15] (zeros past N). A weight W (OC, C) is B = W^T: sk 1, sn C.
std::vector<float> pack_panels(const float* B, int64_t K, int64_t N, int64_t sk, int64_t sn) {
  const int64_t panels = (N + 15) / 16;
  std::vector<float> packed(static_cast<size_t>(panels * K * 16), 0.f);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t n = p * 16; n < std::min(N, p * 16 + 16); ++n)
      for (int64_t k = 0; k < K; ++k) packed[(p * K + k) * 16 + n - p * 16] = B[k * sk + n * sn];
  return packed;
}

// Rows [0, R) x 16 columns of y (at stride ldy) over c in [c0, c1): the sums so far are read from
// y unless c0 = 0, the bias b (16 floats) is added when c1 = C. 2R accumulators in registers
// (named: GCC kept an array of them in memory, at half the rate); each x[r, c] loaded once for
// both halves of the panel's row. With `prefetch`, the line of the next block of the stream at
// the same offset is asked into L2 at every c: each block of W is then read from memory while
// the previous one is multiplied (without it: 75-80 GFLOP/s at 24 rows, the pace of one thread's
// memory stream; with it 130-165).
template <int R>
void panel_tile(const float* x, int64_t ldx, const float* panel, int64_t c0, int64_t c1, int64_t C, float* y,
                int64_t ldy, const float* b, const float* prefetch) {
  static_assert(R >= 1 && R <= 6);
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00,
         a40 = a00, a41 = a00, a50 = a00, a51 = a00;
#define TFM_ROW(r, v0, v1, body) \
  if constexpr (R > r) {         \
    body(r, v0, v1)              \
  }
#define TFM_ROWS(body)                                                                                             \
  TFM_ROW(0, a00, a01, body) TFM_ROW(1, a10, a11, body) TFM_ROW(2, a20, a21, body) TFM_ROW(3, a30, a31, body) \
  TFM_ROW(4, a40, a41, body) TFM_ROW(5, a50, a51, body)
#define TFM_LOAD(r, v0, v1) v0 = _mm256_loadu_ps(y + r * ldy), v1 = _mm256_loadu_ps(y + r * ldy + 8);
#define TFM_FMA(r, v0, v1)                                 \
  {                                                        \
    const __m256 xr = _mm256_broadcast_ss(xc + r * ldx);   \
    v0 = _mm256_fmadd_ps(xr, w0, v0);                      \
    v1 = _mm256_fmadd_ps(xr, w1, v1);                      \
  }
#define TFM_BIAS(r, v0, v1) v0 = _mm256_add_ps(v0, b0), v1 = _mm256_add_ps(v1, b1);
#define TFM_STORE(r, v0, v1) _mm256_storeu_ps(y + r * ldy, v0), _mm256_storeu_ps(y + r * ldy + 8, v1);
  if (c0 > 0) {
    TFM_ROWS(TFM_LOAD)
  }
  const float* xc = x + c0;
  for (int64_t c = c0; c < c1; ++c, ++xc) {
    const __m256 w0 = _mm256_loadu_ps(panel + c * 16), w1 = _mm256_loadu_ps(panel + c * 16 + 8);
    if (prefetch) _mm_prefetch(reinterpret_cast<const char*>(prefetch + (c - c0) * 16), _MM_HINT_T1);
    TFM_ROWS(TFM_FMA)
  }
  if (c1 == C && b) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    TFM_ROWS(TFM_BIAS)
  }
  TFM_ROWS(TFM_STORE)
#undef TFM_ROW
#undef TFM_ROWS
#undef TFM_LOAD
#undef TFM_FMA
#undef TFM_BIAS
#undef TFM_STORE
}

}  // namespace

// y (N, OC) = x (N, C) B + b from B's panels. The threads share the panels in contiguous blocks;
// each walks its block in steps of kPanelBlock rows of C (16 KB, in L1 with the 6 rows of x it
// meets), computing all N rows of y against it, 6 at a time, before the next: a step's first
// tile prefetches the next step's block.
constexpr int64_t kPanelBlock = 256;
void panels_product(const float* x, int64_t ldx, int64_t N, int64_t C, const float* packed, int64_t OC,
                    const float* b, float* y, int64_t ldy) {
  const int64_t panels = (OC + 15) / 16;
#pragma omp parallel if (N * C * OC >= (1 << 17))
  {
    const auto [p_begin, p_end] = thread_block(panels);
    const float* stream_end = packed + p_end * C * 16;
    thread_local std::vector<float> scratch;  // the last panel's outputs when OC is not a multiple of 16
    float bias[16];
    for (int64_t p = p_begin; p < p_end; ++p) {
      const float* panel = packed + p * C * 16;
      const bool partial = p * 16 + 16 > OC;
      if (partial) scratch.resize(static_cast<size_t>(N * 16));
      float* out = partial ? scratch.data() : y + p * 16;
      const int64_t ld = partial ? 16 : ldy;
      const float* bp = b ? b + p * 16 : nullptr;
      if (partial && b) {
        std::fill(bias, bias + 16, 0.f);
        std::copy(b + p * 16, b + OC, bias);
        bp = bias;
      }
      for (int64_t c0 = 0; c0 < C; c0 += kPanelBlock) {
        const int64_t c1 = std::min(C, c0 + kPanelBlock);
        const float* next = panel + c1 * 16;  // the next block: of this panel, or the next panel's first
        const float* prefetch = next + (c1 - c0) * 16 <= stream_end ? next : nullptr;
        int64_t r = 0;
        for (; r + 6 <= N; r += 6, prefetch = nullptr)
          panel_tile<6>(x + r * ldx, ldx, panel, c0, c1, C, out + r * ld, ld, bp, prefetch);
        const float* xr = x + r * ldx;
        float* yr = out + r * ld;
        switch (N - r) {
          case 5: panel_tile<5>(xr, ldx, panel, c0, c1, C, yr, ld, bp, prefetch); break;
          case 4: panel_tile<4>(xr, ldx, panel, c0, c1, C, yr, ld, bp, prefetch); break;
          case 3: panel_tile<3>(xr, ldx, panel, c0, c1, C, yr, ld, bp, prefetch); break;
          case 2: panel_tile<2>(xr, ldx, panel, c0, c1, C, yr, ld, bp, prefetch); break;
          case 1: panel_tile<1>(xr, ldx, panel, c0, c1, C, yr, ld, bp, prefetch); break;
          default: break;
        }
      }
      if (partial)
        for (int64_t n = 0; n < N; ++n)
          std::copy(scratch.data() + n * 16, scratch.data() + n * 16 + OC - p * 16, y + n * ldy + p * 16);
    }
  }
}
#endif

bool few_rows_panels_available() {
#ifdef TFM_FEW_ROWS_PANELS
  return true;
#else
  return false;
#endif
}

const float* inference_panels(const float* B, int64_t K, int64_t N, int64_t sk, int64_t sn) {
  TFM_ASSERT(few_rows_panels_available(), "inference_panels: no few-rows kernel in this build");
  State* st = g_state.load();
  TFM_ASSERT(st, "inference_panels without an InferenceLinears");
  std::lock_guard<std::mutex> lock(st->mutex);
  std::vector<float>& p = st->panels[{B, K, N, sk, sn}];
#ifdef TFM_FEW_ROWS_PANELS
  if (p.empty()) p = pack_panels(B, K, N, sk, sn);
#endif
  return p.data();
}

#ifndef TFM_FEW_ROWS_PANELS
void panels_product(const float*, int64_t, int64_t, int64_t, const float*, int64_t, const float*, float*, int64_t) {
  TFM_ASSERT(false, "panels_product: no few-rows kernel in this build");
}
#endif

int8_t quantize_int8(float x, float inv_scale) {
  const float v = std::clamp(x * inv_scale, -127.f, 127.f);
  return static_cast<int8_t>(std::nearbyint(v));
}

bool int8_supported() {
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  const auto vnni512 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_vnni);
  const auto vnni256 = static_cast<unsigned>(dnnl_cpu_isa_avx2_vnni);
  return (isa & vnni512) == vnni512 || (isa & vnni256) == vnni256;
}

InferenceLinears::InferenceLinears(LinearPrecision p) {
  TFM_CHECK(p != LinearPrecision::INT8 || int8_supported(),
            "int8 inference needs a CPU with VNNI (AVX512_VNNI or AVX-VNNI), which oneDNN does not find "
            "on this machine (effective ISA code 0x", std::hex, static_cast<unsigned>(dnnl_get_effective_cpu_isa()), ")");
  State* expected = nullptr;
  auto* s = new State(p);
  if (!g_state.compare_exchange_strong(expected, s)) {
    delete s;
    throw Error("prepared inference weights are already on in this process");
  }
}

InferenceLinears::~InferenceLinears() { delete g_state.exchange(nullptr); }

bool inference_linears_active() { return g_state.load() != nullptr; }

const float* inference_transposed(const float* W, int64_t rows, int64_t cols) {
  State* st = g_state.load();
  TFM_ASSERT(st, "inference_transposed without an InferenceLinears");
  std::lock_guard<std::mutex> lock(st->mutex);
  std::vector<float>& t = st->transposed[{W, rows, cols}];
  if (t.empty()) {
    t.resize(static_cast<size_t>(rows * cols));
    constexpr int64_t kTile = 32;  // tiles, so both sides stay in cache
    for (int64_t r0 = 0; r0 < rows; r0 += kTile)
      for (int64_t c0 = 0; c0 < cols; c0 += kTile)
        for (int64_t r = r0; r < std::min(rows, r0 + kTile); ++r)
          for (int64_t c = c0; c < std::min(cols, c0 + kTile); ++c) t[c * rows + r] = W[r * cols + c];
  }
  return t.data();
}

const float* inference_table_product(const float* E, int64_t n, int64_t C, float scale, const float* W, int64_t OC,
                                     const float* b) {
  State* st = g_state.load();
  TFM_ASSERT(st, "inference_table_product without an InferenceLinears");
  std::lock_guard<std::mutex> lock(st->mutex);
  std::vector<float>& t = st->table_products[{E, n, C, scale, W, OC, b}];
  if (t.empty()) {
    std::vector<float> scaled(E, E + n * C);
    if (scale != 1.f)
      for (float& v : scaled) v *= scale;  // as embedding_forward scales a row
    t.resize(static_cast<size_t>(n * OC));
    gemm<float>(false, true, n, OC, C, 1.f, scaled.data(), C, W, C, 0.f, t.data(), OC);
    if (b)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t o = 0; o < OC; ++o) t[i * OC + o] += b[o];
  }
  return t.data();
}

LinearPrecision inference_linears_precision() {
  const State* s = g_state.load();
  return s ? s->precision : LinearPrecision::FP32;
}

void inference_linear(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b, float* y) {
  using dnnl::memory;
  State* st = g_state.load();
  TFM_ASSERT(st, "inference_linear without an InferenceLinears");
  const bool int8 = st->precision == LinearPrecision::INT8;
  if (!int8 && N < 4) {  // matrix-vector products: packing W would cost more than reading it once
    matrix_vector(x, N, C, W, OC, b, y);
    return;
  }
#ifdef TFM_FEW_ROWS_PANELS
  if (!int8 && N <= kPanelRowsMax) {  // a few rows: W packed once into panels (see the header)
    panels_product(x, C, N, C, inference_panels(W, C, OC, 1, C), OC, b, y, OC);
    return;
  }
#endif
  thread_local std::vector<int8_t> xq;
  thread_local std::vector<float> xs;
  thread_local std::vector<int32_t> acc;
  if (int8) {
    xq.resize(N * C);
    xs.resize(N);
    acc.resize(N * OC);
    quantize_rows(x, N, C, xq.data(), xs.data());
  }
  const memory::data_type in_t = int8 ? memory::data_type::s8 : memory::data_type::f32;

  // FP32 adds the bias inside the matmul, to the sums before they are stored (a pass over y
  // less: 2% of base batch-64 decoding); INT8 adds it after scaling, below.
  const bool fused_bias = !int8 && b;
  std::lock_guard<std::mutex> lock(st->mutex);
  auto kit = st->kernels.find({N, OC, C, fused_bias});
  if (kit == st->kernels.end()) {
    if (st->kernels.size() >= kMaxPrimitives) st->kernels.clear();
    const memory::desc src({N, C}, in_t, memory::format_tag::ab);
    const memory::desc dst({N, OC}, int8 ? memory::data_type::s32 : memory::data_type::f32, memory::format_tag::ab);
    const memory::desc bias({1, OC}, memory::data_type::f32, memory::format_tag::ab);
    auto make = [&](const memory::desc& wei) {
      return dnnl::matmul::primitive_desc(
          fused_bias ? dnnl::matmul::desc(src, wei, bias, dst) : dnnl::matmul::desc(src, wei, dst), st->engine);
    };
    dnnl::matmul::primitive_desc pd = make(memory::desc({C, OC}, in_t, memory::format_tag::any));
    // Where the matmul keeps the weights plain, (C, OC) row-major (oneDNN 2.6 on CPUs without
    // AVX-512: its sgemm), rows a multiple of 2 KiB apart ran at half its rate (the aliasing
    // gemm.cpp's sgemm copies its way out of): 73-86 against 140-165 GFLOP/s for base's decoder
    // at 64 rows on the AMD EPYC. Those rows are made 16 floats longer.
    if (pd.weights_desc() == memory::desc({C, OC}, in_t, memory::format_tag::ab) && OC % kAliasingStride == 0)
      pd = make(memory::desc({C, OC}, in_t, memory::dims{OC + kRowPadding, 1}));
    kit = st->kernels.emplace(std::tuple{N, OC, C, fused_bias}, State::Kernel{pd, dnnl::matmul(pd)}).first;
  }
  const dnnl::matmul::primitive_desc& pd = kit->second.pd;

  PreparedWeights& pw = st->weights[{W, OC, C}];
  if (int8 && pw.scale.empty()) {
    pw.scale.resize(OC);
    pw.plain.resize(OC * C);
    quantize_rows(W, OC, C, pw.plain.data(), pw.scale.data());
  }
  if (!pw.packed || pw.packed.get_desc() != pd.weights_desc()) {
    // W (OC, C) row-major is the (K = C, N = OC) weights matrix with strides (1, C).
    const memory::desc plain_md({C, OC}, in_t, memory::dims{1, C});
    memory plain(plain_md, st->engine, int8 ? static_cast<void*>(pw.plain.data()) : const_cast<float*>(W));
    pw.packed = memory(pd.weights_desc(), st->engine);
    dnnl::reorder(plain, pw.packed).execute(st->stream, plain, pw.packed);
  }
  memory src_m(pd.src_desc(), st->engine, int8 ? static_cast<void*>(xq.data()) : const_cast<float*>(x));
  memory dst_m(pd.dst_desc(), st->engine, int8 ? static_cast<void*>(acc.data()) : static_cast<void*>(y));
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, pw.packed}, {DNNL_ARG_DST, dst_m}};
  if (fused_bias) args.emplace(DNNL_ARG_BIAS, memory(pd.bias_desc(), st->engine, const_cast<float*>(b)));
  kit->second.matmul.execute(st->stream, args);
  st->stream.wait();
  if (!int8) return;
  // Plain pointers into the thread_local buffers: inside the parallel loop, the names would
  // denote each worker thread's own (empty) buffers.
  const float* sw = pw.scale.data();
  const int32_t* acc_p = acc.data();
  const float* xs_p = xs.data();
#pragma omp parallel for schedule(static) if (N * OC > (1 << 15))
  for (int64_t i = 0; i < N; ++i) {
    const int32_t* a = acc_p + i * OC;
    float* yi = y + i * OC;
    const float si = xs_p[i];
    for (int64_t j = 0; j < OC; ++j) yi[j] = si * sw[j] * static_cast<float>(a[j]) + (b ? b[j] : 0.f);
  }
}

}  // namespace tfm::kernels
