// safetensors (https://github.com/huggingface/safetensors), the format of model.safetensors:
//
//   [8 bytes]  N, the header length, unsigned little-endian
//   [N bytes]  a JSON object: name -> {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
//              plus an optional "__metadata__": {string: string}; padded with spaces so the
//              data starts at a multiple of 8
//   [rest]     the tensors' bytes, row-major, little-endian; offsets count from the start of
//              this section, and the tensors tile it exactly (no gaps, no overlap).
//
// Written as shared/reference/torch_reference.py writes it (names sorted, compact JSON, space
// padding), so each side reads the other's files. Dtypes: F32, BF16, F64, I32.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace tfm {

using TensorMap = std::map<std::string, Tensor>;

// Atomic (see core/file.h). Throws tfm::Error for an undefined tensor, the reserved name
// "__metadata__", or names/metadata that are not valid UTF-8.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Validates the whole file before trusting any of it; a truncated or corrupt file is refused
// with a tfm::Error that names the file, what is wrong and what was expected.
// `metadata`, when given, receives the "__metadata__" entries (cleared first).
TensorMap load_safetensors(const std::string& path,
                           std::map<std::string, std::string>* metadata = nullptr);

}  // namespace tfm
