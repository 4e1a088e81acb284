// One-dimensional convolution over time, d -> d' channels, "same" padding: the convolutional
// layer of Table 1 of Vaswani et al. (complexity O(k * n * d^2), O(1) sequential operations,
// maximum path length O(n / k) for contiguous kernels), measured in experiments/table1.
//   out[b, t, oc] = bias[oc] + sum_{j < KW} sum_{c < C} w[j, oc, c] * x[b, t + j - KW/2, c]
// with x taken as 0 outside [0, T) (KW/2 zeros each side; KW odd, so position t is the centre).
//
// Layout. Activations are (B, T, C) rows as everywhere in the project (nn.Conv1d wants (B, C, T)).
// The weight is (KW, OC, C): tap j is an (OC, C) matrix laid out as a Linear weight, so the
// layer is KW GEMMs on shifted row ranges of x, with no im2col copy (memory: the output only).
// nn.Conv1d stores (OC, C, KW): w[j, oc, c] = conv.weight[oc, c, j]; with that weight the
// output is the same as nn.Conv1d(C, OC, KW, padding=KW//2)'s, transposed to (B, T, OC).
// Extra letter (beside dims.h): KW, the kernel width.
#pragma once
#include <cstdint>

namespace tfm::kernels {

struct Conv1dDims {
  int64_t B = 0, T = 0, C = 0, OC = 0, KW = 1;
};

// x (B,T,C), w (KW,OC,C), bias (OC) or null -> out (B,T,OC). KW must be odd and positive
// (a tfm::Error otherwise). The forward saves nothing: the backward needs x and w only.
template <class T>
void conv1d_forward(const Conv1dDims& d, const T* x, const T* w, const T* bias, T* out);

// dout (B,T,OC) -> accumulates (+=, kernels/dims.h) into dx (B,T,C), dw (KW,OC,C), dbias (OC);
// any of the three may be null (not wanted):
//   dx[t + j - KW/2] += dout[t] w_j;   dw_j += dout^T x_shifted_j;   dbias += sum_t dout[t]
template <class T>
void conv1d_backward(const Conv1dDims& d, const T* x, const T* w, const T* dout, T* dx, T* dw,
                     T* dbias);

}  // namespace tfm::kernels
