#include "decode/kv_self_attention.h"

#include <cmath>
#include <cstring>

#include "autograd/ops.h"
#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/local_attention.h"
#include "kernels/relative_attention.h"

namespace tfm {

Tensor gather_rows(const Tensor& in, const std::vector<int64_t>& from, int64_t keep) {
  const int64_t row = in.numel() / in.dim(0);
  Shape s = in.shape();
  s[0] = static_cast<int64_t>(from.size());
  Tensor out = Tensor::empty(s, in.dtype());
  const size_t es = dtype_size(in.dtype());
  const auto* src = static_cast<const std::byte*>(in.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (size_t i = 0; i < from.size(); ++i) std::memcpy(dst + i * row * es, src + from[i] * row * es, keep * es);
  return out;
}

KvCache::KvCache(int64_t rows, int64_t max_steps, int64_t C, DType dt)
    : k(Tensor::empty({rows, max_steps, C}, dt)), v(Tensor::empty({rows, max_steps, C}, dt)) {}

void KvCache::reorder(const std::vector<int64_t>& from, int64_t steps) {
  const int64_t rows = k.dim(0), C = k.dim(2), n = static_cast<int64_t>(from.size());
  TFM_ASSERT(n <= rows, "reorder: ", n, " rows for a cache of ", rows);
  if (!spare_k_.defined()) {
    spare_k_ = Tensor::empty(k.shape(), k.dtype());
    spare_v_ = Tensor::empty(v.shape(), v.dtype());
  }
  const size_t es = dtype_size(k.dtype()), row = static_cast<size_t>(k.numel() / rows) * es;
  const size_t keep = static_cast<size_t>(steps * C) * es;
  const auto* sk = static_cast<const std::byte*>(k.raw());
  const auto* sv = static_cast<const std::byte*>(v.raw());
  auto* dk = static_cast<std::byte*>(spare_k_.raw());
  auto* dv = static_cast<std::byte*>(spare_v_.raw());
#pragma omp parallel for schedule(static) if (static_cast<size_t>(n) * keep > (1 << 18))
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(dk + i * row, sk + from[i] * row, keep);
    std::memcpy(dv + i * row, sv + from[i] * row, keep);
  }
  std::swap(k, spare_k_);
  std::swap(v, spare_v_);
}

namespace {

// The cached positions the query at t sees under local attention, ascending.
std::vector<int64_t> local_keys(const LocalSelfAttention& local, int64_t t) {
  const LocalAttentionOptions& o = local.options;
  // The pattern of a sequence that ends at t: blocks depend on the position alone (1D: the
  // column; 2D: the row and column in the image), and causal masking hides everything after t.
  const kernels::LocalPattern p =
      o.two_d ? kernels::local_pattern_2d(t / o.image_width + 1, o.image_width, o.block_h, o.block_w, o.flange_h,
                                          o.flange_w, true)
              : kernels::local_pattern_1d(t + 1, o.query_block, o.memory_flange, true);
  std::vector<int64_t> keys;
  for (int64_t j = 0; j <= t; ++j)
    if (kernels::local_allowed(p, t, j)) keys.push_back(j);
  return keys;
}

}  // namespace

Var cached_self_attention(const SelfAttention& sa, KvCache& cache, const Var& in, int64_t t, int64_t H) {
  const int64_t R = in.value().dim(0), C = in.value().dim(1), dh = C / H, max_steps = cache.max_steps();
  TFM_CHECK(t < max_steps, "decoding past ", max_steps, " positions");
  const DType dt = in.value().dtype();
  const RelativeSelfAttention* relative = sa.relative.get();
  const AttentionKind kind = sa.scored ? sa.scored->kind : AttentionKind::ScaledDot;
  // Scaled dot-product and dot scores (and the relative and local forms) read the caches in
  // place; the other scores go through the layer's own op on contiguous copies of the cache.
  const bool dot_family = kind == AttentionKind::ScaledDot || kind == AttentionKind::Dot;
  const double scale = kind == AttentionKind::Dot ? 1.0 : 1.0 / std::sqrt(static_cast<double>(dh));

  Var qkv = ops::linear(in, sa.in_proj_weight(), sa.in_proj_bias());  // (R, 3C)
  Tensor out = Tensor::empty({R, C}, dt);
  dispatch_float(dt, [&]<class T>() {
    const T* q = qkv.value().data<T>();
    T* kc = cache.k.data<T>();
    T* vc = cache.v.data<T>();
    for (int64_t r = 0; r < R; ++r) {
      std::memcpy(kc + (r * max_steps + t) * C, q + r * 3 * C + C, C * sizeof(T));
      std::memcpy(vc + (r * max_steps + t) * C, q + r * 3 * C + 2 * C, C * sizeof(T));
    }
    const kernels::AttnLayout lq{3 * C, 3 * C}, lc{max_steps * C, C}, lo{C, C};
    if (relative) {  // the Music Transformer's scores: content plus clipped distance
      const kernels::AttnDims d{R, H, 1, t + 1, dh};
      const Tensor& table = relative->relative_embeddings.value();
      kernels::relative_attention_block_forward<T>(d, relative->max_distance, table.dim(0), table.dim(1), q, lq, kc,
                                                   lc, vc, lc, table.data<T>(), nullptr, static_cast<T>(scale),
                                                   out.data<T>(), lo);
      return;
    }
    if (sa.local) {  // the memory block's cached positions, gathered (at most l_q + l_m of them)
      const std::vector<int64_t> keys = local_keys(*sa.local, t);
      const int64_t n = static_cast<int64_t>(keys.size());
      std::vector<T> k(R * n * C), v(R * n * C);
      for (int64_t r = 0; r < R; ++r)
        for (int64_t i = 0; i < n; ++i) {
          std::memcpy(&k[(r * n + i) * C], kc + (r * max_steps + keys[i]) * C, C * sizeof(T));
          std::memcpy(&v[(r * n + i) * C], vc + (r * max_steps + keys[i]) * C, C * sizeof(T));
        }
      const kernels::AttnLayout lk{n * C, C};
      kernels::attention_one_query<T>(R, H, n, dh, q, 3 * C, k.data(), lk, v.data(), lk, nullptr,
                                      static_cast<T>(scale), out.data<T>(), C);
      return;
    }
    if (!dot_family) return;
    kernels::attention_one_query<T>(R, H, t + 1, dh, q, 3 * C, kc, lc, vc, lc, nullptr, static_cast<T>(scale),
                                    out.data<T>(), C);
  });
  if (dot_family || relative || sa.local) return sa.out_proj().forward(Var(out));
  Tensor k = Tensor::empty({R * (t + 1), C}, dt), v = Tensor::empty({R * (t + 1), C}, dt);
  const size_t es = dtype_size(dt), row = static_cast<size_t>((t + 1) * C) * es;
  for (int64_t r = 0; r < R; ++r) {
    std::memcpy(static_cast<std::byte*>(k.raw()) + r * row,
                static_cast<const std::byte*>(cache.k.raw()) + r * max_steps * C * es, row);
    std::memcpy(static_cast<std::byte*>(v.raw()) + r * row,
                static_cast<const std::byte*>(cache.v.raw()) + r * max_steps * C * es, row);
  }
  ops::AttentionArgs a;
  a.B = R, a.Tq = 1, a.Tk = t + 1, a.H = H, a.dh = dh;
  return sa.out_proj().forward(sa.scored->attend(qkv, Var(k), Var(v), a));
}

}  // namespace tfm
