#include "decode/incremental.h"

#include <cmath>
#include <cstring>

#include "autograd/ops.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/inference_linear.h"
#include "kernels/layernorm.h"
#include "kernels/relative_attention.h"
#include "kernels/softmax.h"

namespace tfm {

namespace {
bool dot_score(AttentionKind k) { return k == AttentionKind::ScaledDot || k == AttentionKind::Dot; }
float score_scale(AttentionKind k, int64_t dh) {
  return static_cast<float>(k == AttentionKind::Dot ? 1.0 : 1.0 / std::sqrt(static_cast<double>(dh)));
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
  fused_layers_ = dt == DType::F32;
  for (const auto& layer : model.decoder_layers) {
    const SelfAttention& sa = layer->self_attn;
    fused_layers_ = fused_layers_ && sa.scored && !sa.relative && !sa.local && dot_score(sa.scored->kind) &&
                    dot_score(layer->multihead_attn.kind);
  }
  if (fused_layers_ && rows_ < 4) {
    const Config& cfg = model.config();
    const auto n = static_cast<size_t>(rows_);
    fq_.resize(n * C_), fsub_.resize(n * C_), fff_.resize(n * cfg.d_ff);
    flogits_.resize(n * model.generator.weight.value().dim(0));
  }
}

bool IncrementalDecoder::fused_eligible() const {
  return fused_on_ && fused_layers_ && rows_ < 4 && !fq_.empty() && kernels::inference_linears_active() &&
         kernels::inference_linears_precision() == kernels::LinearPrecision::FP32;
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
  if (fused_eligible()) return step_fused(tokens);
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

// The general step above, for the standard layers, without a tensor or a thread start-up per
// operation. Only the products are shared: each thread computes its block of a product's outputs
// (matrix_vector_rows, the kernel the general step's linear layers run), and the threads meet at
// a barrier before anything reads them. The small parts between products (LayerNorm, attention
// over the cache, the residual sums) every thread computes for itself, in its own buffers, so no
// thread waits for another there: two barriers a sub-layer. Each kernel is the one the general
// step calls, on the same inputs, so every value is the same to the last bit.
const Tensor& IncrementalDecoder::step_fused(const std::vector<int32_t>& tokens) {
  NoGradGuard no_grad;
  const Config& cfg = model_.config();
  const int64_t R = rows_, C = C_, t = step_, H = cfg.heads, dh = C / H, F = cfg.d_ff;
  const int64_t V = model_.generator.weight.value().dim(0), RC = R * C, ms = max_steps_;
  namespace k = kernels;
  Tensor ids = Tensor::from_vector<int32_t>(tokens, {R, 1});
  const Var x0 = model_.embed_target_step(ids, t);  // sections 3.4 and 3.5 at position t, as the general step
  if (!logprobs_.defined() || logprobs_.dim(0) != R) logprobs_ = Tensor::empty({R, V}, DType::F32);
  const int threads = omp_get_max_threads();
  const int64_t per_thread = 3 * RC + 2 * R;
  if (static_cast<int64_t>(fprivate_.size()) < threads * per_thread) fprivate_.resize(threads * per_thread);
  float *q = fq_.data(), *sub = fsub_.data(), *ff = fff_.data(), *logits = flogits_.data();
  auto data = [](const Var& v) { return v.defined() ? v.value().data<float>() : nullptr; };

#pragma omp parallel num_threads(threads)
  {
    float* x = fprivate_.data() + omp_get_thread_num() * per_thread;  // the residual stream
    float *h = x + RC, *att = h + RC, *mean = att + RC, *rstd = mean + R;
    std::memcpy(x, x0.value().data<float>(), static_cast<size_t>(RC) * sizeof(float));
    // This thread's outputs of y (R, ldy) = in (R, K) W^T + b for W (OC, K); no barrier.
    auto product = [&](const float* in, int64_t K, const float* W, int64_t OC, const float* b, float* y, int64_t ldy) {
      const auto [begin, end] = k::thread_block(OC);
      k::matrix_vector_rows(in, R, K, W, begin, end, b, y, ldy);
      return std::pair{begin, end};
    };
    // One residual sub-layer (transformer_layers.h): `body` maps its input to `sub`, shared,
    // ending at a barrier.
    auto sublayer = [&](const LayerNorm& norm, bool norm_first, auto&& body) {
      if (norm_first) {  // x = x + body(LN(x))
        k::layernorm_forward<float>(x, data(norm.weight), data(norm.bias), R, C, norm.eps, h, mean, rstd);
        body(h);
        k::add_forward<float>(x, sub, RC, x);
      } else {  // x = LN(x + body(x)); `att` is free here and holds the sum
        body(x);
        k::residual_layernorm_forward<float>(x, sub, data(norm.weight), data(norm.bias), R, C, norm.eps, att, h,
                                             mean, rstd);
        std::memcpy(x, h, static_cast<size_t>(RC) * sizeof(float));
      }
    };
    for (size_t l = 0; l < model_.decoder_layers.size(); ++l) {
      const DecoderLayer& layer = *model_.decoder_layers[l];
      LayerCache& cache = cache_[l];
      const ScoredAttention& sa = *layer.self_attn.scored;
      const ScoredAttention& mha = layer.multihead_attn;
      // Masked self-attention (cached_self_attention's dot-score branch): the query to `q`, this
      // position's key and value straight into the cache, then attention over positions 0..t.
      sublayer(layer.norm1, layer.norm_first, [&](const float* in) {
        const float *W = data(sa.in_proj_weight), *b = data(sa.in_proj_bias);
        float* kc = cache.self.k.data<float>() + t * C;
        float* vc = cache.self.v.data<float>() + t * C;
        product(in, C, W, C, b, q, C);
        product(in, C, W + C * C, C, b + C, kc, ms * C);
        product(in, C, W + 2 * C * C, C, b + 2 * C, vc, ms * C);
#pragma omp barrier
        const k::AttnLayout lc{ms * C, C};
        k::attention_one_query<float>(R, H, t + 1, dh, q, C, cache.self.k.data<float>(), lc,
                                      cache.self.v.data<float>(), lc, nullptr, score_scale(sa.kind, dh), att, C);
        product(att, C, data(sa.out_proj.weight), C, data(sa.out_proj.bias), sub, C);
#pragma omp barrier
      });
      // Encoder-decoder attention against the keys and values made in the constructor.
      sublayer(layer.norm2, layer.norm_first, [&](const float* in) {
        product(in, C, data(mha.in_proj_weight), C, data(mha.in_proj_bias), q, C);
#pragma omp barrier
        const k::AttnLayout lkv{S_ * 2 * C, 2 * C};
        const float* kv = cache.cross.data<float>();
        k::attention_one_query<float>(R, H, S_, dh, q, C, kv, lkv, kv + C, lkv, src_pad_.data(),
                                      score_scale(mha.kind, dh), att, C, sentence_.data());
        product(att, C, data(mha.out_proj.weight), C, data(mha.out_proj.bias), sub, C);
#pragma omp barrier
      });
      // Section 3.3's feed-forward network; each thread applies the activation to its own outputs.
      sublayer(layer.norm3, layer.norm_first, [&](const float* in) {
        const FeedForward& f = layer.ff;
        const auto [begin, end] = product(in, C, data(f.linear1.weight), F, data(f.linear1.bias), ff, F);
        for (int64_t r = 0; r < R; ++r) {
          float* block = ff + r * F + begin;
          if (f.gelu)
            k::gelu_forward<float>(block, end - begin, block);
          else
            k::relu_forward<float>(block, end - begin, block);
        }
#pragma omp barrier
        product(ff, F, data(f.linear2.weight), C, data(f.linear2.bias), sub, C);
#pragma omp barrier
      });
    }
    const float* top = x;
    if (model_.decoder_norm) {
      const LayerNorm& n = *model_.decoder_norm;
      k::layernorm_forward<float>(x, data(n.weight), data(n.bias), R, C, n.eps, h, mean, rstd);
      top = h;
    }
    product(top, C, data(model_.generator.weight), V, data(model_.generator.bias), logits, V);
  }  // the region's end is the barrier before the log-softmax reads the logits
  k::log_softmax_forward<float>(logits, R, V, logprobs_.data<float>());
  ++step_;
  ++fused_steps_;
  return logprobs_;
}

}  // namespace tfm
