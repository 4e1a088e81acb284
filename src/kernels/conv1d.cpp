#include "kernels/conv1d.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/gemm.h"

namespace tfm::kernels {

namespace {
void check_dims(const Conv1dDims& d) {
  TFM_CHECK(d.KW > 0 && d.KW % 2 == 1,
            "conv1d with 'same' padding needs an odd kernel width, got ", d.KW);
  TFM_CHECK(d.B >= 0 && d.T >= 0 && d.C > 0 && d.OC > 0, "conv1d: sizes B ", d.B, " T ", d.T,
            " C ", d.C, " OC ", d.OC, " must be positive");
}

// Tap j reads input row t + s, s = j - KW/2. The output rows that read a real input row
// (not padding) are [t0, t1): the taps are GEMMs over these contiguous row ranges.
struct TapRows {
  int64_t s, t0, t1;
};
TapRows tap_rows(const Conv1dDims& d, int64_t j) {
  const int64_t s = j - d.KW / 2;
  return {s, std::max<int64_t>(0, -s), std::min(d.T, d.T - s)};
}
}  // namespace

template <class T>
void conv1d_forward(const Conv1dDims& d, const T* x, const T* w, const T* bias, T* out) {
  check_dims(d);
  for (int64_t b = 0; b < d.B; ++b) {
    const T* xb = x + b * d.T * d.C;
    T* ob = out + b * d.T * d.OC;
    for (int64_t t = 0; t < d.T; ++t)
      for (int64_t oc = 0; oc < d.OC; ++oc) ob[t * d.OC + oc] = bias ? bias[oc] : T(0);
    for (int64_t j = 0; j < d.KW; ++j) {
      const TapRows r = tap_rows(d, j);
      if (r.t1 <= r.t0) continue;  // T <= |s|: this tap sees only padding
      // out[t0:t1] (M, OC) += x[t0+s : t1+s] (M, C) * w_j^T (C, OC)
      gemm<T>(false, true, r.t1 - r.t0, d.OC, d.C, T(1), xb + (r.t0 + r.s) * d.C, d.C,
              w + j * d.OC * d.C, d.C, T(1), ob + r.t0 * d.OC, d.OC);
    }
  }
}

template <class T>
void conv1d_backward(const Conv1dDims& d, const T* x, const T* w, const T* dout, T* dx, T* dw,
                     T* dbias) {
  check_dims(d);
  for (int64_t b = 0; b < d.B; ++b) {
    const T* xb = x + b * d.T * d.C;
    const T* gb = dout + b * d.T * d.OC;
    if (dbias)
      for (int64_t t = 0; t < d.T; ++t)
        for (int64_t oc = 0; oc < d.OC; ++oc) dbias[oc] += gb[t * d.OC + oc];
    for (int64_t j = 0; j < d.KW; ++j) {
      const TapRows r = tap_rows(d, j);
      if (r.t1 <= r.t0) continue;
      const int64_t M = r.t1 - r.t0;
      const T* g = gb + r.t0 * d.OC;
      const T* wj = w + j * d.OC * d.C;
      // dx[t0+s : t1+s] (M, C) += dout[t0:t1] (M, OC) * w_j (OC, C)
      if (dx)
        gemm<T>(false, false, M, d.C, d.OC, T(1), g, d.OC, wj, d.C, T(1),
                dx + b * d.T * d.C + (r.t0 + r.s) * d.C, d.C);
      // dw_j (OC, C) += dout[t0:t1]^T (OC, M) * x[t0+s : t1+s] (M, C)
      if (dw)
        gemm<T>(true, false, d.OC, d.C, M, T(1), g, d.OC, xb + (r.t0 + r.s) * d.C, d.C, T(1),
                dw + j * d.OC * d.C, d.C);
    }
  }
}

#define TFM_INSTANTIATE(T)                                                                    \
  template void conv1d_forward<T>(const Conv1dDims&, const T*, const T*, const T*, T*);      \
  template void conv1d_backward<T>(const Conv1dDims&, const T*, const T*, const T*, T*, T*, \
                                   T*);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
