// Helpers shared by the Train* tests: a scratch directory, a tiny model, random examples, and
// comparisons that print the largest difference.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "../common/scratch.h"
#include "core/rng.h"
#include "models/transformer.h"
#include "train/batching.h"

namespace tfm::train_test {

using test::error_of;
using test::ScratchDir;

inline Config tiny_config(double dropout = 0.1) {
  Config c;
  c.d_model = 16;
  c.heads = 2;
  c.d_ff = 24;
  c.encoder_layers = 1;
  c.decoder_layers = 1;
  c.src_vocab_size = 20;
  c.tgt_vocab_size = 18;
  c.max_len = 16;
  c.dropout = dropout;
  return c;
}

// n examples with ids in [4, vocab) and lengths in [0, max_len_side].
inline std::vector<Example> random_examples(int n, const Config& c, uint64_t seed, int max_len_side = 9) {
  Rng rng(seed);
  std::vector<Example> out(n);
  for (Example& e : out) {
    auto fill = [&](std::vector<int32_t>& v, int vocab) {
      v.resize(rng.below(static_cast<uint64_t>(max_len_side) + 1));
      for (int32_t& id : v) id = 4 + static_cast<int32_t>(rng.below(static_cast<uint64_t>(vocab - 4)));
    };
    fill(e.src, c.src_vocab_size);
    fill(e.tgt, c.tgt_vocab_size);
  }
  return out;
}

// Largest |a - b| and largest excess over atol + rtol |b| between two tensors.
struct Difference {
  double max_abs = 0, worst_excess = -1e300, at_ref = 0;
  int64_t worst_index = -1;
};
inline Difference compare(const Tensor& a, const Tensor& b, double atol, double rtol) {
  Difference d;
  Tensor x = a.to(DType::F64), y = b.to(DType::F64);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double diff = std::abs(x.data<double>()[i] - y.data<double>()[i]);
    d.max_abs = std::max(d.max_abs, diff);
    const double excess = diff - (atol + rtol * std::abs(y.data<double>()[i]));
    if (excess > d.worst_excess || std::isnan(diff)) {
      d.worst_excess = std::isnan(diff) ? 1e300 : excess;
      d.worst_index = i;
      d.at_ref = y.data<double>()[i];
    }
  }
  return d;
}

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::equal(static_cast<const char*>(a.raw()), static_cast<const char*>(a.raw()) + a.nbytes(),
                    static_cast<const char*>(b.raw()));
}

}  // namespace tfm::train_test
