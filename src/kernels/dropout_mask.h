// The one dropout mask rule of the project: element `index` of a stream is kept iff
// splitmix64(seed + golden * index) >= p * 2^64. It depends on (seed, index) only, never on the
// thread count, and every dropout site (activations, every attention kind) uses it.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/rng.h"

namespace tfm::kernels {

inline uint64_t dropout_threshold(double p) {
  return p >= 1.0 ? ~0ull : static_cast<uint64_t>(std::ldexp(p, 64));
}
inline bool dropout_keep(uint64_t seed, uint64_t index, uint64_t threshold) {
  return splitmix64(seed + 0x9e3779b97f4a7c15ull * index) >= threshold;
}

#if defined(__AVX512F__) && defined(__AVX512DQ__)
// GCC 12 warns that the unmasked shifts' undefined pass-through operand "may be used
// uninitialized" once inlined (GCC bug 105593, as in fast_exp.h); it is never read.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// dropout_keep for the 16 indices index0 .. index0 + 15 at once, bit j for index0 + j: splitmix64
// in eight 64-bit lanes, twice (the compiler does not vectorise the 64-bit products itself).
inline __mmask16 dropout_keep16(uint64_t seed, uint64_t index0, uint64_t threshold) {
  constexpr uint64_t golden = 0x9e3779b97f4a7c15ull;
  const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i thr = _mm512_set1_epi64(static_cast<long long>(threshold));
  auto half = [&](uint64_t first) {
    __m512i x = _mm512_add_epi64(_mm512_set1_epi64(static_cast<long long>(first)), lane);
    x = _mm512_mullo_epi64(x, _mm512_set1_epi64(static_cast<long long>(golden)));
    x = _mm512_add_epi64(x, _mm512_set1_epi64(static_cast<long long>(seed + golden)));
    x = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 30)),
                           _mm512_set1_epi64(static_cast<long long>(0xbf58476d1ce4e5b9ull)));
    x = _mm512_mullo_epi64(_mm512_xor_si512(x, _mm512_srli_epi64(x, 27)),
                           _mm512_set1_epi64(static_cast<long long>(0x94d049bb133111ebull)));
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 31));
    return _mm512_cmp_epu64_mask(x, thr, _MM_CMPINT_NLT);
  };
  return static_cast<__mmask16>(half(index0) | (half(index0 + 8) << 8));
}
#pragma GCC diagnostic pop
#endif

}  // namespace tfm::kernels
