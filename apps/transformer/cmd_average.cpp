// average: checkpoint averaging (io/average.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "core/error.h"
#include "io/average.h"

namespace tfm::cli {

Run add_average(CLI::App& app) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string checkpoints, out;
    int last = 0;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("inputs", o->inputs, "Model directories (checkpoints) to average");
  app.add_option("--checkpoints", o->checkpoints,
                 "A trained model's checkpoints/ directory: average its last --last step checkpoints");
  app.add_option("--last", o->last, "How many of the newest step checkpoints to average")
      ->check(CLI::PositiveNumber);
  app.add_option("--out", o->out, "Model directory to write (must not hold a model yet)")->required();
  app.footer(
      "Writes a model whose parameters are the element-wise mean of the inputs' (the paper averages\n"
      "the last 5 checkpoints). Inputs must share config.json and tokenizer files. Examples:\n"
      "  transformer average --checkpoints run/checkpoints --last 5 --out run-avg5\n"
      "  transformer average run/checkpoints/step-00009000 run/checkpoints/step-00010000 --out avg");
  return [o] {
    std::vector<std::string> inputs = o->inputs;
    if (!o->checkpoints.empty()) {
      TFM_CHECK(o->last > 0, "average: --checkpoints needs --last N");
      const std::vector<std::string> all = step_checkpoints(o->checkpoints);
      TFM_CHECK(static_cast<int>(all.size()) >= o->last, o->checkpoints, ": has ", all.size(),
                " step checkpoints, fewer than --last ", o->last);
      inputs.insert(inputs.end(), all.end() - o->last, all.end());
    } else {
      TFM_CHECK(o->last == 0, "average: --last needs --checkpoints DIR");
    }
    TFM_CHECK(!inputs.empty(), "average: give model directories, or --checkpoints DIR --last N");
    average_model_dirs(inputs, o->out);
    std::printf("averaged %zu models into %s:\n", inputs.size(), o->out.c_str());
    for (const auto& in : inputs) std::printf("  %s\n", in.c_str());
  };
}

}  // namespace tfm::cli
