// Incremental decoding of the Transformer with a KV cache: the decoder runs one position at a
// time; each layer's self-attention keys and values of earlier positions are kept, not
// recomputed, and the encoder-decoder attention's keys and values are computed once per sentence.
// Rows are (sentence, hypothesis) pairs; reorder() follows beam search's choices.
#pragma once
#include <vector>

#include "decode/kv_self_attention.h"
#include "decode/step_decoder.h"
#include "models/transformer.h"

namespace tfm {

class IncrementalDecoder final : public StepDecoder {
 public:
  // Encodes `src` and prepares `copies` decoder rows per sentence (1 for greedy, beam size for
  // beam search): row r belongs to sentence r / copies. Memory for `max_steps` positions.
  IncrementalDecoder(const Transformer& model, const Batch& src, int64_t copies, int64_t max_steps);

  int64_t rows() const override { return rows_; }
  int64_t steps() const override { return step_; }
  const Tensor& step(const std::vector<int32_t>& tokens) override;
  void reorder(const std::vector<int64_t>& from) override;

  // The fused step: for fewer than 4 rows (one sentence greedy), fp32 with prepared inference
  // weights (kernels/inference_linear.h) and layers of the standard kinds (scaled dot-product or
  // dot scores, no relative or local attention), a step runs in one parallel region over buffers
  // made once, with the same kernels on the same inputs as the general step, so its
  // log-probabilities are the general step's, bit for bit; it only drops the per-operation
  // tensors, allocations, thread start-ups and most barriers. On by default; off runs every step
  // the general way.
  void set_fused(bool on) { fused_on_ = on; }
  // How many steps so far took the fused path.
  int64_t fused_steps() const { return fused_steps_; }
  // The fused step's encoder-decoder attention with the query and output projections folded into
  // the encoder's keys and values, once a sentence (see fold_cross_attention in the .cpp): the
  // same function, fewer bytes a step when the sources are short (rows x heads x S <= C / 2),
  // equal to the unfolded step up to float rounding, not bit for bit. On by default.
  void set_fold_cross(bool on) { fold_on_ = on; }
  // True when the fused steps so far used the folded form.
  bool cross_folded() const { return !folded_.empty(); }
  // The fused step's first self-attention projections from tables: with post-norm layers the
  // first decoder layer's query, key and value are linear in its input, the token's scaled
  // embedding plus its position's encoding, so they are a row of (scale E) Wqkv^T plus a row of
  // PE Wqkv^T + b, tables made once a process (kernels::inference_table_product) where they are no
  // larger than Wqkv, (target vocabulary + positions) <= d_model rows: G2P's 64 + 64 against 256.
  // A step then reads two rows of 3C floats instead of the 3C x C matrix; equal to the unfolded
  // step up to float rounding, not bit for bit. On by default.
  void set_fold_embedding(bool on) { embed_fold_on_ = on; }
  // True when the fused steps so far read the first projections from the tables.
  bool embedding_folded() const { return token_qkv_ != nullptr; }

 private:
  bool fused_eligible() const;
  const Tensor& step_fused(const std::vector<int32_t>& tokens);
  void fold_cross_attention();
  bool embedding_foldable() const;

  struct LayerCache {
    KvCache self;   // self-attention keys and values so far
    Tensor cross;   // (sentences, S, 2C): encoder-decoder keys | values
  };
  const Transformer& model_;
  int64_t rows_, max_steps_, S_, C_;
  int64_t step_ = 0;
  std::vector<LayerCache> cache_;
  // The sentence of each row: its row of `cross` and of src_pad_. Reordering rows moves these
  // indices, never the encoder's keys and values, which the beams of a sentence share.
  std::vector<int64_t> sentence_;
  std::vector<uint8_t> src_pad_;  // (sentences, S)
  Tensor logprobs_;
  // The fused step's state: whether the layers allow it, and its buffers (for rows_ < 4 rows).
  bool fused_layers_ = false, fused_on_ = true;
  int64_t fused_steps_ = 0;
  std::vector<float> fq_, fsub_, fff_, flogits_;  // shared by the threads
  std::vector<float> fprivate_;                  // a copy for each thread: x, h, att (R, C), statistics (2R)
  // The folded encoder-decoder attention of each layer: for every sentence s, head h and source
  // position j, U[s, h, j] (C) = the query projection folded into key j, beta[s, h, j] = the query
  // bias's part of the score, P[s, h, j] (C) = the output projection applied to value j.
  struct Folded {
    std::vector<float> u, beta, p;
  };
  std::vector<Folded> folded_;
  bool fold_on_ = true;
  // The first layer's projections of every target token and every position (embedding_folded).
  const float* token_qkv_ = nullptr;  // (V, 3C): (scale E) Wqkv^T
  const float* pos_qkv_ = nullptr;    // (positions, 3C): PE Wqkv^T + b; null without positions
  bool embed_fold_on_ = true;
};

}  // namespace tfm
