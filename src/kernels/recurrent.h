// Recurrent layers of the RNN seq2seq baseline (Sutskever et al., 2014; Bahdanau et al., 2015),
// with PyTorch's exact equations and parameter layout (nn.LSTM, nn.GRU: one layer, one
// direction, batch_first). Forward beside backward; the backward ACCUMULATES (kernels/dims.h).
//
// LSTM, W_ih (4H, I), W_hh (4H, H), rows in gate order i, f, g, o:
//   a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
//   i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
//   c_t = f * c_{t-1} + i * g          h_t = o * tanh(c_t)
// GRU, W_ih (3H, I), W_hh (3H, H), rows in gate order r, z, n:
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)   z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//   h_t = (1 - z) * n + z * h_{t-1}
//
// Sequences: x (B, T, I) padded at the end, lengths[b] in [0, T]. A padded step (t >= lengths[b])
// leaves the state unchanged, writes a zero output and receives no gradient, so the final state
// is each row's state at its own last step (as pack_padded_sequence / pad_packed_sequence give).
// The input projection of all steps is one GEMM; the recurrence is one GEMM per step.
// Extra letters (beside dims.h): I input width, H here the hidden width, G = 4H (LSTM) or 3H (GRU).
#pragma once
#include <cstdint>

namespace tfm::kernels {

struct RnnDims {
  int64_t B = 0, T = 0, I = 0, H = 0;
};

// x (B,T,I), w_ih (4H,I), w_hh (4H,H), b_ih, b_hh (4H), h0, c0 (B,H) or null (zeros)
//   -> out (B,T,H) (zero at padded steps), h_n, c_n (B,H);
//   saved for the backward: gates (B,T,4H) = activated i, f, g, o; cells (B,T,H) = c_t.
template <class T>
void lstm_forward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                  const T* b_ih, const T* b_hh, const T* h0, const T* c0, T* out, T* h_n, T* c_n,
                  T* gates, T* cells);
// dout (B,T,H), dh_n, dc_n (B,H) (each may be null: zero) -> accumulates into dx (B,T,I),
// dw_ih, dw_hh, db_ih, db_hh, dh0, dc0; any gradient pointer may be null (not wanted).
template <class T>
void lstm_backward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                   const T* h0, const T* c0, const T* out, const T* gates, const T* cells,
                   const T* dout, const T* dh_n, const T* dc_n, T* dx, T* dw_ih, T* dw_hh, T* db_ih,
                   T* db_hh, T* dh0, T* dc0);
// One step for decoding, the same cell code as lstm_forward:
//   x (B,I), h, c (B,H) -> h_new, c_new (B,H)  (may not alias h, c)
template <class T>
void lstm_step(int64_t B, int64_t I, int64_t H, const T* x, const T* h, const T* c, const T* w_ih,
               const T* w_hh, const T* b_ih, const T* b_hh, T* h_new, T* c_new);

// x (B,T,I), w_ih (3H,I), w_hh (3H,H), b_ih, b_hh (3H), h0 (B,H) or null
//   -> out (B,T,H) (zero at padded steps), h_n (B,H);
//   saved: gates (B,T,3H) = activated r, z, n; hn (B,T,H) = W_hn h_{t-1} + b_hn.
template <class T>
void gru_forward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                 const T* b_ih, const T* b_hh, const T* h0, T* out, T* h_n, T* gates, T* hn);
template <class T>
void gru_backward(const RnnDims& d, const int32_t* lengths, const T* x, const T* w_ih, const T* w_hh,
                  const T* h0, const T* out, const T* gates, const T* hn, const T* dout,
                  const T* dh_n, T* dx, T* dw_ih, T* dw_hh, T* db_ih, T* db_hh, T* dh0);
// x (B,I), h (B,H) -> h_new (B,H)  (may not alias h)
template <class T>
void gru_step(int64_t B, int64_t I, int64_t H, const T* x, const T* h, const T* w_ih, const T* w_hh,
              const T* b_ih, const T* b_hh, T* h_new);

}  // namespace tfm::kernels
