// Layer normalisation (Ba et al., 2016), as in nn.LayerNorm: biased variance, eps inside the root.
//   y = (x - mean) * rstd * gamma + beta,   rstd = 1 / sqrt(var + eps)
#pragma once
#include <cstdint>

namespace tfm::kernels {

// x (N,C), gamma (C), beta (C) -> y (N,C); saves mean (N) and rstd (N) for the backward.
template <class T>
void layernorm_forward(const T* x, const T* gamma, const T* beta, int64_t N, int64_t C, double eps,
                       T* y, T* mean, T* rstd);

// Residual + LayerNorm in one pass (post-norm sub-layer: LN(a + b)):
// a (N,C), b (N,C) -> sum (N,C) = a + b (kept for the backward), y (N,C), mean (N), rstd (N).
template <class T>
void residual_layernorm_forward(const T* a, const T* b, const T* gamma, const T* beta, int64_t N,
                                int64_t C, double eps, T* sum, T* y, T* mean, T* rstd);

// dy (N,C), x (N,C), mean, rstd, gamma -> dx (N,C) +=, dgamma (C) +=, dbeta (C) +=.
//   dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = dy * gamma
// accumulate_dx false: dx is written, not added to (kernels/dims.h); dgamma, dbeta still add.
template <class T>
void layernorm_backward(const T* dy, const T* x, const T* mean, const T* rstd, const T* gamma,
                        int64_t N, int64_t C, T* dx, T* dgamma, T* dbeta, bool accumulate_dx = true);

}  // namespace tfm::kernels
