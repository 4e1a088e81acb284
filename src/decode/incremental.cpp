#include "decode/incremental.h"

#include <cmath>
#include <cstring>

#include "autograd/ops.h"
#include "kernels/attention.h"
#include "kernels/relative_attention.h"

namespace tfm {

namespace {
// Gathers rows of a (rows, ...) tensor: out[i] = in[from[i]], first `keep` elements of each row.
Tensor gather_rows(const Tensor& in, const std::vector<int64_t>& from, int64_t keep) {
  const int64_t row = in.numel() / in.dim(0);
  Shape s = in.shape();
  s[0] = static_cast<int64_t>(from.size());
  Tensor out = Tensor::empty(s, in.dtype());
  const size_t es = dtype_size(in.dtype());
  const auto* src = static_cast<const std::byte*>(in.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (size_t i = 0; i < from.size(); ++i)
    std::memcpy(dst + i * row * es, src + from[i] * row * es, keep * es);
  return out;
}
}  // namespace

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
  std::vector<int64_t> replicate(rows_);
  for (int64_t r = 0; r < rows_; ++r) replicate[r] = r / copies;
  src_pad_.resize(rows_ * S_);
  for (int64_t r = 0; r < rows_; ++r)
    std::memcpy(src_pad_.data() + r * S_, src.pad.data() + replicate[r] * S_, S_);
  const DType dt = model.dtype();
  for (const auto& layer : model.decoder_layers) {
    const auto& mha = layer->multihead_attn;
    Var kv = ops::linear(memory, mha.in_proj_weight, mha.in_proj_bias, C_, 3 * C_);  // (B*S, 2C)
    Tensor cross = kv.value().reshape({src.B(), S_, 2 * C_});
    LayerCache c;
    c.cross = copies == 1 ? cross : gather_rows(cross, replicate, S_ * 2 * C_);
    c.k = Tensor::empty({rows_, max_steps_, C_}, dt);
    c.v = Tensor::empty({rows_, max_steps_, C_}, dt);
    cache_.push_back(std::move(c));
  }
}

void IncrementalDecoder::reorder(const std::vector<int64_t>& from) {
  for (int64_t f : from) TFM_ASSERT(f >= 0 && f < rows_, "reorder: row ", f, " of ", rows_);
  for (auto& c : cache_) {
    c.k = gather_rows(c.k, from, step_ * C_);
    c.v = gather_rows(c.v, from, step_ * C_);
    c.cross = gather_rows(c.cross, from, S_ * 2 * C_);
  }
  std::vector<uint8_t> pad(from.size() * S_);
  for (size_t i = 0; i < from.size(); ++i) std::memcpy(pad.data() + i * S_, src_pad_.data() + from[i] * S_, S_);
  src_pad_ = std::move(pad);
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
    // Masked self-attention over positions 0..t: append this position's K and V to the cache;
    // no mask is needed, every cached position precedes the query.
    const AttentionKind kind = layer.multihead_attn.kind;
    const RelativeSelfAttention* relative = layer.self_attn.relative.get();
    // Scaled dot-product and dot scores read the caches in place; the other scores go through
    // the layer's own op on contiguous copies of the cached keys and values.
    const bool dot_family = kind == AttentionKind::ScaledDot || kind == AttentionKind::Dot;
    const double scale = kind == AttentionKind::Dot ? 1.0 : 1.0 / std::sqrt(static_cast<double>(dh));
    auto args = [&](int64_t Tk) {
      ops::AttentionArgs a;
      a.B = R, a.Tq = 1, a.Tk = Tk, a.H = H, a.dh = dh;
      return a;
    };
    // Masked self-attention over positions 0..t: append this position's K and V to the cache;
    // no mask is needed, every cached position precedes the query.
    auto self_attention = [&](const Var& in) {
      const SelfAttention& sa = layer.self_attn;
      Var qkv = ops::linear(in, sa.in_proj_weight(), sa.in_proj_bias());  // (R, 3C)
      Tensor out = Tensor::empty({R, C}, dt);
      dispatch_float(dt, [&]<class T>() {
        const T* q = qkv.value().data<T>();
        T* kc = cache.k.data<T>();
        T* vc = cache.v.data<T>();
        for (int64_t r = 0; r < R; ++r) {
          std::memcpy(kc + (r * max_steps_ + t) * C, q + r * 3 * C + C, C * sizeof(T));
          std::memcpy(vc + (r * max_steps_ + t) * C, q + r * 3 * C + 2 * C, C * sizeof(T));
        }
        const kernels::AttnDims d{R, H, 1, t + 1, dh};
        const kernels::AttnLayout lq{3 * C, 3 * C}, lc{max_steps_ * C, C}, lo{C, C};
        if (relative) {  // the Music Transformer's scores: content plus clipped distance
          const Tensor& table = relative->relative_embeddings.value();
          kernels::relative_attention_block_forward<T>(
              d, relative->max_distance, table.dim(0), table.dim(1), q, lq, kc, lc, vc, lc, table.data<T>(), nullptr,
              static_cast<T>(1.0 / std::sqrt(static_cast<double>(dh))), out.data<T>(), lo);
          return;
        }
        if (!dot_family) return;
        kernels::attention_forward<T>(d, q, lq, kc, lc, vc, lc, nullptr, false, static_cast<T>(scale), 0.0, 0,
                                      nullptr, nullptr, out.data<T>(), lo);
      });
      if (dot_family || relative) return sa.out_proj().forward(Var(out));
      Tensor k = Tensor::empty({R * (t + 1), C}, dt), v = Tensor::empty({R * (t + 1), C}, dt);
      const size_t es = dtype_size(dt), row = static_cast<size_t>((t + 1) * C) * es;
      for (int64_t r = 0; r < R; ++r) {
        std::memcpy(static_cast<std::byte*>(k.raw()) + r * row,
                    static_cast<const std::byte*>(cache.k.raw()) + r * max_steps_ * C * es, row);
        std::memcpy(static_cast<std::byte*>(v.raw()) + r * row,
                    static_cast<const std::byte*>(cache.v.raw()) + r * max_steps_ * C * es, row);
      }
      return sa.out_proj().forward(sa.scored->attend(qkv, Var(k), Var(v), args(t + 1)));
    };
    // Encoder-decoder attention against the keys and values computed once in the constructor.
    auto cross_attention = [&](const Var& in) {
      const auto& mha = layer.multihead_attn;
      Var q = ops::linear(in, mha.in_proj_weight, mha.in_proj_bias, 0, C);  // (R, C)
      if (!dot_family) {
        Var kv(cache.cross.reshape({R * S_, 2 * C}));
        ops::AttentionArgs a = args(S_);
        a.k_col = 0, a.v_col = C, a.key_pad = &src_pad_;
        return mha.out_proj.forward(mha.attend(q, kv, kv, a));
      }
      Tensor out = Tensor::empty({R, C}, dt);
      dispatch_float(dt, [&]<class T>() {
        const kernels::AttnDims d{R, H, 1, S_, dh};
        const kernels::AttnLayout lq{C, C}, lkv{S_ * 2 * C, 2 * C}, lo{C, C};
        const T* kv = cache.cross.data<T>();
        kernels::attention_forward<T>(d, q.value().data<T>(), lq, kv, lkv, kv + C, lkv, src_pad_.data(),
                                      false, static_cast<T>(scale), 0.0, 0, nullptr, nullptr,
                                      out.data<T>(), lo);
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
