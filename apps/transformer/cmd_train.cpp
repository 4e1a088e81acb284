#include "commands.h"
#include "core/error.h"

namespace tfm::cli {

Run add_train(CLI::App& app) {
  return [] { throw Error("train: not built yet"); };
}

}  // namespace tfm::cli
