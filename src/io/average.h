// Checkpoint averaging: the element-wise mean of the parameters of several model directories of
// one model (Vaswani et al., 2017, section 6.1: the last 5 or 20 checkpoints averaged). Works on
// the files, so any model a directory can hold is averaged the same way.
#pragma once
#include <string>
#include <vector>

namespace tfm {

// Writes to `out` a model directory whose model.safetensors is the mean of the inputs' (each
// tensor accumulated in double, then rounded to float), with the first input's config.json and
// tokenizer files. Every input must be a model directory with the same config.json (compared
// as parsed configs), the same tensor names, shapes and dtypes, and byte-identical tokenizer
// files; otherwise a tfm::Error names the first input that differs and how. `out` must not
// already hold a model (config.json or model.safetensors) and must not be one of the inputs:
// nothing on disk is overwritten.
void average_model_dirs(const std::vector<std::string>& inputs, const std::string& out);

// The step checkpoints (step-NNNNNNNN) of a trainer's checkpoints directory, oldest first.
std::vector<std::string> step_checkpoints(const std::string& checkpoints_dir);

}  // namespace tfm
