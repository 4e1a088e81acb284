#include "decode/lm_decoder.h"

#include "autograd/ops.h"

namespace tfm {

LmDecoder::LmDecoder(const TransformerLM& model, int64_t rows, int64_t max_steps)
    : model_(model), rows_(rows), max_steps_(max_steps) {
  TFM_CHECK(max_steps <= model.config().max_len, "decoding ", max_steps, " steps needs max_len >= that, the model has ",
            model.config().max_len);
  for (size_t l = 0; l < model.layers.size(); ++l)
    cache_.emplace_back(rows, max_steps, model.config().d_model, model.dtype());
}

void LmDecoder::reorder(const std::vector<int64_t>& from) {
  for (int64_t f : from) TFM_ASSERT(f >= 0 && f < rows_, "reorder: row ", f, " of ", rows_);
  for (auto& c : cache_) c.reorder(from, step_);
  rows_ = static_cast<int64_t>(from.size());
}

const Tensor& LmDecoder::step(const std::vector<int32_t>& tokens) {
  TFM_ASSERT(static_cast<int64_t>(tokens.size()) == rows_, "step: ", tokens.size(), " tokens for ", rows_, " rows");
  TFM_CHECK(step_ < max_steps_, "decoding past ", max_steps_, " positions (max_len ", model_.config().max_len, ")");
  NoGradGuard no_grad;
  ForwardContext ctx;  // inference: no dropout
  const int64_t t = step_, H = model_.config().heads;
  Var x = model_.embed_step(Tensor::from_vector<int32_t>(tokens, {rows_, 1}), t);
  for (size_t l = 0; l < model_.layers.size(); ++l) {
    const EncoderLayer& layer = *model_.layers[l];
    x = layer.run(x, [&](const Var& in) { return cached_self_attention(layer.self_attn, cache_[l], in, t, H); }, ctx);
  }
  if (model_.norm) x = model_.norm->forward(x);
  logprobs_ = ops::log_softmax(model_.generator.forward(x)).value();
  ++step_;
  return logprobs_;
}

}  // namespace tfm
