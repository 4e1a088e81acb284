#include "kernels/layernorm.h"

#include <omp.h>

#include <cmath>
#include <vector>

namespace tfm::kernels {

namespace {
template <class T>
inline void normalize_row(const T* x, const T* gamma, const T* beta, int64_t C, double eps, T* y,
                          T* mean_out, T* rstd_out) {
  // Two passes in double-width accumulation: the mean first, then the centred variance, so the
  // result does not lose digits when |mean| >> std (the reference's numerics, to the last digit).
  // The sums run in vector lanes (simd reduction): a double's 29 spare bits absorb the change of
  // order, so the float results almost never differ from a serial sum's.
  double m = 0;
#pragma omp simd reduction(+ : m)
  for (int64_t c = 0; c < C; ++c) m += x[c];
  m /= C;
  double v = 0;
#pragma omp simd reduction(+ : v)
  for (int64_t c = 0; c < C; ++c) {
    double d = x[c] - m;
    v += d * d;
  }
  v /= C;
  double r = 1.0 / std::sqrt(v + eps);
  for (int64_t c = 0; c < C; ++c) y[c] = static_cast<T>((x[c] - m) * r) * gamma[c] + beta[c];
  *mean_out = static_cast<T>(m);
  *rstd_out = static_cast<T>(r);
}
}  // namespace

// The forward kernels share rows over the threads when there are enough of them and the caller
// is not already in a parallel region (the fused decoding step calls them from inside one: a
// nested region would run on one thread anyway and cost about a microsecond to open).
inline bool share_rows(int64_t work) { return work > 16384 && !omp_in_parallel(); }

template <class T>
void layernorm_forward(const T* x, const T* gamma, const T* beta, int64_t N, int64_t C, double eps,
                       T* y, T* mean, T* rstd) {
  auto row = [&](int64_t n) { normalize_row(x + n * C, gamma, beta, C, eps, y + n * C, mean + n, rstd + n); };
  if (share_rows(N * C)) {
#pragma omp parallel for
    for (int64_t n = 0; n < N; ++n) row(n);
  } else {
    for (int64_t n = 0; n < N; ++n) row(n);
  }
}

template <class T>
void residual_layernorm_forward(const T* a, const T* b, const T* gamma, const T* beta, int64_t N,
                                int64_t C, double eps, T* sum, T* y, T* mean, T* rstd) {
  auto row = [&](int64_t n) {
    T* s = sum + n * C;
    for (int64_t c = 0; c < C; ++c) s[c] = a[n * C + c] + b[n * C + c];
    normalize_row(s, gamma, beta, C, eps, y + n * C, mean + n, rstd + n);
  };
  if (share_rows(N * C)) {
#pragma omp parallel for
    for (int64_t n = 0; n < N; ++n) row(n);
  } else {
    for (int64_t n = 0; n < N; ++n) row(n);
  }
}

template <class T>
void layernorm_backward(const T* dy, const T* x, const T* mean, const T* rstd, const T* gamma,
                        int64_t N, int64_t C, T* dx, T* dgamma, T* dbeta, bool accumulate_dx) {
  int nt = (N * C > 16384) ? omp_get_max_threads() : 1;
  // Per-thread partial sums for dgamma/dbeta, reduced in a fixed order: deterministic for a
  // given thread count.
  std::vector<T> part(static_cast<size_t>(nt) * 2 * C, T(0));
#pragma omp parallel num_threads(nt)
  {
    int tid = omp_get_thread_num();
    T* pg = part.data() + static_cast<size_t>(tid) * 2 * C;
    T* pb = pg + C;
#pragma omp for
    for (int64_t n = 0; n < N; ++n) {
      const T* dyr = dy + n * C;
      const T* xr = x + n * C;
      T m = mean[n], r = rstd[n];
      double sum_dxhat = 0, sum_dxhat_xhat = 0;
#pragma omp simd reduction(+ : sum_dxhat, sum_dxhat_xhat)
      for (int64_t c = 0; c < C; ++c) {
        T xhat = (xr[c] - m) * r;
        T dxhat = dyr[c] * gamma[c];
        sum_dxhat += dxhat;
        sum_dxhat_xhat += dxhat * xhat;
        pg[c] += dyr[c] * xhat;
        pb[c] += dyr[c];
      }
      T mean_dxhat = static_cast<T>(sum_dxhat / C);
      T mean_dxhat_xhat = static_cast<T>(sum_dxhat_xhat / C);
      T* dxr = dx + n * C;
      if (accumulate_dx) {
        for (int64_t c = 0; c < C; ++c) {
          T xhat = (xr[c] - m) * r;
          dxr[c] += r * (dyr[c] * gamma[c] - mean_dxhat - xhat * mean_dxhat_xhat);
        }
      } else {
        for (int64_t c = 0; c < C; ++c) {
          T xhat = (xr[c] - m) * r;
          dxr[c] = r * (dyr[c] * gamma[c] - mean_dxhat - xhat * mean_dxhat_xhat);
        }
      }
    }
  }
  for (int t = 0; t < nt; ++t)
    for (int64_t c = 0; c < C; ++c) {
      dgamma[c] += part[static_cast<size_t>(t) * 2 * C + c];
      dbeta[c] += part[static_cast<size_t>(t) * 2 * C + C + c];
    }
}

#define TFM_INSTANTIATE(T)                                                                       \
  template void layernorm_forward<T>(const T*, const T*, const T*, int64_t, int64_t, double, T*, \
                                     T*, T*);                                                    \
  template void residual_layernorm_forward<T>(const T*, const T*, const T*, const T*, int64_t,    \
                                              int64_t, double, T*, T*, T*, T*);                  \
  template void layernorm_backward<T>(const T*, const T*, const T*, const T*, const T*, int64_t,  \
                                      int64_t, T*, T*, T*, bool);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
