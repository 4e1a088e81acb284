// Round trip without PyTorch in CI: tests/fixtures/roundtrip/model/ is a model directory written
// by OUR code (save_model_dir), and expected_*.txt there are what the PyTorch REFERENCE computes
// for it. So the file we write loads in PyTorch and means the same thing there; the parity
// fixtures prove the other direction (files the reference writes load here).
//
// Remake: tests/fixtures/roundtrip/make.sh BUILD_DIR (runs the DISABLED_ writer below, then
// torch_reference.py score); see tests/fixtures/roundtrip/README.md.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "cli_test_util.h"
#include "core/rng.h"
#include "io/model_dir.h"

namespace tfm::cli_test {
namespace {

std::string roundtrip_dir() { return source_dir() + "/tests/fixtures/roundtrip"; }

// Pre-norm, tied embeddings, exact GELU, 2 heads of 12: the combination no parity fixture has.
Config roundtrip_config() {
  Config c;
  c.d_model = 24;
  c.heads = 2;
  c.d_ff = 40;
  c.encoder_layers = 2;
  c.decoder_layers = 2;
  c.norm_first = true;
  c.final_norm = true;
  c.activation = "gelu";
  c.tie_embeddings = true;
  c.src_vocab_size = 37;
  c.tgt_vocab_size = 37;
  c.max_len = 40;
  return c;
}

std::string ids_file(Rng& rng, const std::vector<int>& lengths, int vocab) {
  std::string s;
  for (int n : lengths) {
    for (int i = 0; i < n; ++i) s.append(i ? " " : "").append(std::to_string(4 + rng.below(vocab - 4)));
    s += "\n";
  }
  return s;
}

// Not a test: writes the fixture (run by tests/fixtures/roundtrip/make.sh).
TEST(CliRoundTrip, DISABLED_WriteFixture) {
  const Config c = roundtrip_config();
  Transformer model(c);
  Rng rng(20240601);
  model.init_parameters(rng);
  // Our initialisation leaves LayerNorm gains at 1 and biases at 0: values that would hide a
  // swapped or misnamed norm or bias. Perturb every parameter so each name carries its own values.
  for (Var* p : model.parameters()) {
    float* v = p->value().data<float>();
    for (int64_t i = 0; i < p->value().numel(); ++i) v[i] += static_cast<float>(0.2 * rng.normal());
  }
  // make.sh names the folder: the build may belong to another checkout than the script.
  const char* out = std::getenv("TFM_ROUNDTRIP_OUT");
  const std::string dir = out && *out ? std::string(out) : roundtrip_dir();
  save_model_dir(dir + "/model", c, model);
  // Sentence lengths include the empty sentence, one token, and max_len - 1 (the longest allowed).
  write_file(dir + "/src.ids", ids_file(rng, {7, 1, 39, 12, 0, 20, 3, 15}, c.src_vocab_size));
  write_file(dir + "/tgt.ids", ids_file(rng, {9, 4, 39, 0, 6, 25, 1, 11}, c.tgt_vocab_size));
  std::printf("wrote %s/{model/, src.ids, tgt.ids}; now run torch_reference.py score (make.sh does)\n", dir.c_str());
}

double largest_difference(const std::string& what, const std::string& ours_text, const std::string& ref_text,
                          double rtol, double atol_plus_rtol) {
  const auto ours = parse_rows(ours_text), ref = parse_rows(ref_text);
  EXPECT_EQ(ours.size(), ref.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < std::min(ours.size(), ref.size()); ++i) {
    EXPECT_EQ(ours[i].size(), ref[i].size()) << what << " line " << i + 1;
    for (size_t j = 0; j < std::min(ours[i].size(), ref[i].size()); ++j) {
      const double d = std::abs(ours[i][j] - ref[i][j]);
      EXPECT_LE(d, rtol * std::abs(ref[i][j]) + atol_plus_rtol)
          << what << " line " << i + 1 << " value " << j + 1 << ": ours " << ours[i][j] << ", reference "
          << ref[i][j];
      worst = std::max(worst, d);
    }
  }
  return worst;
}

TEST(CliRoundTrip, OurModelFileScoresAsTheReferenceScoresIt) {
  const std::string d = roundtrip_dir();
  const std::vector<std::string> args = {"score", "--model", d + "/model", "--src", d + "/src.ids",
                                         "--tgt", d + "/tgt.ids", "--ids"};
  CliResult r = run_cli1(args);
  ASSERT_EQ(r.code, 0) << r;
  // Scores 1e-4 relative; token log-probabilities 1e-4 * (1 + |ref|).
  const double s = largest_difference("scores", r.out, read_file(d + "/expected_scores.txt"), 1e-4, 1e-6);
  std::vector<std::string> per_token = args;
  per_token.push_back("--per-token");
  r = run_cli1(per_token);
  ASSERT_EQ(r.code, 0) << r;
  const double t =
      largest_difference("token log-probabilities", r.out, read_file(d + "/expected_token_logprobs.txt"), 1e-4, 1e-4);
  std::printf("[ roundtrip ] largest difference: scores %.3g, token log-probabilities %.3g\n", s, t);
}

// The committed file is what our writer writes today: loading it and saving it again gives the
// same bytes. If the writer changes on purpose, remake the fixture (make.sh) so the round trip
// keeps testing the current format.
TEST(CliRoundTrip, FixtureIsWhatOurWriterWrites) {
  const std::string d = roundtrip_dir() + "/model";
  LoadedModel m = load_model_dir(d);
  ScratchDir out;
  save_model_dir(out.path(), m.config, *m.model);
  for (const char* f : {"config.json", "model.safetensors"})
    EXPECT_TRUE(read_file(out.file(f)) == read_file(d + "/" + f))
        << f << " written now differs from the committed one; rerun tests/fixtures/roundtrip/make.sh";
}

}  // namespace
}  // namespace tfm::cli_test
