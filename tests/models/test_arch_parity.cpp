// The decoder-only LM and the RNN encoder-decoder against PyTorch's own modules in float64
// (tests/fixtures/archs/make_archs.py: nn.TransformerEncoder with a causal mask; stacked,
// packed nn.LSTM / nn.GRU with nn.MultiheadAttention): the same weights give the same
// log-probabilities at every non-padding position, to float64 rounding.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/ops.h"
#include "io/safetensors.h"
#include "models/seq2seq.h"

namespace tfm {
namespace {

const TensorMap& fixture() {
  static const TensorMap m = load_safetensors(std::string(TFM_SOURCE_DIR) + "/tests/fixtures/archs/archs.safetensors");
  return m;
}

std::vector<std::vector<int32_t>> rows_of(const Tensor& ids) {
  std::vector<std::vector<int32_t>> rows(ids.dim(0));
  for (int64_t b = 0; b < ids.dim(0); ++b)
    for (int64_t t = 0; t < ids.dim(1); ++t)
      if (const auto v = static_cast<int32_t>(ids.item(b * ids.dim(1) + t)); v != 0) rows[b].push_back(v);
  return rows;
}

void check(const std::string& name, const Config& c) {
  const TensorMap& f = fixture();
  std::map<std::string, Tensor> params;
  const std::string prefix = name + ".param.";
  for (const auto& [k, v] : f)
    if (k.starts_with(prefix)) params[k.substr(prefix.size())] = v;
  auto model = make_model(c, DType::F64);
  model->load_state_dict(params, name);  // every parameter present, no unknown name
  const Batch tgt_in = make_batch(rows_of(f.at(name + ".tgt_in")), 0);
  const Batch src = f.count(name + ".src") ? make_batch(rows_of(f.at(name + ".src")), 0) : tgt_in;
  NoGradGuard no_grad;
  ForwardContext ctx;
  const Tensor lp = ops::log_softmax(model->forward(src, tgt_in, ctx)).value();
  const Tensor& ref = f.at(name + ".logprobs");
  const int64_t B = tgt_in.B(), T = tgt_in.T(), V = ref.dim(2);
  ASSERT_EQ(lp.dim(0), B * T);
  double worst = 0;
  int64_t compared = 0;
  for (int64_t r = 0; r < B * T; ++r) {
    if (tgt_in.pad[r]) continue;
    for (int64_t v = 0; v < V; ++v, ++compared) worst = std::max(worst, std::abs(lp.item(r * V + v) - ref.item(r * V + v)));
  }
  std::printf("[arch parity] %-14s %lld log-probabilities, max |ours - torch| = %.3g\n", name.c_str(),
              static_cast<long long>(compared), worst);
  EXPECT_GT(compared, 200);
  EXPECT_LT(worst, 1e-10);
}

TEST(ArchParity, LanguageModelEqualsTransformerEncoderWithCausalMask) {
  Config c;
  c.arch = "lm", c.d_model = 16, c.heads = 2, c.d_ff = 24, c.decoder_layers = 2, c.max_len = 32;
  c.src_vocab_size = c.tgt_vocab_size = 17;
  check("lm", c);
}

TEST(ArchParity, RnnLstmWithAttentionEqualsPytorch) {
  Config c;
  c.arch = "rnn", c.rnn_cell = "lstm", c.d_model = 12, c.heads = 2, c.encoder_layers = c.decoder_layers = 2;
  c.src_vocab_size = 15, c.tgt_vocab_size = 17, c.max_len = 32;
  check("rnn_lstm_attn", c);
}

TEST(ArchParity, RnnGruWithoutAttentionEqualsPytorch) {
  Config c;
  c.arch = "rnn", c.rnn_cell = "gru", c.attention = "none", c.d_model = 12, c.heads = 1;
  c.encoder_layers = c.decoder_layers = 2, c.src_vocab_size = 15, c.tgt_vocab_size = 17, c.max_len = 32;
  check("rnn_gru_none", c);
}

}  // namespace
}  // namespace tfm
