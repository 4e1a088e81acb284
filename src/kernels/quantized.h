// int8 inference for the linear layers (VNNI through oneDNN's int8 matmul).
//
// While an Int8Inference object is alive, every linear layer evaluated without gradients
// (ops::linear under NoGradGuard: encoding, decoding, scoring) in fp32 runs as
//   y[i, j] = sx_i * sw_j * sum_k xq[i, k] * wq[j, k] + b[j]
// with weights quantized once, symmetrically per output channel (wq = round(W / sw), sw =
// max_k |W[j, k]| / 127), and activations quantized symmetrically per row on every call (xq =
// round(x / sx), sx = max_k |x[i, k]| / 127); the products accumulate exactly in int32. Everything
// else (attention, softmax, LayerNorm, embeddings) stays fp32.
//
// Quantized weights are kept, by address, until the object is destroyed: the caller promises that
// no parameter changes while it lives (a translate/eval/score process). Training refuses it.
#pragma once
#include <cstdint>

namespace tfm::kernels {

class Int8Inference {
 public:
  // Throws tfm::Error when oneDNN finds no int8 matmul with VNNI on this CPU, or when another
  // Int8Inference is alive.
  Int8Inference();
  ~Int8Inference();
  Int8Inference(const Int8Inference&) = delete;
  Int8Inference& operator=(const Int8Inference&) = delete;
};

// True while an Int8Inference is alive.
bool int8_inference_active();
// True when oneDNN can use VNNI (AVX512_VNNI or AVX-VNNI) here.
bool int8_supported();

// y (N, OC) = x (N, C) W^T (+ b) with W (OC, C) row-major, quantized as above. W's address (with
// OC and C) names its quantized copy. b may be null.
void int8_linear(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b, float* y);

// The symmetric int8 value of x / scale: round to nearest even, clamped to
// [-127, 127]. What int8_linear applies to weights and activations; exposed for the tests.
int8_t quantize_int8(float x, float inv_scale);

}  // namespace tfm::kernels
