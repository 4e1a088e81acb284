// Linear layers for inference with weights prepared once: packed fp32, or int8 (VNNI).
//
// While an InferenceLinears object is alive, every linear layer evaluated without gradients
// (ops::linear under NoGradGuard: encoding, decoding, scoring) in fp32 uses its weights in a
// form made on first use and kept, by address, until the object is destroyed:
//   - FP32: reordered into the blocked layout of oneDNN's matmul for the shape, so no call packs
//     them again (dnnl_sgemm packs its B operand on every call: at 64 rows, a third of the time);
//     the sums are fp32 as before, in another order. Products of fewer than 4 rows (one
//     sentence, one beam) are matrix-vector products: W is read once, row by row, split evenly
//     over the threads, with the bias added in the same pass. Products of 4 to 31 rows, on CPUs
//     where oneDNN would pack W again on every call (AVX2 without AVX-512), use W packed once
//     into panels instead (few_rows_panels_available, below).
//   - INT8: y[i, j] = sx_i * sw_j * sum_k xq[i, k] * wq[j, k] + b[j], weights quantized
//     symmetrically per output channel (wq = round(W / sw), sw = max_k |W[j, k]| / 127),
//     activations symmetrically per row on every call (sx = max_k |x[i, k]| / 127); the products
//     accumulate exactly in int32. Attention, softmax, LayerNorm and embeddings stay fp32.
// The caller promises that no parameter changes while the object lives (translate, eval, score,
// sample); training never makes one.
#pragma once
#include <omp.h>

#include <cstdint>
#include <utility>

namespace tfm::kernels {

enum class LinearPrecision { FP32, INT8 };

class InferenceLinears {
 public:
  // Throws tfm::Error for INT8 when oneDNN finds no VNNI on this CPU, and when another
  // InferenceLinears is alive.
  explicit InferenceLinears(LinearPrecision p);
  ~InferenceLinears();
  InferenceLinears(const InferenceLinears&) = delete;
  InferenceLinears& operator=(const InferenceLinears&) = delete;
};

// True while an InferenceLinears is alive; its precision.
bool inference_linears_active();
LinearPrecision inference_linears_precision();
// True when oneDNN can use VNNI (AVX512_VNNI or AVX-VNNI) here.
bool int8_supported();

// W (rows, cols) transposed, (cols, rows) row-major: made on first use and kept, by address,
// while the InferenceLinears lives (the fused decoding step folds attention projections with it).
const float* inference_transposed(const float* W, int64_t rows, int64_t cols);

// T (n, OC) = (scale E) W^T (+ b) for the n rows of a table E (n, C), an embedding: a linear
// layer's output for every row the table can give it, made on first use and kept, by address,
// while the InferenceLinears lives (the fused decoding step reads the first layer's projections of
// the token and the position from it instead of multiplying by W). fp32 sgemm; b may be null.
const float* inference_table_product(const float* E, int64_t n, int64_t C, float scale, const float* W, int64_t OC,
                                     const float* b);

// y (N, OC) = x (N, C) W^T (+ b) with W (OC, C) row-major, in the active precision (FP32: the
// matrix-vector loop below for N < 4, the panels above where they are available, else oneDNN). W's address
// (with OC and C) names its prepared copy. b may be null.
void inference_linear(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b, float* y);

// The product inference_linear computes in FP32 for N < 4 rows (one sentence, one beam): each
// output is one dot product of a row of W with a row of x (the bias added after), so the result
// does not depend on how the rows of W are split over threads. This form is a work-shared loop
// for a parallel region the caller has opened: every thread of the team must call it, and it
// ends with the team's barrier (outside a parallel region the calling thread does all of it).
// It needs no InferenceLinears.
void matrix_vector_in_team(const float* x, int64_t N, int64_t C, const float* W, int64_t OC, const float* b,
                           float* y);
// Its part for rows [o_begin, o_end) of W, on the calling thread alone: y[n * ldy + o] for those o.
void matrix_vector_rows(const float* x, int64_t N, int64_t C, const float* W, int64_t o_begin, int64_t o_end,
                        const float* b, float* y, int64_t ldy);
// The calling thread's block of [0, n) in its team (the whole of it outside a parallel region):
// contiguous, in thread order, sizes differing by at most one.
inline std::pair<int64_t, int64_t> thread_block(int64_t n) {
  const int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
  return {t * n / T, (t + 1) * n / T};
}

// Products of a few rows (4 <= N <= kPanelRowsMax: one sentence's encoder, a few beams) in FP32 on
// CPUs with AVX2 and without AVX-512, where oneDNN 2.6 keeps the weights plain and packs them again
// on every call: W is packed once into panels of 16 output channels, (C, 16) each, and every
// output is one chain of fused multiply-adds over c = 0, 1, ..., C - 1 from zero, the bias added
// after, whatever the thread count. True when this build has that kernel.
constexpr int64_t kPanelRowsMax = 31;
bool few_rows_panels_available();
// That kernel for other products (the fused step's folding of attention projections), where it
// is available: B (K, N) with element (k, n) at B[k * sk + n * sn] in panels, made on first use
// and kept, by (B, K, N, sk, sn), while the InferenceLinears lives (a weight W (OC, C) is B = W^T:
// sk 1, sn C) ...
const float* inference_panels(const float* B, int64_t K, int64_t N, int64_t sk, int64_t sn);
// ... and y (M, N) at row stride ldy = x (M, K) at row stride ldx times B (+ b: N floats, may be
// null), every output one chain of fused multiply-adds over k from zero, then the bias. Any M;
// shared over the threads when called outside a parallel region.
void panels_product(const float* x, int64_t ldx, int64_t M, int64_t K, const float* panels, int64_t N, const float* b,
                    float* y, int64_t ldy);

// The symmetric int8 value of x * inv_scale: round to nearest even, clamped to [-127, 127].
// What INT8 applies to weights and activations; exposed for the tests.
int8_t quantize_int8(float x, float inv_scale);

}  // namespace tfm::kernels
