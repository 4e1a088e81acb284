// The global --bf16 flag on the real binary: training and decoding run with matrix products in
// bfloat16 (fp32 accumulation, fp32 weights), give a loss curve that follows fp32's to within
// bf16's rounding but is not fp32's (the path was taken), and a model the fp32 engine reads. On a
// CPU without AVX512_BF16 the flag is refused with a message that says so.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "cli_test_util.h"
#include "kernels/gemm.h"

namespace tfm::cli_test {
namespace {

std::string reversal_tsv(const ScratchDir& d) {
  std::string text;
  uint32_t x = 12345;
  for (int i = 0; i < 200; ++i) {
    std::string s;
    const int n = 8 + i % 17;
    for (int j = 0; j < n; ++j) {
      x = x * 1664525u + 1013904223u;
      s += static_cast<char>('a' + (x >> 24) % 26);
    }
    text += s + "\t" + std::string(s.rbegin(), s.rend()) + "\n";
  }
  return d.write("in/train.tsv", text);
}

// Products of d_model 64 by d_ff 256 over ~500 tokens are far above kernels::kBf16MinProduct.
std::vector<std::string> train_args(const std::string& model, const std::string& tsv) {
  return {"train", "--model", model, "--train-tsv", tsv, "--tokenizer", "char", "--set", "d_model=64",
          "--set", "heads=2", "--set", "d_ff=256", "--set", "encoder_layers=1", "--set", "decoder_layers=1",
          "--set", "max_len=32", "--max-tokens", "512", "--steps", "6", "--log-every", "1", "--schedule", "constant",
          "--lr", "0.001", "--seed", "5"};
}

std::vector<double> losses(const std::string& log) {
  std::vector<double> out;
  static const std::regex re(R"(step +\d+ .* loss ([0-9.]+))");
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it)
    out.push_back(std::stod((*it)[1]));
  return out;
}

TEST(CliBf16, TrainsAlongFp32AndDecodes) {
  ScratchDir d;
  const std::string tsv = reversal_tsv(d);
  if (!kernels::bf16_matmul_supported()) {
    const CliResult r = run_cli1([&] {
      auto a = train_args(d.file("m"), tsv);
      a.insert(a.begin(), "--bf16");
      return a;
    }());
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("AVX512_BF16"), std::string::npos) << r;
    GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  }
  const CliResult f = run_cli1(train_args(d.file("fp32"), tsv));
  auto bf_args = train_args(d.file("bf16"), tsv);
  bf_args.insert(bf_args.begin(), "--bf16");
  const CliResult b = run_cli1(bf_args);
  ASSERT_EQ(f.code, 0) << f;
  ASSERT_EQ(b.code, 0) << b;
  const auto lf = losses(f.err), lb = losses(b.err);
  ASSERT_EQ(lf.size(), 6u) << f;
  ASSERT_EQ(lb.size(), 6u) << b;
  bool differs = false;
  for (size_t i = 0; i < lf.size(); ++i) {
    // bf16 keeps 8 bits of mantissa: each input is off by at most 2^-9 relative (0.2%), and the
    // errors of a product's terms mostly cancel, so the loss moves by less than that.
    EXPECT_NEAR(lb[i], lf[i], 0.002 * lf[i]) << "step " << i + 1;
    differs = differs || lb[i] != lf[i];
  }
  EXPECT_TRUE(differs) << "--bf16 gave fp32's losses to the last printed digit: the bf16 path was not taken";
  // A bf16-trained model is an ordinary fp32 model directory; decoding with and without --bf16 works.
  const std::string in = d.write("in/src.txt", "abcdefgh\nqwertyuiop\n");
  const CliResult t = run_cli1({"--bf16", "translate", "--model", d.file("bf16"), "--beam", "2"}, in);
  const CliResult t32 = run_cli1({"translate", "--model", d.file("bf16")}, in);
  ASSERT_EQ(t.code, 0) << t;
  ASSERT_EQ(t32.code, 0) << t32;
  EXPECT_EQ(count_lines(t.out), 2u) << t;
  EXPECT_EQ(count_lines(t32.out), 2u) << t32;
}

}  // namespace
}  // namespace tfm::cli_test
