// Element-wise kernels: activations, addition, dropout, bias, embeddings.
#pragma once
#include <cstdint>

namespace tfm::kernels {

// x (n) -> y (n) = max(x, 0);   dx += dy * [x > 0]  (dx = ... when !accumulate: kernels/dims.h)
template <class T> void relu_forward(const T* x, int64_t n, T* y);
template <class T> void relu_backward(const T* x, const T* dy, int64_t n, T* dx, bool accumulate = true);
// y = tanh(x); backward from the output: dx += dy * (1 - y^2).
template <class T> void tanh_forward(const T* x, int64_t n, T* y);
template <class T> void tanh_backward(const T* y, const T* dy, int64_t n, T* dx);

// GELU, the exact erf form of nn.GELU(): y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
//   dx += dy * (Phi(x) + x * phi(x)),  phi the standard normal density
template <class T> void gelu_forward(const T* x, int64_t n, T* y);
template <class T> void gelu_backward(const T* x, const T* dy, int64_t n, T* dx);

// y (n) = a + b
template <class T> void add_forward(const T* a, const T* b, int64_t n, T* y);
// y (n) = alpha * x;  used by scale ops
template <class T> void scale_forward(const T* x, T alpha, int64_t n, T* y);
// dx (n) += alpha * dy
template <class T> void axpy(T alpha, const T* dy, int64_t n, T* dx);

// y (N,C) += bias (C)
template <class T> void add_bias(T* y, const T* bias, int64_t N, int64_t C);
// dbias (C) += sum over rows of dy (N,C)
template <class T> void bias_backward(const T* dy, int64_t N, int64_t C, T* dbias);

// Inverted dropout with a counter-based mask: element i is kept iff hash(seed, i) >= p * 2^64,
// so the mask depends on (seed, i) only, not on threads. y = keep ? x / (1 - p) : 0.
// mask (n) records the keep bits for the backward: dx += dy * mask / (1 - p)  (= when !accumulate).
template <class T> void dropout_forward(const T* x, int64_t n, double p, uint64_t seed, T* y,
                                        uint8_t* mask);
template <class T> void dropout_backward(const T* dy, const uint8_t* mask, int64_t n, double p, T* dx,
                                         bool accumulate = true);
// relu then dropout in one pass: y = (x > 0 and kept) ? x / (1 - p) : 0, the same values as
// dropout_forward over relu_forward's output; mask records (x > 0 and kept), so
// dropout_backward with it is the backward of both.
template <class T> void relu_dropout_forward(const T* x, int64_t n, double p, uint64_t seed, T* y,
                                             uint8_t* mask);

// Embedding lookup with scale and positions (section 3.4 and 3.5):
//   ids (B,T), table (V,C), pe (>=T, C) or null -> y (B*T, C) = table[id] * scale + pe[t]
template <class T> void embedding_forward(const int32_t* ids, int64_t B, int64_t T_, const T* table,
                                          int64_t C, T scale, const T* pe, T* y);
// dtable (V,C) += scale * dy rows scattered by id (serial: ids repeat)
template <class T> void embedding_backward(const int32_t* ids, int64_t N, const T* dy, int64_t C,
                                           T scale, T* dtable);

}  // namespace tfm::kernels
