// LSTM and GRU over padded batches as differentiable ops (kernels/recurrent.h has the
// equations: PyTorch's nn.LSTM and nn.GRU, one layer, one direction, batch_first), and their
// one-step forms for decoding.
#pragma once
#include <cstdint>
#include <vector>

#include "autograd/var.h"

namespace tfm::ops {

// PyTorch's parameters of layer 0: weight_ih_l0 (G, I), weight_hh_l0 (G, H), bias_ih_l0 and
// bias_hh_l0 (G), with G = 4H (LSTM, gates i, f, g, o) or 3H (GRU, gates r, z, n).
struct RecurrentWeights {
  Var w_ih, w_hh, b_ih, b_hh;
};

// A recurrent state: h (B, H), and c (B, H) for the LSTM (undefined for the GRU).
struct RecurrentState {
  Var h, c;
};

// out (B, T, H): h_t at every step, zero at padded steps; final: each row's state at its own
// last step (the initial state for a row of length 0).
struct RecurrentResult {
  Var out;
  RecurrentState final;
};

// x (B, T, I), lengths (B) in [0, T], padding at the end; initial.h, initial.c (B, H) or
// undefined (zeros). Gradients flow to x, the initial state and the four weights.
RecurrentResult lstm(const Var& x, const std::vector<int32_t>& lengths, const RecurrentWeights& w,
                     const RecurrentState& initial = {});
RecurrentResult gru(const Var& x, const std::vector<int32_t>& lengths, const RecurrentWeights& w,
                    const Var& h0 = {});

// One step of decoding, forward only (the same cell code as the sequence ops):
// x (B, I), state (B, H) -> the new state. Calling backward through it is an error naming the op.
RecurrentState lstm_step(const Var& x, const RecurrentState& state, const RecurrentWeights& w);
Var gru_step(const Var& x, const Var& h, const RecurrentWeights& w);

}  // namespace tfm::ops
