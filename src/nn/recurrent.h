// The recurrent layers of the RNN seq2seq baseline: nn.LSTM and nn.GRU of PyTorch (one layer,
// one direction, batch_first), with PyTorch's parameter names and layout, so a state_dict
// moves between the two. Equations: kernels/recurrent.h.
#pragma once
#include <vector>

#include "autograd/ops_recurrent.h"
#include "core/rng.h"
#include "nn/module.h"

namespace tfm {

// Shared by LSTM (gates = 4: i, f, g, o) and GRU (gates = 3: r, z, n).
class RecurrentLayer : public Module {
 public:
  RecurrentLayer(int64_t input_size, int64_t hidden_size, int64_t gates, DType dt);
  // PyTorch's reset_parameters: every parameter uniform(-1/sqrt(H), 1/sqrt(H)).
  void reset_parameters(Rng& rng);
  ops::RecurrentWeights weights() const { return {weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0}; }
  Var& weight_ih_l0;  // (gates*H, I)
  Var& weight_hh_l0;  // (gates*H, H)
  Var& bias_ih_l0;    // (gates*H)
  Var& bias_hh_l0;    // (gates*H)
  int64_t input_size, hidden_size;
};

class LSTM : public RecurrentLayer {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, DType dt) : RecurrentLayer(input_size, hidden_size, 4, dt) {}
  // x (B, T, I) padded at the end, lengths (B); initial state (B, H) each, or undefined (zeros).
  ops::RecurrentResult forward(const Var& x, const std::vector<int32_t>& lengths,
                               const ops::RecurrentState& initial = {}) const {
    return ops::lstm(x, lengths, weights(), initial);
  }
  // One decoding step, forward only: x (B, I), state (B, H) -> the new state.
  ops::RecurrentState step(const Var& x, const ops::RecurrentState& state) const {
    return ops::lstm_step(x, state, weights());
  }
};

class GRU : public RecurrentLayer {
 public:
  GRU(int64_t input_size, int64_t hidden_size, DType dt) : RecurrentLayer(input_size, hidden_size, 3, dt) {}
  ops::RecurrentResult forward(const Var& x, const std::vector<int32_t>& lengths, const Var& h0 = {}) const {
    return ops::gru(x, lengths, weights(), h0);
  }
  Var step(const Var& x, const Var& h) const { return ops::gru_step(x, h, weights()); }
};

}  // namespace tfm
