#include "kernels/local_attention.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "kernels/dropout_mask.h"
#include "kernels/gemm.h"
#include "kernels/softmax.h"

namespace tfm::kernels {

namespace {
// The query positions and memory positions of block `blk`, each in raster order.
void block_positions(const LocalPattern& p, int64_t blk, std::vector<int64_t>& qpos,
                     std::vector<int64_t>& mpos) {
  const int64_t br = blk / p.blocks_across(), bc = blk % p.blocks_across();
  const int64_t r0 = br * p.block_h, r1 = std::min(r0 + p.block_h, p.height);
  const int64_t c0 = bc * p.block_w, c1 = std::min(c0 + p.block_w, p.width);
  qpos.clear();
  mpos.clear();
  for (int64_t r = r0; r < r1; ++r)
    for (int64_t c = c0; c < c1; ++c) qpos.push_back(r * p.width + c);
  // Memory block: the query block extended by the flange above, left and right (Parmar et al.,
  // section 3.2, figure 2), cut at the image border.
  const int64_t mr0 = std::max<int64_t>(0, r0 - p.flange_top);
  const int64_t mc0 = std::max<int64_t>(0, c0 - p.flange_left);
  const int64_t mc1 = std::min(p.width, c1 + p.flange_right);
  for (int64_t r = mr0; r < r1; ++r)
    for (int64_t c = mc0; c < mc1; ++c) mpos.push_back(r * p.width + c);
}

template <class T>
void gather_rows(const T* src, int64_t ld, const std::vector<int64_t>& pos, int64_t dh, T* dst) {
  for (size_t i = 0; i < pos.size(); ++i) std::copy(src + pos[i] * ld, src + pos[i] * ld + dh, dst + i * dh);
}
template <class T>
void scatter_add_rows(const T* src, const std::vector<int64_t>& pos, int64_t dh, T* dst, int64_t ld) {
  for (size_t i = 0; i < pos.size(); ++i) {
    T* d = dst + pos[i] * ld;
    const T* s = src + i * dh;
    for (int64_t c = 0; c < dh; ++c) d[c] += s[c];
  }
}
}  // namespace

bool local_allowed(const LocalPattern& p, int64_t i, int64_t j) {
  if (p.causal && j > i) return false;
  const int64_t ri = i / p.width, ci = i % p.width, rj = j / p.width, cj = j % p.width;
  const int64_t r0 = ri / p.block_h * p.block_h, r1 = std::min(r0 + p.block_h, p.height);
  const int64_t c0 = ci / p.block_w * p.block_w, c1 = std::min(c0 + p.block_w, p.width);
  return rj >= r0 - p.flange_top && rj < r1 && cj >= c0 - p.flange_left && cj < c1 + p.flange_right;
}

int64_t local_forward_scratch(const LocalPattern& p, int64_t dh) {
  // Q, O (Qb, dh); K, V (M, dh); scores (Qb, M) when probabilities are not kept; dropped
  // probabilities (Qb, M) with dropout.
  const int64_t Qb = p.query_block(), M = p.memory_block();
  return 2 * Qb * dh + 2 * M * dh + 2 * Qb * M;
}
int64_t local_backward_scratch(const LocalPattern& p, int64_t dh) {
  // Q, dO, dQ (Qb, dh); K, V, dK, dV (M, dh); dP (Qb, M); dropped probabilities (Qb, M).
  const int64_t Qb = p.query_block(), M = p.memory_block();
  return 3 * Qb * dh + 4 * M * dh + 2 * Qb * M;
}

template <class T>
void local_attention_forward(const LocalPattern& p, int64_t B, int64_t H, int64_t dh, const T* q,
                             AttnLayout lq, const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                             const uint8_t* key_pad, T scale, double dropout_p, uint64_t seed,
                             T* probs, uint8_t* drop_mask, T* out, AttnLayout lo) {
  const int64_t BH = B * H, n = p.length(), nb = p.blocks(), Qb = p.query_block(), M = p.memory_block();
  const int64_t slot = Qb * M;
  const uint64_t threshold = dropout_threshold(dropout_p);
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
  const T neg_inf = -std::numeric_limits<T>::infinity();
#pragma omp parallel
  {
    std::vector<T> scratch(static_cast<size_t>(local_forward_scratch(p, dh)));
    T* Qg = scratch.data();
    T* Og = Qg + Qb * dh;
    T* Kg = Og + Qb * dh;
    T* Vg = Kg + M * dh;
    T* S = Vg + M * dh;
    T* dropped = S + Qb * M;
    std::vector<int64_t> qpos, mpos;
    qpos.reserve(static_cast<size_t>(Qb));
    mpos.reserve(static_cast<size_t>(M));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const T* Q = q + b * lq.batch_stride + h * dh;
      const T* K = k + b * lk.batch_stride + h * dh;
      const T* Vp = v + b * lv.batch_stride + h * dh;
      T* O = out + b * lo.batch_stride + h * dh;
      const uint8_t* pad = key_pad ? key_pad + b * n : nullptr;
      for (int64_t blk = 0; blk < nb; ++blk) {
        block_positions(p, blk, qpos, mpos);
        const int64_t nq = static_cast<int64_t>(qpos.size()), nm = static_cast<int64_t>(mpos.size());
        T* P = probs ? probs + (bh * nb + blk) * slot : S;
        gather_rows(Q, lq.row_stride, qpos, dh, Qg);
        gather_rows(K, lk.row_stride, mpos, dh, Kg);
        gather_rows(Vp, lv.row_stride, mpos, dh, Vg);
        // S = scale * Q K_m^T  (nq, nm)
        gemm<T>(false, true, nq, nm, dh, scale, Qg, dh, Kg, dh, T(0), P, nm);
        if (pad || p.causal)
          for (int64_t i = 0; i < nq; ++i)
            for (int64_t j = 0; j < nm; ++j)
              if ((pad && pad[mpos[j]]) || (p.causal && mpos[j] > qpos[i])) P[i * nm + j] = neg_inf;
        softmax_forward<T>(P, nq, nm, P);
        if (probs) std::fill(P + nq * nm, P + slot, T(0));
        const T* Pd = P;
        if (dropout_p > 0) {
          // Pd = dropped probabilities; P stays the pre-dropout one for the backward.
          uint8_t* m = drop_mask + (bh * nb + blk) * slot;
          for (int64_t e = 0; e < nq * nm; ++e) {
            m[e] = dropout_keep(seed, static_cast<uint64_t>((bh * nb + blk) * slot + e), threshold);
            dropped[e] = m[e] ? P[e] * inv_keep : T(0);
          }
          Pd = dropped;
        }
        // O = Pd V_m  (nq, dh)
        gemm<T>(false, false, nq, dh, nm, T(1), Pd, nm, Vg, dh, T(0), Og, dh);
        for (int64_t i = 0; i < nq; ++i) std::copy(Og + i * dh, Og + (i + 1) * dh, O + qpos[i] * lo.row_stride);
      }
    }
  }
}

template <class T>
void local_attention_backward(const LocalPattern& p, int64_t B, int64_t H, int64_t dh, const T* q,
                              AttnLayout lq, const T* k, AttnLayout lk, const T* v, AttnLayout lv,
                              const T* probs, const uint8_t* drop_mask, double dropout_p, T scale,
                              const T* dout, AttnLayout lo, T* dq, T* dk, T* dv) {
  const int64_t BH = B * H, nb = p.blocks(), Qb = p.query_block(), M = p.memory_block();
  const int64_t slot = Qb * M;
  const T inv_keep = static_cast<T>(1.0 / (1.0 - dropout_p));
  // Parallel over (batch, head): each writes its own column strip of dq, dk, dv, so the
  // overlapping memory blocks of one head add up in a fixed order (deterministic, no atomics).
#pragma omp parallel
  {
    std::vector<T> scratch(static_cast<size_t>(local_backward_scratch(p, dh)));
    T* Qg = scratch.data();
    T* dOg = Qg + Qb * dh;
    T* dQg = dOg + Qb * dh;
    T* Kg = dQg + Qb * dh;
    T* Vg = Kg + M * dh;
    T* dKg = Vg + M * dh;
    T* dVg = dKg + M * dh;
    T* dP = dVg + M * dh;
    T* Pd = dP + Qb * M;
    std::vector<int64_t> qpos, mpos;
    qpos.reserve(static_cast<size_t>(Qb));
    mpos.reserve(static_cast<size_t>(M));
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < BH; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const T* Q = q + b * lq.batch_stride + h * dh;
      const T* K = k + b * lk.batch_stride + h * dh;
      const T* Vp = v + b * lv.batch_stride + h * dh;
      const T* dO = dout + b * lo.batch_stride + h * dh;
      T* dQ = dq + b * lq.batch_stride + h * dh;
      T* dK = dk + b * lk.batch_stride + h * dh;
      T* dV = dv + b * lv.batch_stride + h * dh;
      for (int64_t blk = 0; blk < nb; ++blk) {
        block_positions(p, blk, qpos, mpos);
        const int64_t nq = static_cast<int64_t>(qpos.size()), nm = static_cast<int64_t>(mpos.size());
        const T* P = probs + (bh * nb + blk) * slot;
        gather_rows(Q, lq.row_stride, qpos, dh, Qg);
        gather_rows(dO, lo.row_stride, qpos, dh, dOg);
        gather_rows(K, lk.row_stride, mpos, dh, Kg);
        gather_rows(Vp, lv.row_stride, mpos, dh, Vg);
        const uint8_t* m = dropout_p > 0 ? drop_mask + (bh * nb + blk) * slot : nullptr;
        const T* Pused = P;
        if (m) {
          for (int64_t e = 0; e < nq * nm; ++e) Pd[e] = m[e] ? P[e] * inv_keep : T(0);
          Pused = Pd;
        }
        // dV_m = Pd^T dO  (nm, dh);  dPd = dO V_m^T  (nq, nm);  dP = dPd * mask / (1 - p)
        gemm<T>(true, false, nm, dh, nq, T(1), Pused, nm, dOg, dh, T(0), dVg, dh);
        gemm<T>(false, true, nq, nm, dh, T(1), dOg, dh, Vg, dh, T(0), dP, nm);
        if (m)
          for (int64_t e = 0; e < nq * nm; ++e) dP[e] = m[e] ? dP[e] * inv_keep : T(0);
        // dS = P * (dP - rowsum(dP * P)), in place
        for (int64_t i = 0; i < nq; ++i) {
          T* r = dP + i * nm;
          const T* pr = P + i * nm;
          T dot = 0;
          for (int64_t j = 0; j < nm; ++j) dot += r[j] * pr[j];
          for (int64_t j = 0; j < nm; ++j) r[j] = pr[j] * (r[j] - dot);
        }
        // dQ = scale * dS K_m ;  dK_m = scale * dS^T Q
        gemm<T>(false, false, nq, dh, nm, scale, dP, nm, Kg, dh, T(0), dQg, dh);
        gemm<T>(true, false, nm, dh, nq, scale, dP, nm, Qg, dh, T(0), dKg, dh);
        scatter_add_rows(dQg, qpos, dh, dQ, lq.row_stride);
        scatter_add_rows(dKg, mpos, dh, dK, lk.row_stride);
        scatter_add_rows(dVg, mpos, dh, dV, lv.row_stride);
      }
    }
  }
}

#define TFM_INSTANTIATE(T)                                                                        \
  template void local_attention_forward<T>(const LocalPattern&, int64_t, int64_t, int64_t,       \
                                           const T*, AttnLayout, const T*, AttnLayout, const T*, \
                                           AttnLayout, const uint8_t*, T, double, uint64_t, T*,  \
                                           uint8_t*, T*, AttnLayout);                            \
  template void local_attention_backward<T>(const LocalPattern&, int64_t, int64_t, int64_t,      \
                                            const T*, AttnLayout, const T*, AttnLayout, const T*, \
                                            AttnLayout, const T*, const uint8_t*, double, T,     \
                                            const T*, AttnLayout, T*, T*, T*);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
