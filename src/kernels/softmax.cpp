#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/fast_exp.h"

namespace tfm::kernels {

namespace {
template <class T>
inline T row_max(const T* x, int64_t V) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)  // the maximum is the same in any order
  for (int64_t v = 0; v < V; ++v) m = std::max(m, x[v]);
  return m;
}
template <class T>
inline T row_logsumexp(const T* x, int64_t V) {
  T m = row_max(x, V);
  if (m == -std::numeric_limits<T>::infinity()) return m;
  T s = 0;
  for (int64_t v = 0; v < V; ++v) s += std::exp(x[v] - m);
  return m + std::log(s);
}
}  // namespace

template <class T>
void softmax_forward(const T* x, int64_t N, int64_t V, T* y) {
#pragma omp parallel for if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) softmax_row(x + n * V, V, y + n * V);
}

template <class T>
void softmax_backward(const T* y, const T* dy, int64_t N, int64_t V, T* dx) {
#pragma omp parallel for if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const T* yr = y + n * V;
    const T* dyr = dy + n * V;
    T dot = 0;
    for (int64_t v = 0; v < V; ++v) dot += dyr[v] * yr[v];
    T* dxr = dx + n * V;
    for (int64_t v = 0; v < V; ++v) dxr[v] += yr[v] * (dyr[v] - dot);
  }
}

template <class T>
void log_softmax_forward(const T* x, int64_t N, int64_t V, T* y) {
#pragma omp parallel for if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) {
    // float: log-probabilities for inference only (decoding, scoring; training's loss is
    // cross_entropy_forward), so the vectorised exp of fast_exp.h.
    T lse;
    if constexpr (std::is_same_v<T, float>) {
      const float m = row_max(x + n * V, V);
      lse = m == -std::numeric_limits<float>::infinity() ? m : m + std::log(sum_exp_shifted(x + n * V, V, m));
    } else {
      lse = row_logsumexp(x + n * V, V);
    }
    for (int64_t v = 0; v < V; ++v) y[n * V + v] = x[n * V + v] - lse;
  }
}

template <class T>
void log_softmax_backward(const T* y, const T* dy, int64_t N, int64_t V, T* dx) {
#pragma omp parallel for if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) {
    T s = 0;
    for (int64_t v = 0; v < V; ++v) s += dy[n * V + v];
    for (int64_t v = 0; v < V; ++v) dx[n * V + v] += dy[n * V + v] - std::exp(y[n * V + v]) * s;
  }
}

template <class T>
double cross_entropy_forward(const T* logits, const int32_t* targets, int64_t N, int64_t V,
                             int32_t ignore, double eps, T* lse, int64_t* count) {
  double total = 0;
  int64_t n_used = 0;
#pragma omp parallel for reduction(+ : total, n_used) if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = logits + n * V;
    T l;
    if constexpr (std::is_same_v<T, float>) {  // fast_exp.h's exp, summed in vector lanes
      const float m = row_max(xr, V);
      l = m == -std::numeric_limits<float>::infinity() ? m : m + std::log(sum_exp_shifted(xr, V, m));
    } else {
      l = row_logsumexp(xr, V);
    }
    lse[n] = l;
    if (targets[n] == ignore) continue;
    // -log p(target) = lse - x_t ; mean over classes of -log p(v) = lse - mean(x)
    double sum_x = 0;
#pragma omp simd reduction(+ : sum_x)
    for (int64_t v = 0; v < V; ++v) sum_x += xr[v];
    double nll = static_cast<double>(l) - xr[targets[n]];
    double smooth = static_cast<double>(l) - sum_x / V;
    total += (1.0 - eps) * nll + eps * smooth;
    n_used += 1;
  }
  *count = n_used;
  return total;
}

template <class T>
void cross_entropy_backward(const T* logits, const int32_t* targets, const T* lse, int64_t N,
                            int64_t V, int32_t ignore, double eps, T scale, T* dlogits,
                            bool accumulate) {
  const T off = static_cast<T>(eps / V);
  const T on = static_cast<T>(1.0 - eps) + off;
#pragma omp parallel for if (N * V > 16384)
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = logits + n * V;
    T* dr = dlogits + n * V;
    if (targets[n] == ignore) {
      if (!accumulate) std::fill_n(dr, V, T(0));
      continue;
    }
    if constexpr (std::is_same_v<T, float>) {
      scaled_exp_shifted(xr, V, lse[n], scale, off, dr, accumulate);
    } else if (accumulate) {
      for (int64_t v = 0; v < V; ++v) dr[v] += scale * (std::exp(xr[v] - lse[n]) - off);
    } else {
      for (int64_t v = 0; v < V; ++v) dr[v] = scale * (std::exp(xr[v] - lse[n]) - off);
    }
    dr[targets[n]] -= scale * (on - off);
  }
}

#define TFM_INSTANTIATE(T)                                                                      \
  template void softmax_forward<T>(const T*, int64_t, int64_t, T*);                             \
  template void softmax_backward<T>(const T*, const T*, int64_t, int64_t, T*);                  \
  template void log_softmax_forward<T>(const T*, int64_t, int64_t, T*);                         \
  template void log_softmax_backward<T>(const T*, const T*, int64_t, int64_t, T*);              \
  template double cross_entropy_forward<T>(const T*, const int32_t*, int64_t, int64_t, int32_t, \
                                           double, T*, int64_t*);                               \
  template void cross_entropy_backward<T>(const T*, const int32_t*, const T*, int64_t, int64_t, \
                                          int32_t, double, T, T*, bool);
TFM_INSTANTIATE(float)
TFM_INSTANTIATE(double)
#undef TFM_INSTANTIATE

}  // namespace tfm::kernels
