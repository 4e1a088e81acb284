#include "text/tokenizer.h"

#include "core/error.h"
#include "core/file.h"
#include "text/sentencepiece_tokenizer.h"
#include "text/utf8.h"
#include "text/vocab_tokenizer.h"

namespace tfm {

std::vector<int> Tokenizer::encode(std::string_view text, std::vector<std::string>* unknown) const {
  check_utf8(text);
  return encode_checked(text, unknown);
}

std::vector<int> Tokenizer::encode(std::string_view text, std::vector<std::string>* unknown,
                                   std::string_view where) const {
  check_utf8(text, where);
  try {
    return encode_checked(text, unknown);
  } catch (const Error& e) {
    throw Error(detail::concat(where, ": ", e.what()));
  }
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  const int n = vocab_size();
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int id : ids) {
    TFM_CHECK(id >= 0 && id < n, "decode: token id ", id, " is outside [0, ", n, ")");
    if (id == special::pad || id == special::bos || id == special::eos) continue;
    kept.push_back(id);
  }
  return decode_checked(kept);
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  const std::string bytes = read_file(path);
  TFM_CHECK(!bytes.empty(), path, ": the file is empty; expected a tokenizer file");
  if (bytes.starts_with("#transformer-vocab ")) return parse_vocab(bytes, path);
  // A serialized ModelProto starts with its field 1 (the pieces), tag byte 0x0A. Checking it
  // first keeps a text file from being half-parsed as protobuf into a misleading message.
  if (static_cast<unsigned char>(bytes[0]) == 0x0A)
    return std::make_unique<SentencePieceTokenizer>(bytes, path);
  const std::string_view first_line = std::string_view(bytes).substr(0, bytes.find('\n'));
  const std::string got = find_invalid_utf8(first_line) == std::string_view::npos
                              ? "a file starting with " + quote_clipped(first_line, 30)
                              : std::string("binary data");
  throw Error(detail::concat(path,
                             ": not a tokenizer file; expected a vocabulary file (first line "
                             "'#transformer-vocab <char|word> v1 size=<N>') or a SentencePiece "
                             ".model, got ",
                             got));
}

}  // namespace tfm
