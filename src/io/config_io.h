// config.json <-> Config.
//
// The keys are those of DEFAULTS in shared/reference/torch_reference.py, written always and in
// that order, so our config.json reads like the reference's. Our own keys (embed_dropout,
// attention, src_tokenizer, tgt_tokenizer) are written only when they differ from the default:
// the reference refuses keys it does not know, and a plain model must stay readable there.
// Reading is strict the other way too: an unknown key or a value of the wrong type is an error,
// a missing key keeps its default.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "models/config.h"

namespace tfm {

// Every key of Config; `source` (a file name, "--config", ...) names the input in errors.
// Integers may be written as 64.0 but not 64.5; float keys accept integers. Ends with validate()
// unless `validate` is false (train reads a partial config whose vocabulary sizes come later,
// from the tokenizers it makes, and validates it then).
Config config_from_json(const nlohmann::json& j, const std::string& source, bool validate = true);

// ordered_json: keeps the reference's key order (nlohmann::json would sort the keys). It
// converts implicitly to nlohmann::json, so config_from_json(config_to_json(c), ...) works.
nlohmann::ordered_json config_to_json(const Config& c);

// JSON syntax errors name the file, line and column.
Config load_config(const std::string& path);

// Validates first (a file we write must load again), then writes atomically with indent 2.
void save_config(const std::string& path, const Config& c);

}  // namespace tfm
