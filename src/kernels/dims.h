// Dimension letters used in every kernel's shape comment, defined once for the project:
//   B  batch (sentences)        T  time steps of the sequence (Tq queries, Tk keys)
//   N  rows = B*T flattened     C  channels (d_model, or the input width of a Linear)
//   OC output channels          H  attention heads          dh  channels per head (C / H)
//   V  vocabulary size          F  feed-forward hidden width (d_ff)
// Gradient rule (as in llm.c): every backward kernel ACCUMULATES (+=) into the gradients it
// is given; the autograd tier hands it zero-initialised buffers. So a tensor used twice (tied
// embeddings, the residual stream, K and V read from one buffer) just works. The one exception
// is a saving: the big backward kernels take `accumulate` (default true); false means they write
// (=) every element of that output, which the autograd tier asks for only when the buffer is new
// (Node::claim_grad), so the result is the same as adding into zeros, without the zero fill.
#pragma once
#include <cstdint>
