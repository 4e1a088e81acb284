// Random numbers: a counter-based generator (SplitMix64 over a seed and a counter), so a stream
// can be split (per thread, per tensor) without sharing state, and results depend only on the
// seed, never on the thread count.
#pragma once
#include <cmath>
#include <cstdint>

namespace tfm {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : seed_(splitmix64(seed ^ 0x6a09e667f3bcc909ull)) {}
  uint64_t next_u64() { return splitmix64(seed_ + 0x9e3779b97f4a7c15ull * (++counter_)); }
  // The value a stream would give at `index` without advancing: for parallel mask generation.
  uint64_t at(uint64_t index) const { return splitmix64(seed_ + 0x9e3779b97f4a7c15ull * (index + 1)); }
  double uniform() { return (next_u64() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return next_u64() % n; }
  double normal() {  // Box-Muller
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Reserves n values of the stream and returns the index of the first (see at()).
  uint64_t skip(uint64_t n) {
    uint64_t first = counter_;
    counter_ += n;
    return first;
  }
  uint64_t seed_state() const { return seed_; }
  uint64_t counter() const { return counter_; }
  void restore(uint64_t seed_state, uint64_t counter) {
    seed_ = seed_state;
    counter_ = counter;
  }

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
};

}  // namespace tfm
