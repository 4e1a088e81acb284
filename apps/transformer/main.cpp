// transformer: train, translate, score and inspect encoder-decoder Transformer models.
// main is thin: it picks the subcommand, runs it, and turns exceptions into exit codes:
//   0 success, 1 bad input or a failed operation (the message says which file and line),
//   2 a wrong option, 3 an internal error (a bug: please report it).
#include <cstdio>
#include <exception>
#include <map>
#include <optional>

#include "commands.h"
#include "core/error.h"
#include "core/threading.h"
#include "kernels/gemm.h"
#include "kernels/inference_linear.h"

int main(int argc, char** argv) {
  CLI::App app{"transformer: the Transformer of \"Attention Is All You Need\" on CPU"};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads, "Threads for computation (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  bool bf16 = false;
  app.add_flag("--bf16", bf16,
               "Mixed precision: matrix products in bfloat16 with fp32 accumulation (AVX512_BF16); "
               "parameters, optimizer and everything else stay fp32");
  bool int8 = false;
  app.add_flag("--int8", int8,
               "int8 inference (VNNI): linear layers with weights quantized per output channel and "
               "activations per row; for translate, sample, score and eval")
      ->excludes("--bf16");
  std::map<CLI::App*, tfm::cli::Run> runs;
  auto sub = [&](const char* name, const char* help, tfm::cli::Run (*add)(CLI::App&)) {
    CLI::App* s = app.add_subcommand(name, help);
    runs[s] = add(*s);
  };
  sub("train", "Train a model from parallel text (two files or a TSV)", tfm::cli::add_train);
  sub("translate", "Translate lines from stdin to stdout", tfm::cli::add_translate);
  sub("sample", "Generate by sampling (temperature, top-k, top-p), e.g. from a language model",
      tfm::cli::add_sample);
  sub("score", "Teacher-forced log-probabilities of target lines given source lines", tfm::cli::add_score);
  sub("info", "Show a model's config, parameter count and FLOPs per token", tfm::cli::add_info);
  sub("average", "Average the parameters of checkpoints into a new model", tfm::cli::add_average);
  sub("eval", "Word and phoneme error rates of G2P output against references", tfm::cli::add_eval);
  sub("cmudict", "Split CMUdict into G2P train/dev/test files", tfm::cli::add_cmudict);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (int8)
    for (const char* name : {"train", "average", "cmudict", "info"})
      if (app.get_subcommand(name)->parsed()) {
        std::fprintf(stderr, "transformer: --int8 is for inference (translate, sample, score, eval), not %s\n", name);
        return 2;
      }
  try {
    tfm::set_num_threads(threads);
    if (bf16) tfm::kernels::set_matmul_precision(tfm::kernels::MatmulPrecision::BF16);
    // Inference commands prepare each weight matrix once (packed fp32, or int8 with --int8); the
    // parameters do not change while they run. --bf16 keeps the plain products it rounds.
    std::optional<tfm::kernels::InferenceLinears> prepared;
    for (const char* name : {"translate", "sample", "score", "eval"})
      if (app.get_subcommand(name)->parsed() && !bf16)
        prepared.emplace(int8 ? tfm::kernels::LinearPrecision::INT8 : tfm::kernels::LinearPrecision::FP32);
    for (auto& [s, run] : runs)
      if (s->parsed()) run();
    return 0;
  } catch (const tfm::Error& e) {
    std::fprintf(stderr, "transformer: error: %s\n", e.what());
    return 1;
  } catch (const tfm::InternalError& e) {
    std::fprintf(stderr, "transformer: internal error (a bug, please report it): %s\n", e.what());
    return 3;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "transformer: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "transformer: error: %s\n", e.what());
    return 1;
  }
}
