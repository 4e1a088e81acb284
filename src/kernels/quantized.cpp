#include "kernels/quantized.h"

#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <tuple>
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

// A weight matrix (OC, C), quantized per output channel and reordered into the layout of the
// matmul primitive that uses it.
struct QuantizedWeights {
  std::vector<float> scale;  // OC
  std::vector<int8_t> plain;  // (OC, C) row-major, kept to repack for another layout
  dnnl::memory packed;
};

struct Int8State {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::mutex mutex;
  std::map<std::tuple<const float*, int64_t, int64_t>, QuantizedWeights> weights;
  // One primitive per (M, N, K); bounded, since batch sizes vary.
  struct Kernel {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul matmul;
  };
  std::map<std::tuple<int64_t, int64_t, int64_t>, Kernel> kernels;
};

std::atomic<Int8State*> g_state{nullptr};
constexpr size_t kMaxPrimitives = 512;

}  // namespace

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

Int8Inference::Int8Inference() {
  TFM_CHECK(int8_supported(),
            "int8 inference needs a CPU with VNNI (AVX512_VNNI or AVX-VNNI), which oneDNN does not find "
            "on this machine (effective ISA code 0x", std::hex, static_cast<unsigned>(dnnl_get_effective_cpu_isa()), ")");
  Int8State* expected = nullptr;
  auto* s = new Int8State;
  if (!g_state.compare_exchange_strong(expected, s)) {
    delete s;
    throw Error("int8 inference is already on in this process");
  }
}

Int8Inference::~Int8Inference() { delete g_state.exchange(nullptr); }

bool int8_inference_active() { return g_state.load() != nullptr; }

void int8_linear(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b, float* y) {
  using dnnl::memory;
  Int8State* st = g_state.load();
  TFM_ASSERT(st, "int8_linear without an Int8Inference");
  thread_local std::vector<int8_t> xq;
  thread_local std::vector<float> xs;
  thread_local std::vector<int32_t> acc;
  xq.resize(N * C);
  xs.resize(N);
  acc.resize(N * OC);
  quantize_rows(x, N, C, xq.data(), xs.data());

  std::lock_guard<std::mutex> lock(st->mutex);
  auto kit = st->kernels.find({N, OC, C});
  if (kit == st->kernels.end()) {
    if (st->kernels.size() >= kMaxPrimitives) st->kernels.clear();
    const memory::desc src({N, C}, memory::data_type::s8, memory::format_tag::ab);
    const memory::desc wei({C, OC}, memory::data_type::s8, memory::format_tag::any);
    const memory::desc dst({N, OC}, memory::data_type::s32, memory::format_tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), st->engine);
    kit = st->kernels.emplace(std::tuple{N, OC, C}, Int8State::Kernel{pd, dnnl::matmul(pd)}).first;
  }
  const dnnl::matmul::primitive_desc& pd = kit->second.pd;

  QuantizedWeights& qw = st->weights[{W, OC, C}];
  if (qw.scale.empty()) {
    qw.scale.resize(OC);
    qw.plain.resize(OC * C);
    quantize_rows(W, OC, C, qw.plain.data(), qw.scale.data());
  }
  if (!qw.packed || qw.packed.get_desc() != pd.weights_desc()) {
    // W (OC, C) row-major is the (K = C, N = OC) weights matrix with strides (1, C).
    const memory::desc plain_md({C, OC}, memory::data_type::s8, memory::dims{1, C});
    memory plain(plain_md, st->engine, qw.plain.data());
    qw.packed = memory(pd.weights_desc(), st->engine);
    dnnl::reorder(plain, qw.packed).execute(st->stream, plain, qw.packed);
  }
  memory src_m(pd.src_desc(), st->engine, xq.data()), dst_m(pd.dst_desc(), st->engine, acc.data());
  kit->second.matmul.execute(st->stream, {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, qw.packed}, {DNNL_ARG_DST, dst_m}});
  st->stream.wait();

  const float* sw = qw.scale.data();
#pragma omp parallel for schedule(static) if (N * OC > (1 << 15))
  for (int64_t i = 0; i < N; ++i) {
    const int32_t* a = acc.data() + i * OC;
    float* yi = y + i * OC;
    const float si = xs[i];
    for (int64_t j = 0; j < OC; ++j) yi[j] = si * sw[j] * static_cast<float>(a[j]) + (b ? b[j] : 0.f);
  }
}

}  // namespace tfm::kernels
