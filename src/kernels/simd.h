#pragma once
// Small vector helpers shared by the kernels' hand-written AVX2 paths (CPUs without AVX-512).

#include <immintrin.h>

namespace tfm::kernels {

#if defined(__AVX2__)
// The sum of the 8 lanes of v: upper half onto lower, then pairs, then the last two.
inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

}  // namespace tfm::kernels
