#include "decode/incremental.h"

#include <cmath>
#include <cstring>

#include "autograd/ops.h"
#include "kernels/attention.h"
#include "kernels/relative_attention.h"

namespace tfm {


IncrementalDecoder::IncrementalDecoder(const Transformer& model, const Batch& src, int64_t copies,
                                       int64_t max_steps)
    : model_(model),
      rows_(src.B() * copies),
      max_steps_(max_steps),
      S_(src.T()),
      C_(model.config().d_model) {
  TFM_CHECK(max_steps <= model.config().max_len, "decoding ", max_steps,
            " steps needs max_len >= that, the model has ", model.config().max_len);
  NoGradGuard no_grad;
  ForwardContext ctx;
  Var memory = model.encode(src, ctx);  // (B*S, C)
  sentence_.resize(rows_);
  for (int64_t r = 0; r < rows_; ++r) sentence_[r] = r / copies;
  src_pad_ = src.pad;
  const DType dt = model.dtype();
  for (const auto& layer : model.decoder_layers) {
    const auto& mha = layer->multihead_attn;
    Var kv = ops::linear(memory, mha.in_proj_weight, mha.in_proj_bias, C_, 3 * C_);  // (B*S, 2C)
    LayerCache c;
    c.cross = kv.value().reshape({src.B(), S_, 2 * C_});
    c.self = KvCache(rows_, max_steps_, C_, dt);
    cache_.push_back(std::move(c));
  }
}

void IncrementalDecoder::reorder(const std::vector<int64_t>& from) {
  for (int64_t f : from) TFM_ASSERT(f >= 0 && f < rows_, "reorder: row ", f, " of ", rows_);
  for (auto& c : cache_) c.self.reorder(from, step_);
  std::vector<int64_t> sentence(from.size());
  for (size_t i = 0; i < from.size(); ++i) sentence[i] = sentence_[from[i]];
  sentence_ = std::move(sentence);
  rows_ = static_cast<int64_t>(from.size());
}

const Tensor& IncrementalDecoder::step(const std::vector<int32_t>& tokens) {
  TFM_ASSERT(static_cast<int64_t>(tokens.size()) == rows_, "step: ", tokens.size(), " tokens for ", rows_, " rows");
  TFM_CHECK(step_ < max_steps_, "decoding past ", max_steps_, " positions");
  NoGradGuard no_grad;
  ForwardContext ctx;  // inference: no dropout
  const Config& cfg = model_.config();
  const int64_t R = rows_, C = C_, t = step_, H = cfg.heads, dh = C / H;
  const DType dt = model_.dtype();

  // Section 3.4 and 3.5 at position t: embedding * sqrt(d_model) + the position's encoding.
  Tensor ids = Tensor::from_vector<int32_t>(tokens, {R, 1});
  Var x = model_.embed_target_step(ids, t);

  for (size_t l = 0; l < model_.decoder_layers.size(); ++l) {
    const DecoderLayer& layer = *model_.decoder_layers[l];
    LayerCache& cache = cache_[l];
    const AttentionKind kind = layer.multihead_attn.kind;
    const bool dot_family = kind == AttentionKind::ScaledDot || kind == AttentionKind::Dot;
    const double scale = kind == AttentionKind::Dot ? 1.0 : 1.0 / std::sqrt(static_cast<double>(dh));
    // Masked self-attention over positions 0..t through the layer's KV cache.
    auto self_attention = [&](const Var& in) { return cached_self_attention(layer.self_attn, cache.self, in, t, H); };
    // Encoder-decoder attention against the keys and values computed once in the constructor.
    auto cross_attention = [&](const Var& in) {
      const auto& mha = layer.multihead_attn;
      Var q = ops::linear(in, mha.in_proj_weight, mha.in_proj_bias, 0, C);  // (R, C)
      if (!dot_family) {  // the layer's own op, on each row's copy of its sentence's keys and values
        Var kv(gather_rows(cache.cross, sentence_, S_ * 2 * C).reshape({R * S_, 2 * C}));
        std::vector<uint8_t> pad(R * S_);
        for (int64_t r = 0; r < R; ++r) std::memcpy(pad.data() + r * S_, src_pad_.data() + sentence_[r] * S_, S_);
        ops::AttentionArgs a;
        a.B = R, a.Tq = 1, a.Tk = S_, a.H = H, a.dh = dh;
        a.k_col = 0, a.v_col = C, a.key_pad = &pad;
        return mha.out_proj.forward(mha.attend(q, kv, kv, a));
      }
      Tensor out = Tensor::empty({R, C}, dt);
      dispatch_float(dt, [&]<class T>() {
        const kernels::AttnLayout lkv{S_ * 2 * C, 2 * C};
        const T* kv = cache.cross.data<T>();
        kernels::attention_one_query<T>(R, H, S_, dh, q.value().data<T>(), C, kv, lkv, kv + C, lkv,
                                        src_pad_.data(), static_cast<T>(scale), out.data<T>(), C,
                                        sentence_.data());
      });
      return mha.out_proj.forward(Var(out));
    };
    x = layer.run(x, self_attention, cross_attention, ctx);
  }
  if (model_.decoder_norm) x = model_.decoder_norm->forward(x);
  logprobs_ = ops::log_softmax(model_.generator.forward(x)).value();
  ++step_;
  return logprobs_;
}

}  // namespace tfm
