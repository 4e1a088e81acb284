// Row-wise softmax, log-softmax and the fused softmax-cross-entropy with label smoothing.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tfm::kernels {

// One row: x (V) -> y (V) = softmax(x), in place allowed; a row with every entry -inf (all
// masked) gets zeros. softmax_forward's body, and decoding attention's (no parallel region).
template <class T>
inline void softmax_row(const T* x, int64_t V, T* y) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t v = 0; v < V; ++v) m = std::max(m, x[v]);
  if (m == -std::numeric_limits<T>::infinity()) {
    std::fill(y, y + V, T(0));
    return;
  }
  T s = 0;
  for (int64_t v = 0; v < V; ++v) {
    y[v] = std::exp(x[v] - m);
    s += y[v];
  }
  const T inv = T(1) / s;
  for (int64_t v = 0; v < V; ++v) y[v] *= inv;
}

// x (N,V) -> y (N,V), y = softmax(x) along V. In place allowed (y == x).
template <class T>
void softmax_forward(const T* x, int64_t N, int64_t V, T* y);
// y = softmax output (N,V), dy (N,V) -> dx (N,V) +=,  dx = y * (dy - sum(dy * y))
template <class T>
void softmax_backward(const T* y, const T* dy, int64_t N, int64_t V, T* dx);

// The same with dy overwritten by dx (no accumulation): the attention kernels' dS from dP.
//   y (N,V) probabilities, g (N,V) in: dL/dy, out: dL/dx = y * (g - sum(g * y))
template <class T>
inline void softmax_backward_inplace(const T* y, T* g, int64_t N, int64_t V) {
  for (int64_t n = 0; n < N; ++n) {
    T* r = g + n * V;
    const T* p = y + n * V;
    T dot = 0;
    for (int64_t v = 0; v < V; ++v) dot += r[v] * p[v];
    for (int64_t v = 0; v < V; ++v) r[v] = p[v] * (r[v] - dot);
  }
}

// x (N,V) -> y (N,V) = x - logsumexp(x). In place allowed. For float (inference only: decoding
// and scoring), the sum of exponentials with fast_exp.h's vectorised exp.
template <class T>
void log_softmax_forward(const T* x, int64_t N, int64_t V, T* y);
// y = log-softmax output, dy -> dx +=,  dx = dy - exp(y) * sum(dy)
template <class T>
void log_softmax_backward(const T* y, const T* dy, int64_t N, int64_t V, T* dx);

// Softmax cross-entropy with label smoothing, as PyTorch's
// CrossEntropyLoss(label_smoothing=eps, ignore_index=ignore): the target distribution puts
// (1 - eps) on the target and eps / V on every class; rows whose target is `ignore` count for
// nothing. Never materialises the probabilities: saves only lse (N), the row's log-sum-exp.
// logits (N,V), targets (N) -> returns the SUM of row losses; *count = rows not ignored.
template <class T>
double cross_entropy_forward(const T* logits, const int32_t* targets, int64_t N, int64_t V,
                             int32_t ignore, double eps, T* lse, int64_t* count);
// dlogits (N,V) += scale * (softmax(logits) - target_distribution), zero for ignored rows
// (accumulate false: written, not added to; ignored rows are set to zero).
template <class T>
void cross_entropy_backward(const T* logits, const int32_t* targets, const T* lse, int64_t N,
                            int64_t V, int32_t ignore, double eps, T scale, T* dlogits,
                            bool accumulate = true);

}  // namespace tfm::kernels
