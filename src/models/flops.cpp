#include "models/flops.h"

namespace tfm {

ModelFlops estimate_flops(const Config& c, int64_t src_len, int64_t tgt_len) {
  const double d = c.d_model, f = c.d_ff, V = c.tgt_vocab_size, S = static_cast<double>(src_len),
               T = static_cast<double>(tgt_len);
  // Encoder layer: QKV and output projections, FFN, Q K^T and P V.
  const double enc = 2 * S * d * 3 * d + 2 * S * d * d + 2 * 2 * S * d * f + 2 * 2 * S * S * d;
  // Decoder layer: self-attention as above over T, cross-attention (Q and output from the
  // decoder, K and V from the S encoder outputs), FFN.
  const double dec = 2 * T * d * 3 * d + 2 * T * d * d + 2 * 2 * T * T * d  //
                     + 2 * T * d * d + 2 * S * d * 2 * d + 2 * T * d * d + 2 * 2 * T * S * d  //
                     + 2 * 2 * T * d * f;
  const double gen = 2 * T * d * V;
  ModelFlops r;
  r.forward = c.encoder_layers * enc + c.decoder_layers * dec + gen;
  r.per_target_token = tgt_len > 0 ? r.forward / T : 0;
  r.training_per_target_token = 3 * r.per_target_token;
  return r;
}

}  // namespace tfm
