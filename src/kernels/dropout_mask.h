// The one dropout mask rule of the project: element `index` of a stream is kept iff
// splitmix64(seed + golden * index) >= p * 2^64. It depends on (seed, index) only, never on the
// thread count, and every dropout site (activations, every attention kind) uses it.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/rng.h"

namespace tfm::kernels {

inline uint64_t dropout_threshold(double p) {
  return p >= 1.0 ? ~0ull : static_cast<uint64_t>(std::ldexp(p, 64));
}
inline bool dropout_keep(uint64_t seed, uint64_t index, uint64_t threshold) {
  return splitmix64(seed + 0x9e3779b97f4a7c15ull * index) >= threshold;
}

}  // namespace tfm::kernels
