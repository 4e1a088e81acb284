// translate, score, info.
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "data/corpus.h"
#include "io/config_io.h"
#include "io/pipeline.h"
#include "models/flops.h"

namespace tfm::cli {

void warn(const std::string& message) { std::fprintf(stderr, "%s\n", message.c_str()); }

Run add_translate(CLI::App& app) {
  auto o = std::make_shared<TranslateOptions>();
  auto model = std::make_shared<std::string>();
  app.add_option("--model", *model, "Model directory")->required();
  app.add_option("--beam", o->decode.beam, "Beam size (1: greedy)")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--alpha", o->decode.alpha, "Length penalty alpha of beam search (GNMT)")->capture_default_str();
  app.add_option("--max-len-ratio", o->decode.max_len_ratio, "Output at most ratio * source length + extra tokens")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--max-len-extra", o->decode.max_len_extra, "See --max-len-ratio")->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--batch", o->batch, "Sentences decoded together")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_flag("--ids", o->ids, "Input and output are space-separated token ids");
  app.footer("Reads one sentence per line on stdin, writes one translation per line on stdout.");
  return [o, model] {
    LoadedModel m = load_model_dir(*model);
    auto lines = read_stdin_lines();
    auto out = translate_lines(m, lines, *o, LineSource{"<stdin>", 1}, warn);
    for (const auto& l : out) std::fwrite((l + "\n").data(), 1, l.size() + 1, stdout);
  };
}

Run add_score(CLI::App& app) {
  struct Opts {
    std::string model, src, tgt;
    bool ids = false, per_token = false;
    int batch = 64;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Model directory")->required();
  app.add_option("--src", o->src, "Source sentences, one per line (none for a language model)");
  app.add_option("--tgt", o->tgt, "Target sentences, one per line")->required();
  app.add_flag("--ids", o->ids, "The files hold space-separated token ids (no bos/eos)");
  app.add_flag("--per-token", o->per_token, "Print each target token's log-probability (and the eos's)");
  app.add_option("--batch", o->batch, "Pairs scored together")->check(CLI::Range(1, 100000))->capture_default_str();
  app.footer("Prints one score per line (the sum of natural-log probabilities of the target tokens and eos).");
  return [o] {
    LoadedModel m = load_model_dir(o->model);
    const bool lm = !m.model->has_source();
    TFM_CHECK(lm || !o->src.empty(), "score: --src is required for a ", m.config.arch, " model");
    TFM_CHECK(!lm || o->src.empty(), "score: ", o->model, " is a language model (arch lm): give --tgt only");
    auto src = lm ? std::vector<std::string>() : read_lines(o->src);
    auto tgt = read_lines(o->tgt);
    auto scores = score_lines(m, src, tgt, o->ids, LineSource{o->src, 1}, LineSource{o->tgt, 1}, o->batch, warn);
    for (const auto& row : scores) {
      if (o->per_token) {
        for (size_t t = 0; t < row.size(); ++t) std::printf(t ? " %.6f" : "%.6f", row[t]);
        std::printf("\n");
      } else {
        double s = 0;
        for (double v : row) s += v;
        std::printf("%.6f\n", s);
      }
    }
  };
}

Run add_sample(CLI::App& app) {
  struct Opts {
    std::string model;
    std::vector<std::string> prompts;
    bool stdin_lines = false;
    SampleLinesOptions s;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Model directory")->required();
  app.add_option("--prompt", o->prompts, "Language model: text to continue (repeatable; default: one empty prompt)");
  app.add_flag("--stdin", o->stdin_lines,
               "Read the inputs from stdin, one per line: prompts for a language model, sources for a translation model");
  app.add_option("--num", o->s.num, "Samples per input")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--max-tokens", o->s.sample.max_tokens, "Generated tokens at most (and within max_len)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--temperature", o->s.sample.temperature, "Divides the log-probabilities (< 1 sharper)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--top-k", o->s.sample.top_k, "Keep only the k most probable tokens (0: all)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--top-p", o->s.sample.top_p, "Keep the smallest set of tokens with this much probability")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app.add_option("--seed", o->s.sample.seed, "Seed of the draws (same seed, same samples)")->capture_default_str();
  app.add_option("--batch", o->s.batch, "Sequences sampled together")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_flag("--ids", o->s.ids, "Inputs and outputs are space-separated token ids");
  app.footer(
      "Generates by sampling, one output per line: for a language model (arch lm) the prompt followed by\n"
      "its continuation; for a translation model a sampled translation of each stdin line (--stdin).\n"
      "Example: transformer sample --model lm --prompt 'Once' --num 3 --temperature 0.8 --top-p 0.9");
  return [o] {
    LoadedModel m = load_model_dir(o->model);
    const bool lm = !m.model->has_source();
    TFM_CHECK(lm || o->stdin_lines, "sample: ", o->model, " is a translation model (arch ", m.config.arch,
              "): give its sources on stdin with --stdin");
    TFM_CHECK(!(o->stdin_lines && !o->prompts.empty()), "sample: give --prompt or --stdin, not both");
    std::vector<std::string> lines = o->stdin_lines ? read_stdin_lines() : o->prompts;
    LineSource where{o->stdin_lines ? "<stdin>" : "--prompt", 1};
    if (lines.empty() && !o->stdin_lines) lines.push_back("");
    for (const auto& l : sample_lines(m, lines, o->s, where, warn))
      std::fwrite((l + "\n").data(), 1, l.size() + 1, stdout);
  };
}

Run add_info(CLI::App& app) {
  auto model = std::make_shared<std::string>();
  auto length = std::make_shared<int>(32);
  app.add_option("--model", *model, "Model directory")->required();
  app.add_option("--length", *length, "Source and target length for the FLOPs estimate")
      ->check(CLI::Range(1, 1 << 20))->capture_default_str();
  return [model, length] {
    LoadedModel m = load_model_dir(*model);
    std::printf("model: %s\n", model->c_str());
    std::printf("config: %s\n", config_to_json(m.config).dump(2).c_str());
    std::printf("parameters: %lld\n", static_cast<long long>(m.model->parameter_count()));
    if (m.config.arch == "transformer") {
      ModelFlops f = estimate_flops(m.config, *length, *length);
      std::printf("forward FLOPs per target token (source and target length %d): %.4g\n", *length, f.per_target_token);
      std::printf("training FLOPs per target token (3x forward): %.4g\n", f.training_per_target_token);
    }
    auto show = [](const char* side, const Tokenizer* t) {
      if (t) std::printf("%s tokenizer: %s, %d ids\n", side, t->kind().c_str(), t->vocab_size());
      else std::printf("%s tokenizer: none (token ids only)\n", side);
    };
    show("source", m.src_tokenizer.get());
    show("target", m.tgt_tokenizer.get());
  };
}

}  // namespace tfm::cli
