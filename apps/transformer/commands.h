// The subcommands of the `transformer` CLI. Each registers its options on the app and returns
// the function that runs it; the functions call the library and print, nothing else.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace tfm::cli {

using Run = std::function<void()>;

Run add_translate(CLI::App& app);
Run add_score(CLI::App& app);
Run add_info(CLI::App& app);
Run add_sample(CLI::App& app);   // cmd_inference.cpp
Run add_train(CLI::App& app);
Run add_eval(CLI::App& app);     // cmd_eval.cpp
Run add_cmudict(CLI::App& app);  // cmd_eval.cpp
Run add_average(CLI::App& app);  // cmd_average.cpp

// Prints a warning on stderr (the library returns warnings; only the app prints).
void warn(const std::string& message);

}  // namespace tfm::cli
