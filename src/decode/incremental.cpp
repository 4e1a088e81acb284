#include "decode/incremental.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <immintrin.h>

#include "autograd/ops.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
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

// out (S, C) = A (S, K) B (K, C): A's rows lda apart, B row-major. Small (S, K <= a few dozen):
// each output row is built in blocks of kBlock floats that stay in registers, every output one
// chain of FMAs over d. Where the few-rows panel kernel is available (AVX2 without AVX-512),
// fold_cross_attention uses that instead, with B's panels made once a process.
void rows_times(const float* A, int64_t lda, const float* B, int64_t S, int64_t K, int64_t C, float* out) {
  constexpr int64_t kBlock = 128;
  for (int64_t j = 0; j < S; ++j) {
    const float* a = A + j * lda;
    int64_t c0 = 0;
#if defined(__AVX512F__)
    for (; c0 + 128 <= C; c0 += 128) {  // 8 accumulators of 16 floats
      __m512 acc[8];
      for (auto& v : acc) v = _mm512_setzero_ps();
      for (int64_t d = 0; d < K; ++d) {
        const __m512 ad = _mm512_set1_ps(a[d]);
        const float* b = B + d * C + c0;
        for (int i = 0; i < 8; ++i) acc[i] = _mm512_fmadd_ps(ad, _mm512_loadu_ps(b + 16 * i), acc[i]);
      }
      for (int i = 0; i < 8; ++i) _mm512_storeu_ps(out + j * C + c0 + 16 * i, acc[i]);
    }
#endif
    for (; c0 + kBlock <= C; c0 += kBlock) {
      float acc[kBlock] = {};
      for (int64_t d = 0; d < K; ++d) {
        const float* b = B + d * C + c0;
#pragma omp simd
        for (int64_t c = 0; c < kBlock; ++c) acc[c] += a[d] * b[c];
      }
      std::memcpy(out + j * C + c0, acc, sizeof acc);
    }
    for (int64_t c = c0; c < C; ++c) {
      float acc = 0.f;
      for (int64_t d = 0; d < K; ++d) acc += a[d] * B[d * C + c];
      out[j * C + c] = acc;
    }
  }
}

// The folded encoder-decoder attention for R rows (IncrementalDecoder::fold_cross_attention):
// in (R, C) -> out (R, C) = sum_hj p_hj P_hj + bo, p_h = softmax_j(scale (in . U_hj + beta_hj)),
// padded source positions left out. scores: H * S floats of scratch.
void folded_cross_attention(const std::vector<float>& U, const std::vector<float>& beta,
                            const std::vector<float>& P, const float* in, float* scores, float* out, const float* bo,
                            int64_t R, int64_t H, int64_t S, int64_t C, float scale, const int64_t* sentence,
                            const uint8_t* pad) {
  for (int64_t r = 0; r < R; ++r) {
    const int64_t s = sentence[r];
    const float* x = in + r * C;
    float* o = out + r * C;
    for (int64_t c = 0; c < C; ++c) o[c] = bo ? bo[c] : 0.f;
    for (int64_t h = 0; h < H; ++h) {
      float* sc = scores + h * S;
      float mx = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < S; ++j) {
        if (pad[s * S + j]) {
          sc[j] = -std::numeric_limits<float>::infinity();
          continue;
        }
        const float* u = U.data() + ((s * H + h) * S + j) * C;
        float d = 0.f;
#pragma omp simd reduction(+ : d)
        for (int64_t c = 0; c < C; ++c) d += x[c] * u[c];
        sc[j] = scale * (d + beta[(s * H + h) * S + j]);
        mx = std::max(mx, sc[j]);
      }
      float z = 0.f;
      for (int64_t j = 0; j < S; ++j) z += (sc[j] = std::exp(sc[j] - mx));
      for (int64_t j = 0; j < S; ++j) {
        const float pj = sc[j] / z;
        if (pj == 0.f) continue;
        const float* p = P.data() + ((s * H + h) * S + j) * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) o[c] += pj * p[c];
      }
    }
  }
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
  // With padding, the encoder and the keys and values below run on the source positions only
  // (Transformer::encode_unpadded); the padding's keys and values are zeros, masked in every step.
  const std::vector<int64_t> real = unpadded_positions(src);
  const bool unpadded = skips_padding(src, real);
  Var memory = unpadded ? model.encode_unpadded(src, real, ctx) : model.encode(src, ctx);  // (N or B*S, C)
  sentence_.resize(rows_);
  for (int64_t r = 0; r < rows_; ++r) sentence_[r] = r / copies;
  src_pad_ = src.pad;
  const DType dt = model.dtype();
  for (const auto& layer : model.decoder_layers) {
    const auto& mha = layer->multihead_attn;
    Var kv = ops::linear(memory, mha.in_proj_weight, mha.in_proj_bias, C_, 3 * C_);  // (N or B*S, 2C)
    LayerCache c;
    c.cross = (unpadded ? scatter_rows(kv.value(), real, src.B() * S_) : kv.value()).reshape({src.B(), S_, 2 * C_});
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
         kernels::inference_linears_precision() == kernels::LinearPrecision::FP32 &&
         kernels::matmul_precision() == kernels::MatmulPrecision::FP32;
}

bool IncrementalDecoder::embedding_foldable() const {
  if (model_.decoder_layers.empty() || model_.decoder_layers.front()->norm_first) return false;  // LN(x0): not linear
  const bool pe = model_.positional.defined(), learned = model_.tgt_pos_embed != nullptr;
  if (pe && learned) return false;
  const int64_t V = model_.tgt_embed.weight.value().dim(0);
  const int64_t P = pe ? model_.positional.dim(0) : learned ? model_.tgt_pos_embed->weight.value().dim(0) : 0;
  return V + P <= C_;  // the tables are no larger than the weight they stand for
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

// Encoder-decoder attention reads the same keys and values at every step, so the query and
// output projections can be folded into them once a sentence. With q = Wq x + bq split into heads
// q_h = Wq_h x + bq_h, and the sub-layer's output Wo a + bo with a_h = sum_j p_hj v_hj:
//   q_h . k_hj = x . (Wq_h^T k_hj) + bq_h . k_hj = x . U_hj + beta_hj
//   Wo a + bo  = sum_h sum_j p_hj (Wo_h v_hj) + bo = sum_hj p_hj P_hj + bo
// where Wo_h is the block of Wo's columns of head h. A step then reads 2 x heads x S vectors of
// C floats a sentence instead of the two C x C matrices Wq and Wo (the G2P decoder: 4 x ~10 x 2
// against 2 x 256 rows a layer).
void IncrementalDecoder::fold_cross_attention() {
  const Config& cfg = model_.config();
  const int64_t C = C_, S = S_, H = cfg.heads, dh = C / H;
  const int64_t sentences = static_cast<int64_t>(src_pad_.size()) / S;
  folded_.assign(cache_.size(), Folded{});
  for (size_t l = 0; l < cache_.size(); ++l) {
    const ScoredAttention& mha = model_.decoder_layers[l]->multihead_attn;
    const float* Wq = mha.in_proj_weight.value().data<float>();
    const float* bq = mha.in_proj_bias.defined() ? mha.in_proj_bias.value().data<float>() : nullptr;
    const float* Wo = mha.out_proj.weight.value().data<float>();
    const float* kv = cache_[l].cross.data<float>();
    Folded& f = folded_[l];
    f.u.resize(static_cast<size_t>(sentences * H * S * C));
    f.p.resize(f.u.size());
    f.beta.assign(static_cast<size_t>(sentences * H * S), 0.f);
    // U_h (S, C) = K_h (S, dh) Wq_h (dh, C); P_h (S, C) = V_h (S, dh) Wo_h^T, Wo_h = Wo[:, h dh : (h+1) dh].
    // With the panel kernel, Wq_h and Wo_h^T in its panels (made once a process); else rows_times
    // on Wq_h's rows and on Wo^T's.
    const bool panels = kernels::few_rows_panels_available();
    std::vector<const float*> q_panels(H), o_panels(H);
    const float* WoT = panels ? nullptr : kernels::inference_transposed(Wo, C, C);  // row i: column i of Wo
    for (int64_t h = 0; h < H && panels; ++h) {
      q_panels[h] = kernels::inference_panels(Wq + h * dh * C, dh, C, C, 1);  // (d, n): Wq[h dh + d, n]
      o_panels[h] = kernels::inference_panels(Wo + h * dh, dh, C, 1, C);      // (d, n): Wo[n, h dh + d]
    }
#pragma omp parallel for schedule(static) if (sentences * H * S * C * dh > (1 << 18))
    for (int64_t sh = 0; sh < sentences * H; ++sh) {
      const int64_t s = sh / H, h = sh % H;
      const float* k = kv + s * S * 2 * C + h * dh;  // (S, dh), rows 2C apart
      const float* v = k + C;
      float *u = f.u.data() + sh * S * C, *p = f.p.data() + sh * S * C;
      if (panels) {
        kernels::panels_product(k, 2 * C, S, dh, q_panels[h], C, nullptr, u, C);
        kernels::panels_product(v, 2 * C, S, dh, o_panels[h], C, nullptr, p, C);
      } else {
        rows_times(k, 2 * C, Wq + h * dh * C, S, dh, C, u);
        rows_times(v, 2 * C, WoT + h * dh * C, S, dh, C, p);
      }
      if (bq)
        for (int64_t j = 0; j < S; ++j) {
          float beta = 0.f;
          for (int64_t d = 0; d < dh; ++d) beta += bq[h * dh + d] * k[j * 2 * C + d];
          f.beta[sh * S + j] = beta;
        }
    }
  }
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
  float *q = fq_.data(), *sub = fsub_.data(), *ff = fff_.data(), *logits = flogits_.data();
  auto data = [](const Var& v) { return v.defined() ? v.value().data<float>() : nullptr; };
  // Fold the encoder-decoder attention (once a sentence) where it reads fewer bytes a step.
  if (fold_on_ && folded_.empty() && R * H * S_ <= C / 2) fold_cross_attention();
  if (!fold_on_) folded_.clear();
  const bool folded = !folded_.empty();
  // The first layer's projections of the tokens and the positions, once a process (embedding_folded).
  if (!embed_fold_on_) {
    token_qkv_ = pos_qkv_ = nullptr;
  } else if (!token_qkv_ && embedding_foldable()) {
    const ScoredAttention& sa = *model_.decoder_layers.front()->self_attn.scored;
    const float *W = data(sa.in_proj_weight), *b = data(sa.in_proj_bias);
    const Tensor& E = model_.tgt_embed.weight.value();
    const auto scale = static_cast<float>(embedding_scale(cfg, DType::F32));
    token_qkv_ = k::inference_table_product(E.data<float>(), E.dim(0), C, scale, W, 3 * C, nullptr);
    const Tensor* P = model_.positional.defined() ? &model_.positional
                      : model_.tgt_pos_embed    ? &model_.tgt_pos_embed->weight.value()
                                                : nullptr;
    pos_qkv_ = P ? k::inference_table_product(P->data<float>(), P->dim(0), C, 1.f, W, 3 * C, b) : nullptr;
  }
  const int64_t per_thread = 3 * RC + 2 * R + H * S_;
  if (static_cast<int64_t>(fprivate_.size()) < threads * per_thread) fprivate_.resize(threads * per_thread);

#pragma omp parallel num_threads(threads)
  {
    float* x = fprivate_.data() + omp_get_thread_num() * per_thread;  // the residual stream
    float *h = x + RC, *att = h + RC, *mean = att + RC, *rstd = mean + R, *scores = rstd + R;
    std::memcpy(x, x0.value().data<float>(), static_cast<size_t>(RC) * sizeof(float));
    // This thread's outputs of y (R, ldy) = in (R, K) W^T + b for W (OC, K); no barrier.
    auto product = [&](const float* in, int64_t K, const float* W, int64_t OC, const float* b, float* y, int64_t ldy) {
      const auto [begin, end] = k::thread_block(OC);
      k::matrix_vector_rows(in, R, K, W, begin, end, b, y, ldy);
      return std::pair{begin, end};
    };
    // One residual sub-layer (transformer_layers.h): `body` maps its input to its output, which
    // it returns: `sub` (shared, complete after the barrier it ends with) or `att` (this thread's).
    auto sublayer = [&](const LayerNorm& norm, bool norm_first, auto&& body) {
      if (norm_first) {  // x = x + body(LN(x))
        k::layernorm_forward<float>(x, data(norm.weight), data(norm.bias), R, C, norm.eps, h, mean, rstd);
        const float* y = body(h);
        k::add_forward<float>(x, y, RC, x);
      } else {  // x = LN(x + body(x)); the sum goes to `h` first when the output is `att`
        const float* y = body(x);
        float* sum = y == att ? h : att;
        float* out = y == att ? att : h;
        k::residual_layernorm_forward<float>(x, y, data(norm.weight), data(norm.bias), R, C, norm.eps, sum, out,
                                             mean, rstd);
        std::memcpy(x, out, static_cast<size_t>(RC) * sizeof(float));
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
        if (l == 0 && token_qkv_) {  // x0 W^T + b from the tables: this thread's block of q, k and v
          const auto [begin, end] = k::thread_block(C);
          for (int64_t r = 0; r < R; ++r) {
            const float* te = token_qkv_ + tokens[r] * 3 * C;
            const float* tp = pos_qkv_ ? pos_qkv_ + t * 3 * C : b;
            float* out[3] = {q + r * C, kc + r * ms * C, vc + r * ms * C};
            for (int64_t part = 0; part < 3; ++part)
              for (int64_t c = begin; c < end; ++c)
                out[part][c] = te[part * C + c] + (tp ? tp[part * C + c] : 0.f);
          }
        } else {
          product(in, C, W, C, b, q, C);
          product(in, C, W + C * C, C, b + C, kc, ms * C);
          product(in, C, W + 2 * C * C, C, b + 2 * C, vc, ms * C);
        }
#pragma omp barrier
        const k::AttnLayout lc{ms * C, C};
        k::attention_one_query<float>(R, H, t + 1, dh, q, C, cache.self.k.data<float>(), lc,
                                      cache.self.v.data<float>(), lc, nullptr, score_scale(sa.kind, dh), att, C);
        product(att, C, data(sa.out_proj.weight), C, data(sa.out_proj.bias), sub, C);
#pragma omp barrier
        return static_cast<const float*>(sub);
      });
      // Encoder-decoder attention against the keys and values made in the constructor.
      sublayer(layer.norm2, layer.norm_first, [&](const float* in) {
        if (folded) {  // every thread for itself, into its `att`: no product, no barrier
          folded_cross_attention(folded_[l].u, folded_[l].beta, folded_[l].p, in, scores, att, data(mha.out_proj.bias), R, H, S_, C,
                                 score_scale(mha.kind, dh), sentence_.data(), src_pad_.data());
          return static_cast<const float*>(att);
        }
        product(in, C, data(mha.in_proj_weight), C, data(mha.in_proj_bias), q, C);
#pragma omp barrier
        const k::AttnLayout lkv{S_ * 2 * C, 2 * C};
        const float* kv = cache.cross.data<float>();
        k::attention_one_query<float>(R, H, S_, dh, q, C, kv, lkv, kv + C, lkv, src_pad_.data(),
                                      score_scale(mha.kind, dh), att, C, sentence_.data());
        product(att, C, data(mha.out_proj.weight), C, data(mha.out_proj.bias), sub, C);
#pragma omp barrier
        return static_cast<const float*>(sub);
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
        return static_cast<const float*>(sub);
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
