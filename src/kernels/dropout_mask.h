// The one dropout mask rule of the project: element `index` of a stream is kept iff
// splitmix64(seed + golden * index) >= p * 2^64. It depends on (seed, index) only, never on the
// thread count, and every dropout site (activations, every attention kind) uses it.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
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
#elif defined(__AVX2__)
// x * b mod 2^64 in four 64-bit lanes: AVX2 multiplies only 32 x 32 -> 64 bits, so the product
// is lo(x) lo(b) + ((hi(x) lo(b) + lo(x) hi(b)) << 32).
inline __m256i mullo64(__m256i x, uint64_t b) {
  const __m256i blo = _mm256_set1_epi64x(static_cast<long long>(b & 0xffffffffull));
  const __m256i bhi = _mm256_set1_epi64x(static_cast<long long>(b >> 32));
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), blo), _mm256_mul_epu32(x, bhi));
  return _mm256_add_epi64(_mm256_mul_epu32(x, blo), _mm256_slli_epi64(cross, 32));
}

// dropout_keep for the 8 indices index0 .. index0 + 7, bit j for index0 + j: splitmix64 in four
// 64-bit lanes, twice, for CPUs without AVX-512 (the scalar rule's branches mispredict on random
// keeps and signs: 9-10 ns an element on an AMD EPYC, 7.5% of a G2P training step).
inline unsigned dropout_keep8(uint64_t seed, uint64_t index0, uint64_t threshold) {
  constexpr uint64_t golden = 0x9e3779b97f4a7c15ull;
  const __m256i sign = _mm256_set1_epi64x(static_cast<long long>(0x8000000000000000ull));
  // keep iff x >= threshold, unsigned: not (threshold > x), both with the sign bit flipped
  const __m256i thr = _mm256_xor_si256(_mm256_set1_epi64x(static_cast<long long>(threshold)), sign);
  auto half = [&](uint64_t first) {
    __m256i x = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(first)), _mm256_setr_epi64x(0, 1, 2, 3));
    x = _mm256_add_epi64(mullo64(x, golden), _mm256_set1_epi64x(static_cast<long long>(seed + golden)));
    x = mullo64(_mm256_xor_si256(x, _mm256_srli_epi64(x, 30)), 0xbf58476d1ce4e5b9ull);
    x = mullo64(_mm256_xor_si256(x, _mm256_srli_epi64(x, 27)), 0x94d049bb133111ebull);
    x = _mm256_xor_si256(x, _mm256_srli_epi64(x, 31));
    const __m256i below = _mm256_cmpgt_epi64(thr, _mm256_xor_si256(x, sign));
    return static_cast<unsigned>(~_mm256_movemask_pd(_mm256_castsi256_pd(below)) & 0xF);
  };
  return half(index0) | (half(index0 + 4) << 4);
}
#endif

}  // namespace tfm::kernels
