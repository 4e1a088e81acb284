// The recurrent encoder-decoder that the Transformer replaced (the notes' "RNN seq2seq"):
//   encoder: encoder_layers stacked LSTM (or GRU) layers over the source embeddings;
//   decoder: as many stacked layers over the target embeddings, each started from the final
//            state of the encoder layer of the same depth (Sutskever et al., 2014);
//   attention = "none": logits = W h_t, so everything the decoder knows of the source passes
//            through the fixed-size final state: the "fixed context vector" of the notes;
//   otherwise (Luong et al., 2015, global attention): c_t = Attention(h_t, encoder states),
//            h~_t = tanh(W_c [c_t; h_t]), logits = W h~_t. The attention is the project's
//            multi-head attention module with the configured score: dot (Luong), additive
//            (Bahdanau's score v^T tanh(W1 q + W2 k)), scaled dot or cosine; heads = 1 is the
//            classic single attention. The context is computed from the current state h_t and
//            not fed back into the next step's input (Luong without input feeding), so the
//            decoder's recurrence runs over the whole target at once when training.
// Dropout (config.dropout) on the embeddings, between layers and on h~_t. No positions: the
// recurrence orders the sequence.
// Parameter names: src_embed.weight, tgt_embed.weight, encoder.layers.N.{weight,bias}_{ih,hh}_l0,
// decoder.layers.N.*, attention.* (nn.MultiheadAttention's), combine_context.{weight,bias},
// combine_state.weight, generator.{weight,bias}.
#pragma once
#include <memory>
#include <vector>

#include "autograd/ops_recurrent.h"
#include "models/seq2seq.h"
#include "nn/layers.h"
#include "nn/recurrent.h"
#include "nn/scored_attention.h"

namespace tfm {

class RnnSeq2Seq : public Seq2SeqModel {
 public:
  explicit RnnSeq2Seq(const Config& c, DType dt = DType::F32);

  Var forward(const Batch& src, const Batch& tgt_in, ForwardContext& ctx) const override;
  // U(-0.1, 0.1) embeddings, PyTorch's initialisation for the recurrent layers, Xavier-uniform
  // matrices and zero biases elsewhere.
  void init_parameters(Rng& rng) override;

  struct Encoded {
    Var states;                                // (B*S, C): the top layer's output at every position
    std::vector<ops::RecurrentState> final;    // per layer
  };
  Encoded encode(const Batch& src, ForwardContext& ctx) const;
  // One recurrent layer over x (B, T, I).
  ops::RecurrentResult run_layer(const RecurrentLayer& layer, const Var& x, const std::vector<int32_t>& lengths,
                                 const ops::RecurrentState& initial) const;
  // One step of a recurrent layer (decoding): x (R, I).
  ops::RecurrentState step_layer(const RecurrentLayer& layer, const Var& x, const ops::RecurrentState& state) const;
  // From the decoder's top states h (B*T, C) to logits (B*T, V), attending over states (B*S, C).
  Var output(const Var& h, const Var& states, int64_t B, int64_t T, int64_t S, const std::vector<uint8_t>* src_pad,
             ForwardContext& ctx) const;

  bool lstm() const { return lstm_; }
  bool has_attention() const { return attention != nullptr; }

  Embedding src_embed, tgt_embed;
  std::vector<std::unique_ptr<RecurrentLayer>> encoder_layers, decoder_layers;
  std::unique_ptr<ScoredAttention> attention;             // null for attention = "none"
  std::unique_ptr<Linear> combine_context, combine_state;  // W_c = [W_cc | W_cs]
  Linear generator;

 private:
  bool lstm_;
  Module encoder_scope_, decoder_scope_, enc_layers_scope_, dec_layers_scope_;
};

// Non-pad positions per row of a batch.
std::vector<int32_t> batch_lengths(const Batch& b);

}  // namespace tfm
