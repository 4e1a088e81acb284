#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"

namespace tfm {

// The format is little-endian and we copy bytes straight into tensors.
static_assert(std::endian::native == std::endian::little,
              "safetensors I/O assumes a little-endian host; a big-endian one needs byte swaps");

namespace {

using nlohmann::json;
constexpr const char* kMetadataKey = "__metadata__";
constexpr const char* kSupported = "F32, BF16, F64, I32";

std::optional<DType> parse_dtype(const std::string& s) {
  for (DType t : {DType::F32, DType::BF16, DType::F64, DType::I32})
    if (s == dtype_name(t)) return t;
  return std::nullopt;
}

// A JSON value as it appears in a message: its type and (shortened) text.
std::string describe(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + text;
}

// (Not "quoted": std::quoted would win overload resolution by ADL for non-const strings.)
std::string single_quoted(const std::string& name) { return "'" + name + "'"; }

// Read-only file with positioned reads: the loader checks the header against the file size,
// then reads each tensor straight into its own storage (no copy of the whole file in memory).
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    TFM_CHECK(fd_ >= 0, "cannot read ", path, ": ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
      int err = errno;
      ::close(fd_);
      TFM_CHECK(false, "cannot read ", path, ": ", std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd_);
      TFM_CHECK(false, "cannot read ", path, ": not a regular file, expected a safetensors file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { ::close(fd_); }

  uint64_t size() const { return size_; }

  void read_at(uint64_t offset, void* dst, uint64_t n) const {
    auto* p = static_cast<char*>(dst);
    while (n > 0) {
      ssize_t got = ::pread(fd_, p, std::min<uint64_t>(n, 1u << 30), static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      TFM_CHECK(got >= 0, "cannot read ", path_, ": ", std::strerror(errno));
      // The size was checked against the header, so a short read means the file shrank
      // while we were reading it.
      TFM_CHECK(got > 0, path_, ": unexpected end of file at byte ", offset,
                " (the file was truncated while being read)");
      p += got;
      offset += static_cast<uint64_t>(got);
      n -= static_cast<uint64_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

// Parses the header, refusing duplicate names (nlohmann would keep the last one silently).
json parse_header(const std::string& path, const std::string& text) {
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() &&
        !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json h;
  try {
    h = json::parse(text, on_event);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 7: ...".
    std::string what = e.what();
    size_t cut = what.find("] ");
    throw Error(detail::concat(path, ": header is not valid JSON (", text.size(),
                               " bytes after the 8-byte length): ",
                               cut == std::string::npos ? what : what.substr(cut + 2),
                               "; the file is corrupt or not safetensors"));
  }
  TFM_CHECK(h.is_object(), path, ": header must be a JSON object of tensors, got ", h.type_name());
  TFM_CHECK(duplicate.empty(), path, ": tensor ", single_quoted(duplicate),
            " appears twice in the header; expected unique names");
  return h;
}

void read_metadata(const std::string& path, const json& m,
                   std::map<std::string, std::string>* metadata) {
  TFM_CHECK(m.is_object(), path, ": \"__metadata__\" must be an object of strings, got ",
            describe(m));
  for (const auto& [key, value] : m.items()) {
    TFM_CHECK(value.is_string(), path, ": \"__metadata__\" entry ", single_quoted(key),
              " must be a string, got ", describe(value));
    if (metadata) (*metadata)[key] = value.get<std::string>();
  }
}

// One tensor's header entry; checks its fields and that its byte range fits its shape and
// lies inside the data section.
Entry parse_entry(const std::string& path, const std::string& name, const json& v,
                  uint64_t data_size) {
  std::string where = path + ": tensor " + single_quoted(name);
  TFM_CHECK(v.is_object(), where, ": expected an object with dtype, shape and data_offsets, got ",
            describe(v));
  for (const auto& [key, _] : v.items())
    TFM_CHECK(key == "dtype" || key == "shape" || key == "data_offsets", where,
              ": unknown field \"", key, "\"; expected dtype, shape, data_offsets");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    TFM_CHECK(v.contains(key), where, ": missing \"", key, "\"");

  Entry e;
  e.name = name;
  const json& dt = v["dtype"];
  TFM_CHECK(dt.is_string(), where, ": dtype must be a string, got ", describe(dt));
  std::optional<DType> dtype = parse_dtype(dt.get<std::string>());
  TFM_CHECK(dtype.has_value(), where, ": unknown dtype \"", dt.get<std::string>(),
            "\"; supported: ", kSupported);
  e.dtype = *dtype;

  const json& sh = v["shape"];
  TFM_CHECK(sh.is_array(), where, ": shape must be an array of non-negative integers, got ",
            describe(sh));
  // The byte count is computed with overflow checks: a corrupt shape must not wrap around to
  // a size that happens to match the offsets.
  uint64_t bytes = dtype_size(e.dtype);
  bool overflow = false;
  for (const json& d : sh) {
    TFM_CHECK(d.is_number_unsigned(), where,
              ": shape must be an array of non-negative integers, got ", describe(sh));
    uint64_t dim = d.get<uint64_t>();
    overflow = overflow || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
               __builtin_mul_overflow(bytes, dim, &bytes);
    e.shape.push_back(static_cast<int64_t>(dim));
  }

  const json& off = v["data_offsets"];
  TFM_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                off[1].is_number_unsigned(),
            where, ": data_offsets must be [begin, end] with non-negative integers, got ",
            describe(off));
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  TFM_CHECK(e.begin <= e.end, where, ": data_offsets [", e.begin, ", ", e.end,
            "] are reversed; expected begin <= end");
  TFM_CHECK(!overflow && bytes == e.end - e.begin, where, ": data_offsets [", e.begin, ", ", e.end,
            "] hold ", e.end - e.begin, " bytes, but shape ", shape_str(e.shape), " of ",
            dtype_name(e.dtype), " needs ",
            overflow ? std::string("more than 2^64") : std::to_string(bytes));
  TFM_CHECK(e.end <= data_size, where, ": data_offsets [", e.begin, ", ", e.end,
            "] run past the end of the data section (", data_size,
            " bytes): the file is truncated or corrupt");
  return e;
}

// The tensors must tile the data section: sorted by offset, each starts where the previous
// one ends, and the last ends at the end of the file. Anything else is corruption (or a
// truncated file, whose last tensor parse_entry has already refused).
void check_tiling(const std::string& path, std::vector<Entry>& entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    TFM_CHECK(e.begin >= covered, path, ": tensor ", single_quoted(e.name), " at data_offsets [", e.begin,
              ", ", e.end, "] overlaps tensor ", single_quoted(previous ? previous->name : ""), " at [",
              previous ? previous->begin : 0, ", ", covered, "]; expected disjoint byte ranges");
    TFM_CHECK(e.begin == covered, path, ": bytes [", covered, ", ", e.begin,
              ") of the data section belong to no tensor (before tensor ", single_quoted(e.name),
              "); expected tensors to be packed back to back");
    covered = e.end;
    previous = &e;
  }
  TFM_CHECK(covered == data_size, path, ": data section is ", data_size, " bytes but the tensors",
            " cover ", covered, "; ", data_size - covered,
            " trailing bytes belong to no tensor (the file is corrupt)");
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps "__metadata__" first and the tensors in std::map (byte) order, which
  // for UTF-8 is the code-point order of Python's sorted(): the same file as the reference's.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) m[key] = value;
    header[kMetadataKey] = std::move(m);
  }
  std::vector<std::string_view> parts(1);  // parts[0]: length + header, filled below
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    TFM_CHECK(name != kMetadataKey, "cannot write ", path, ": \"", kMetadataKey,
              "\" is reserved for metadata and cannot name a tensor");
    TFM_CHECK(t.defined(), "cannot write ", path, ": tensor ", single_quoted(name), " is undefined");
    uint64_t n = t.nbytes();
    header[name] = {{"dtype", dtype_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + n}}};
    offset += n;
    if (n) parts.emplace_back(static_cast<const char*>(t.raw()), n);
  }

  std::string text;
  try {
    text = header.dump();  // compact, as json.dumps(separators=(",", ":")) in the reference
  } catch (const nlohmann::ordered_json::type_error& e) {
    throw Error(detail::concat("cannot write ", path,
                               ": a tensor name or metadata string is not valid UTF-8 (", e.what(),
                               ")"));
  }
  // Pad with spaces so the data section starts 8-byte aligned (the reference and the
  // safetensors library do the same); JSON ignores trailing whitespace.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string head(8, '\0');
  uint64_t n = text.size();
  std::memcpy(head.data(), &n, 8);  // little-endian, checked above
  head += text;
  parts[0] = head;
  write_file_atomic(path, parts);
}

TensorMap load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  if (metadata) metadata->clear();
  InputFile file(path);
  const uint64_t size = file.size();
  TFM_CHECK(size >= 8, path, ": file is ", size,
            " bytes, too short for safetensors (expected at least the 8-byte header length)");
  uint64_t header_len = 0;
  file.read_at(0, &header_len, 8);
  TFM_CHECK(header_len <= size - 8, path, ": header length ", header_len,
            " runs past the end of the file (", size,
            " bytes, so at most ", size - 8, "): the file is truncated or not safetensors");
  std::string text(header_len, '\0');
  file.read_at(8, text.data(), header_len);
  json header = parse_header(path, text);

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = size - data_start;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey)
      read_metadata(path, value, metadata);
    else
      entries.push_back(parse_entry(path, name, value, data_size));
  }
  check_tiling(path, entries, data_size);

  // Only now, with every entry checked against the file, is memory allocated and data read.
  TensorMap out;
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (t.nbytes()) file.read_at(data_start + e.begin, t.raw(), t.nbytes());
    out.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace tfm
