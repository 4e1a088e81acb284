#include "decode/rnn_decoder.h"

#include <cstring>

#include "autograd/ops.h"
#include "decode/kv_self_attention.h"

namespace tfm {

namespace {
Var gather(const Var& v, const std::vector<int64_t>& from) {
  if (!v.defined()) return v;
  return Var(gather_rows(v.value(), from, v.value().numel() / v.value().dim(0)));
}
}  // namespace

RnnDecoder::RnnDecoder(const RnnSeq2Seq& model, const Batch& src, int64_t copies, int64_t max_steps)
    : model_(model), rows_(src.B() * copies), max_steps_(max_steps), S_(src.T()) {
  TFM_CHECK(max_steps <= model.config().max_len, "decoding ", max_steps, " steps needs max_len >= that, the model has ",
            model.config().max_len);
  NoGradGuard no_grad;
  ForwardContext ctx;
  RnnSeq2Seq::Encoded e = model.encode(src, ctx);
  std::vector<int64_t> replicate(rows_);
  for (int64_t r = 0; r < rows_; ++r) replicate[r] = r / copies;
  for (const auto& f : e.final) state_.push_back({gather(f.h, replicate), gather(f.c, replicate)});
  const int64_t C = model.config().d_model;
  states_ = gather_rows(e.states.value().reshape({src.B(), S_, C}), replicate, S_ * C);
  src_pad_.resize(rows_ * S_);
  for (int64_t r = 0; r < rows_; ++r) std::memcpy(src_pad_.data() + r * S_, src.pad.data() + replicate[r] * S_, S_);
}

void RnnDecoder::reorder(const std::vector<int64_t>& from) {
  for (int64_t f : from) TFM_ASSERT(f >= 0 && f < rows_, "reorder: row ", f, " of ", rows_);
  for (auto& s : state_) s = {gather(s.h, from), gather(s.c, from)};
  states_ = gather_rows(states_, from, states_.numel() / states_.dim(0));
  std::vector<uint8_t> pad(from.size() * S_);
  for (size_t i = 0; i < from.size(); ++i) std::memcpy(pad.data() + i * S_, src_pad_.data() + from[i] * S_, S_);
  src_pad_ = std::move(pad);
  rows_ = static_cast<int64_t>(from.size());
}

const Tensor& RnnDecoder::step(const std::vector<int32_t>& tokens) {
  TFM_ASSERT(static_cast<int64_t>(tokens.size()) == rows_, "step: ", tokens.size(), " tokens for ", rows_, " rows");
  TFM_CHECK(step_ < max_steps_, "decoding past ", max_steps_, " positions");
  NoGradGuard no_grad;
  ForwardContext ctx;
  Var x = ops::embedding(model_.tgt_embed.weight, Tensor::from_vector<int32_t>(tokens, {rows_, 1}), 1.0, Tensor());
  for (size_t l = 0; l < model_.decoder_layers.size(); ++l) {
    state_[l] = model_.step_layer(*model_.decoder_layers[l], x, state_[l]);
    x = state_[l].h;
  }
  const int64_t C = model_.config().d_model;
  Var states(states_.reshape({rows_ * S_, C}));
  logprobs_ = ops::log_softmax(model_.output(x, states, rows_, 1, S_, &src_pad_, ctx)).value();
  ++step_;
  return logprobs_;
}

}  // namespace tfm
