#include "kernels/elementwise.h"

#include <omp.h>

#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/dropout_mask.h"

namespace tfm::kernels {

constexpr int64_t kParallelMin = 1 << 15;

// The three forward kernels the fused decoding step calls from inside its parallel region share
// work only outside one: a nested region would run on one thread and cost ~1 us to open.
inline bool share(int64_t n) { return n > kParallelMin && !omp_in_parallel(); }

template <class T> void relu_forward(const T* x, int64_t n, T* y) {
  if (share(n)) {
#pragma omp parallel for simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
  }
}
template <class T> void relu_backward(const T* x, const T* dy, int64_t n, T* dx, bool accumulate) {
  if (accumulate) {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] += x[i] > T(0) ? dy[i] : T(0);
  } else {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
  }
}

template <class T> void tanh_forward(const T* x, int64_t n, T* y) {
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
template <class T> void tanh_backward(const T* y, const T* dy, int64_t n, T* dx) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] += dy[i] * (T(1) - y[i] * y[i]);
}

template <class T> void gelu_forward(const T* x, int64_t n, T* y) {
  const T inv_sqrt2 = static_cast<T>(0.70710678118654752440);
  auto f = [inv_sqrt2](T v) { return T(0.5) * v * (T(1) + std::erf(v * inv_sqrt2)); };
  if (share(n)) {
#pragma omp parallel for
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  }
}
template <class T> void gelu_backward(const T* x, const T* dy, int64_t n, T* dx) {
  const T inv_sqrt2 = static_cast<T>(0.70710678118654752440);
  const T inv_sqrt_2pi = static_cast<T>(0.39894228040143267794);
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    T cdf = T(0.5) * (T(1) + std::erf(x[i] * inv_sqrt2));
    T pdf = inv_sqrt_2pi * std::exp(T(-0.5) * x[i] * x[i]);
    dx[i] += dy[i] * (cdf + x[i] * pdf);
  }
}

template <class T> void add_forward(const T* a, const T* b, int64_t n, T* y) {
  if (share(n)) {
#pragma omp parallel for simd
    for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
  } else {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
  }
}
template <class T> void scale_forward(const T* x, T alpha, int64_t n, T* y) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}
template <class T> void axpy(T alpha, const T* dy, int64_t n, T* dx) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) dx[i] += alpha * dy[i];
}

template <class T> void add_bias(T* y, const T* bias, int64_t N, int64_t C) {
#pragma omp parallel for if (N * C > kParallelMin)
  for (int64_t r = 0; r < N; ++r)
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) y[r * C + c] += bias[c];
}

template <class T> void bias_backward(const T* dy, int64_t N, int64_t C, T* dbias) {
  int nt = N * C > kParallelMin ? omp_get_max_threads() : 1;
  std::vector<T> part(static_cast<size_t>(nt) * C, T(0));
#pragma omp parallel num_threads(nt)
  {
    T* p = part.data() + static_cast<size_t>(omp_get_thread_num()) * C;
#pragma omp for
    for (int64_t r = 0; r < N; ++r)
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) p[c] += dy[r * C + c];
  }
  for (int t = 0; t < nt; ++t)
    for (int64_t c = 0; c < C; ++c) dbias[c] += part[static_cast<size_t>(t) * C + c];
}

namespace {
// Dropout's forward, and with Relu the relu before it folded in: an element is kept iff the
// mask rule keeps it (and, with Relu, x > 0), so the mask alone carries the backward.
template <class T, bool Relu>
void dropout_forward_impl(const T* x, int64_t n, double p, uint64_t seed, T* y, uint8_t* mask) {
  // keep iff the 64-bit hash is at or above p * 2^64 (exact to 2^-64)
  const uint64_t threshold = dropout_threshold(p);
  const T inv_keep = static_cast<T>(1.0 / (1.0 - p));
  auto scalar = [&](int64_t i) {
    uint8_t keep = dropout_keep(seed, static_cast<uint64_t>(i), threshold) && (!Relu || x[i] > T(0));
    mask[i] = keep;
    y[i] = keep ? x[i] * inv_keep : T(0);
  };
#if defined(__AVX512F__) && defined(__AVX512DQ__) && defined(__AVX512BW__) && defined(__AVX512VL__)
  if constexpr (std::is_same_v<T, float>) {
    // 16 elements a step: the keep bits from dropout_keep16, then a masked scale and byte store.
    const int64_t blocks = n / 16;
    const __m512 scale = _mm512_set1_ps(inv_keep);
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t i = 16 * b;
      const __m512 xv = _mm512_loadu_ps(x + i);
      __mmask16 keep = dropout_keep16(seed, static_cast<uint64_t>(i), threshold);
      if constexpr (Relu) keep &= _mm512_cmp_ps_mask(xv, _mm512_setzero_ps(), _CMP_GT_OQ);
      _mm512_storeu_ps(y + i, _mm512_maskz_mul_ps(keep, xv, scale));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(mask + i), _mm_maskz_set1_epi8(keep, 1));
    }
    for (int64_t i = 16 * blocks; i < n; ++i) scalar(i);
    return;
  }
#elif defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>) {
    // 8 elements a step, without branches: the keep bits from dropout_keep8 as a lane mask, the
    // kept elements scaled, the mask's bytes from a table of the 256 bit patterns.
    static const auto bytes = [] {
      std::array<uint64_t, 256> t{};
      for (unsigned b = 0; b < 256; ++b)
        for (unsigned j = 0; j < 8; ++j) t[b] |= static_cast<uint64_t>((b >> j) & 1u) << (8 * j);
      return t;
    }();
    const int64_t blocks = n / 8;
    const __m256 scale = _mm256_set1_ps(inv_keep);
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t i = 8 * b;
      const __m256 xv = _mm256_loadu_ps(x + i);
      const unsigned bits = dropout_keep8(seed, static_cast<uint64_t>(i), threshold);
      __m256 keep = _mm256_castsi256_ps(
          _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), bit), bit));
      if constexpr (Relu) keep = _mm256_and_ps(keep, _mm256_cmp_ps(xv, _mm256_setzero_ps(), _CMP_GT_OQ));
      _mm256_storeu_ps(y + i, _mm256_and_ps(keep, _mm256_mul_ps(xv, scale)));
      const uint64_t m = bytes[static_cast<unsigned>(_mm256_movemask_ps(keep))];
      std::memcpy(mask + i, &m, sizeof m);
    }
    for (int64_t i = 8 * blocks; i < n; ++i) scalar(i);
    return;
  }
#endif
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) scalar(i);
}
}  // namespace

template <class T> void dropout_forward(const T* x, int64_t n, double p, uint64_t seed, T* y,
                                        uint8_t* mask) {
  dropout_forward_impl<T, false>(x, n, p, seed, y, mask);
}
template <class T> void relu_dropout_forward(const T* x, int64_t n, double p, uint64_t seed, T* y,
                                             uint8_t* mask) {
  dropout_forward_impl<T, true>(x, n, p, seed, y, mask);
}
template <class T> void dropout_backward(const T* dy, const uint8_t* mask, int64_t n, double p,
                                         T* dx, bool accumulate) {
  const T inv_keep = static_cast<T>(1.0 / (1.0 - p));
  // dy read and scaled unconditionally, then kept by masking its bits (a dropped element is +0,
  // as before): a conditional load or a select kept GCC from vectorising the loop (4.7% of a G2P
  // training step on an AMD EPYC, one element at a time).
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  auto kept = [inv_keep](T g, uint8_t m) {
    Bits b;
    std::memcpy(&b, &g, sizeof b);
    b *= static_cast<Bits>(m != 0);
    T r;
    std::memcpy(&r, &b, sizeof r);
    return r * inv_keep;
  };
  if (accumulate) {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] += kept(dy[i], mask[i]);
  } else {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) dx[i] = kept(dy[i], mask[i]);
  }
}

template <class T> void embedding_forward(const int32_t* ids, int64_t B, int64_t T_, const T* table,
                                          int64_t C, T scale, const T* pe, T* y) {
#pragma omp parallel for if (B * T_ * C > kParallelMin)
  for (int64_t n = 0; n < B * T_; ++n) {
    const T* row = table + static_cast<int64_t>(ids[n]) * C;
    const T* p = pe ? pe + (n % T_) * C : nullptr;
    T* out = y + n * C;
    for (int64_t c = 0; c < C; ++c) out[c] = row[c] * scale + (p ? p[c] : T(0));
  }
}
template <class T> void embedding_backward(const int32_t* ids, int64_t N, const T* dy, int64_t C,
                                           T scale, T* dtable) {
  for (int64_t n = 0; n < N; ++n) {
    T* row = dtable + static_cast<int64_t>(ids[n]) * C;
    const T* d = dy + n * C;
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) row[c] += scale * d[c];
  }
}

#define TFM_INSTANTIATE(T)                                                                        \
  template void relu_forward<T>(const T*, int64_t, T*);                                           \
  template void relu_backward<T>(const T*, const T*, int64_t, T*, bool);                            \
  template void tanh_forward<T>(const T*, int64_t, T*);                                           \
  template void tanh_backward<T>(const T*, const T*, int64_t, T*);                                \
  template void gelu_forward<T>(const T*, int64_t, T*);                                           \
  template void gelu_backward<T>(const T*, const T*, int64_t, T*);                                \
  template void add_forward<T>(const T*, const T*, int64_t, T*);                                  \
  template void scale_forward<T>(const T*, T, int64_t, T*);                                       \
  template void axpy<T>(T, const T*, int64_t, T*);                                                \
  template void add_bias<T>(T*, const T*, int64_t, int64_t);                                      \
  template void bias_backward<T>(const T*, int64_t, int64_t, T*);                                 \
  template void dropout_forward<T>(const T*, int64_t, double, uint64_t, T*, uint8_t*);            \
  template void relu_dropout_forward<T>(const T*, int64_t, double, uint64_t, T*, uint8_t*);       \
  template void dropout_backward<T>(const T*, const uint8_t*, int64_t, double, T*, bool);         \
  template void embedding_forward<T>(const int32_t*, int64_t, int64_t, const T*, int64_t, T,      \
                                     const T*, T*);                                               \
  template void embedding_backward<T>(const int32_t*, int64_t, const T*, int64_t, T, T*);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
