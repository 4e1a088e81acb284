// Training parity with PyTorch: five Adam steps of the reference model on the fixtures of
// tests/fixtures/train_parity/ (see its README.md), loss for loss, gradient for gradient and
// parameter for parameter.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/corpus.h"
#include "io/config_io.h"
#include "io/safetensors.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace tfm {
namespace {

namespace fs = std::filesystem;

// Fixed tolerances (atol + rtol |ref|); the fixture README explains the parameters' atol.
constexpr double kLossAtol = 1e-5, kLossRtol = 1e-5;
constexpr double kGradAtol = 1e-5, kGradRtol = 1e-4;
constexpr double kParamAtol = 5e-5, kParamRtol = 1e-4;

fs::path fixture_root() { return fs::path(TFM_SOURCE_DIR) / "tests/fixtures/train_parity"; }

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fixture_root(), ec))
    if (e.is_directory() && fs::exists(e.path() / "expected_losses.txt")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Compares every name of `model` against `ref` and prints the largest difference.
void compare_all(const std::string& what, const std::vector<std::pair<std::string, Tensor>>& ours,
                 const TensorMap& ref, double atol, double rtol) {
  double max_abs = 0;
  std::string max_name;
  for (const auto& [name, tensor] : ours) {
    auto it = ref.find(name);
    ASSERT_NE(it, ref.end()) << what << ": the fixture has no '" << name << "'";
    ASSERT_TRUE(tensor.defined()) << what << ": '" << name << "' is undefined here";
    const auto d = train_test::compare(tensor, it->second, atol, rtol);
    if (d.max_abs >= max_abs) {
      max_abs = d.max_abs;
      max_name = name;
    }
    EXPECT_LE(d.worst_excess, 0.0) << what << " '" << name << "' element " << d.worst_index << ": reference "
                                   << d.at_ref << ", off by more than " << atol << " + " << rtol << " |ref|";
  }
  EXPECT_EQ(ours.size(), ref.size()) << what << ": the fixture has other names than the model";
  std::printf("  %-12s max |diff| %.3g (%s)\n", what.c_str(), max_abs, max_name.c_str());
}

class TrainParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainParity, FiveAdamStepsMatchPyTorch) {
  const fs::path dir = fixture_root() / GetParam();
  const Config c = load_config((dir / "config.json").string());
  Transformer model(c);
  model.load_state_dict(load_safetensors((dir / "model.safetensors").string()), (dir / "model.safetensors").string());

  const auto src = read_ids((dir / "src.ids").string(), c.src_vocab_size);
  const auto tgt = read_ids((dir / "tgt.ids").string(), c.tgt_vocab_size);
  ASSERT_EQ(src.size(), tgt.size());
  std::vector<Example> examples;
  for (size_t i = 0; i < src.size(); ++i) examples.push_back({src[i], tgt[i]});

  std::vector<double> expected;
  std::ifstream losses(dir / "expected_losses.txt");
  for (double x; losses >> x;) expected.push_back(x);
  ASSERT_EQ(expected.size(), 5u);
  ASSERT_EQ(examples.size(), 4 * expected.size());

  // Step k trains on lines 4k..4k+3: no bucketing, no shuffling, 4 sentences a batch.
  TrainOptions o;
  o.max_steps = 5;
  o.batching.bucketing = Bucketing::None;
  o.batching.shuffle = false;
  o.batching.max_sentences = 4;
  o.batching.max_tokens = 1 << 20;
  o.schedule = Schedule::constant(1e-3);
  o.label_smoothing = 0.1;
  o.clip_norm = 0;
  o.log_every = 0;
  Trainer trainer(model, examples, {}, o);

  std::printf("%s:\n", GetParam().c_str());
  double max_loss_diff = 0;
  for (size_t k = 0; k < expected.size(); ++k) {
    const StepReport r = trainer.step();
    EXPECT_EQ(r.lr, 1e-3);
    const double diff = std::abs(r.loss - expected[k]);
    max_loss_diff = std::max(max_loss_diff, diff);
    EXPECT_LE(diff, kLossAtol + kLossRtol * std::abs(expected[k]))
        << "step " << k + 1 << ": loss " << r.loss << ", PyTorch " << expected[k];
    if (k == 0) {
      std::vector<std::pair<std::string, Tensor>> grads;
      for (const auto& [name, var] : model.named_parameters()) grads.push_back({name, var->grad()});
      compare_all("gradients", grads, load_safetensors((dir / "grads_step1.safetensors").string()), kGradAtol,
                  kGradRtol);
    }
  }
  std::printf("  %-12s max |diff| %.3g\n", "losses", max_loss_diff);
  std::vector<std::pair<std::string, Tensor>> params;
  for (const auto& [name, value] : model.state_dict()) params.push_back({name, value});
  compare_all("parameters", params, load_safetensors((dir / "model_after.safetensors").string()), kParamAtol,
              kParamRtol);
}

INSTANTIATE_TEST_SUITE_P(TrainFixtures, TrainParity, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) { return info.param; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TrainParity);

TEST(TrainParityFixtures, ArePresent) { EXPECT_GE(fixture_names().size(), 2u) << fixture_root(); }

}  // namespace
}  // namespace tfm
