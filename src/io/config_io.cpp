#include "io/config_io.h"

#include <array>
#include <climits>
#include <cmath>
#include <optional>
#include <type_traits>
#include <variant>

#include "core/error.h"
#include "core/file.h"

namespace tfm {

namespace {

using nlohmann::json;

// One row per config.json key: its name, where it lives in Config, and whether it is one of
// our own keys (written only when it differs from the default). The order is the reference's
// DEFAULTS order, then ours; config_to_json writes in this order.
using Member = std::variant<int Config::*, double Config::*, bool Config::*, std::string Config::*>;
struct Key {
  const char* name;
  Member member;
  bool ours;
};

const std::array<Key, 34> kKeys = {{
    {"arch", &Config::arch, false},
    {"d_model", &Config::d_model, false},
    {"heads", &Config::heads, false},
    {"encoder_layers", &Config::encoder_layers, false},
    {"decoder_layers", &Config::decoder_layers, false},
    {"d_ff", &Config::d_ff, false},
    {"dropout", &Config::dropout, false},
    {"activation", &Config::activation, false},
    {"norm_first", &Config::norm_first, false},
    {"final_norm", &Config::final_norm, false},
    {"layer_norm_eps", &Config::layer_norm_eps, false},
    {"src_vocab_size", &Config::src_vocab_size, false},
    {"tgt_vocab_size", &Config::tgt_vocab_size, false},
    {"max_len", &Config::max_len, false},
    {"positional", &Config::positional, false},
    {"tie_embeddings", &Config::tie_embeddings, false},
    {"pad_id", &Config::pad_id, false},
    {"bos_id", &Config::bos_id, false},
    {"eos_id", &Config::eos_id, false},
    {"unk_id", &Config::unk_id, false},
    {"embed_dropout", &Config::embed_dropout, true},
    {"attention", &Config::attention, true},
    {"src_tokenizer", &Config::src_tokenizer, true},
    {"tgt_tokenizer", &Config::tgt_tokenizer, true},
    {"max_relative_distance", &Config::max_relative_distance, true},
    {"local_attention", &Config::local_attention, true},
    {"local_block", &Config::local_block, true},
    {"local_flange", &Config::local_flange, true},
    {"image_width", &Config::image_width, true},
    {"local_block_h", &Config::local_block_h, true},
    {"local_block_w", &Config::local_block_w, true},
    {"local_flange_h", &Config::local_flange_h, true},
    {"local_flange_w", &Config::local_flange_w, true},
    {"rnn_cell", &Config::rnn_cell, true},
}};

const Key* find_key(const std::string& name) {
  for (const Key& k : kKeys)
    if (name == k.name) return &k;
  return nullptr;
}

std::string known_keys() {
  std::string s;
  for (const Key& k : kKeys) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

// A JSON value as it appears in a message: its type and (shortened) text.
std::string describe(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + text;
}

// Integers come as JSON integers, or as floats with an integral value (64.0): Python writes
// those when a value went through float arithmetic, and they mean the same thing.
std::optional<int> as_int(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT_MAX)) return static_cast<int>(u);
  } else if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i >= INT_MIN && i <= INT_MAX) return static_cast<int>(i);
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= INT_MIN && d <= INT_MAX)
      return static_cast<int>(d);
  }
  return std::nullopt;
}

void read_key(const Key& key, const json& v, Config& c, const std::string& source) {
  std::string where = source + ": config key \"" + key.name + "\"";
  std::visit(
      [&](auto member) {
        using T = std::remove_reference_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, int>) {
          std::optional<int> i = as_int(v);
          TFM_CHECK(i.has_value(), where, ": expected an integer, got ", describe(v));
          c.*member = *i;
        } else if constexpr (std::is_same_v<T, double>) {
          TFM_CHECK(v.is_number() && std::isfinite(v.get<double>()), where,
                    ": expected a number, got ", describe(v));
          c.*member = v.get<double>();
        } else if constexpr (std::is_same_v<T, bool>) {
          // No 0/1 for booleans: a strict reading catches a value put under the wrong key.
          TFM_CHECK(v.is_boolean(), where, ": expected true or false, got ", describe(v));
          c.*member = v.get<bool>();
        } else {
          TFM_CHECK(v.is_string(), where, ": expected a string, got ", describe(v));
          c.*member = v.get<std::string>();
        }
      },
      key.member);
}

// The same bytes as the reference's json.dump for the same value (0.0 and 1e-05 included).
template <class J>
void write_key(const Key& key, const Config& c, J& out) {
  std::visit([&](auto member) { out[key.name] = c.*member; }, key.member);
}

bool is_default(const Key& key, const Config& c) {
  static const Config defaults;
  return std::visit([&](auto member) { return c.*member == defaults.*member; }, key.member);
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; keep the readable part.
std::string strip_json_prefix(const std::string& what) {
  size_t cut = what.find("] ");
  return cut == std::string::npos ? what : what.substr(cut + 2);
}

}  // namespace

Config config_from_json(const nlohmann::json& j, const std::string& source, bool validate) {
  TFM_CHECK(j.is_object(), source, ": a config must be a JSON object of keys, got ", j.type_name());
  Config c;
  for (const auto& [name, value] : j.items()) {
    const Key* key = find_key(name);
    TFM_CHECK(key != nullptr, source, ": unknown config key \"", name, "\"; known keys: ",
              known_keys());
    read_key(*key, value, c, source);
  }
  if (!validate) return c;
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(source + ": " + e.what());
  }
  return c;
}

nlohmann::ordered_json config_to_json(const Config& c) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const Key& key : kKeys)
    if (!key.ours || !is_default(key, c)) write_key(key, c, out);
  return out;
}

Config load_config(const std::string& path) {
  std::string text = read_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(detail::concat(path, ": not valid JSON: ", strip_json_prefix(e.what()),
                               " (byte ", e.byte, ")"));
  }
  return config_from_json(j, path);
}

void save_config(const std::string& path, const Config& c) {
  try {
    c.validate();
  } catch (const Error& e) {
    throw Error(detail::concat("cannot write ", path, ": ", e.what()));
  }
  std::string text;
  try {
    text = config_to_json(c).dump(2) + "\n";
  } catch (const nlohmann::ordered_json::type_error& e) {
    throw Error(detail::concat("cannot write ", path, ": a string in the config is not valid UTF-8 (",
                               strip_json_prefix(e.what()), ")"));
  }
  write_file_atomic(path, text);
}

}  // namespace tfm
