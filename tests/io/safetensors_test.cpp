#include "io/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "io/config_io.h"
#include "io_test_util.h"

namespace tfm {
namespace {

using io_test::error_of;
using io_test::f32_bytes;
using io_test::read_raw;
using io_test::safetensors_bytes;
using io_test::ScratchDir;
using io_test::write_raw;
using testing::AnyOf;
using testing::HasSubstr;

// Same dtype, shape and bytes.
void expect_same(const Tensor& got, const Tensor& want, const std::string& name) {
  ASSERT_TRUE(got.defined()) << name;
  EXPECT_EQ(got.dtype(), want.dtype()) << name << ": " << dtype_name(got.dtype()) << " vs "
                                       << dtype_name(want.dtype());
  ASSERT_EQ(got.shape(), want.shape()) << name << ": " << shape_str(got.shape()) << " vs "
                                       << shape_str(want.shape());
  ASSERT_EQ(got.nbytes(), want.nbytes()) << name;
  EXPECT_EQ(std::memcmp(got.raw(), want.raw(), want.nbytes()), 0) << name << ": bytes differ";
}

// A few tensors of every dtype, with awkward shapes (scalar, empty, odd sizes).
TensorMap sample_tensors() {
  TensorMap m;
  m["f32.matrix"] = Tensor::from_vector<float>({1.5f, -2.25f, 3e-8f, 1e30f, -0.0f, 7.0f}, {2, 3});
  m["f64.vector"] = Tensor::from_vector<double>({3.141592653589793, -1e-300, 2.5}, {3});
  std::vector<bf16> b;
  for (float f : {1.0f, -0.5f, 65504.0f, 0.1f, 3.0f}) b.push_back(bf16(f));
  m["bf16.odd"] = Tensor::from_vector<bf16>(b, {5});
  m["i32.ids"] = Tensor::from_vector<int32_t>({0, 1, -2, 2147483647, -2147483647 - 1, 42}, {3, 1, 2});
  m["scalar"] = Tensor::from_vector<float>({42.0f}, {});
  m["empty"] = Tensor::empty({0, 4}, DType::F32);
  m["z.last"] = Tensor::full({7}, 0.25, DType::F64);
  return m;
}

TEST(IoSafetensors, RoundTripsEveryDtypeAndShape) {
  ScratchDir dir;
  std::string path = dir.file("model.safetensors");
  TensorMap in = sample_tensors();
  save_safetensors(path, in);
  TensorMap out = load_safetensors(path);
  ASSERT_EQ(out.size(), in.size());
  for (const auto& [name, t] : in) expect_same(out.at(name), t, name);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"});
}

TEST(IoSafetensors, RoundTripsMetadataAndEmptyMap) {
  ScratchDir dir;
  std::string path = dir.file("m.safetensors");
  std::map<std::string, std::string> meta = {{"format", "pt"}, {"step", "1200"}, {"note", ""}};
  save_safetensors(path, {}, meta);
  std::map<std::string, std::string> got = {{"stale", "entry"}};
  EXPECT_TRUE(load_safetensors(path, &got).empty());
  EXPECT_EQ(got, meta);
}

TEST(IoSafetensors, WritesViewsFromTheirOffset) {
  ScratchDir dir;
  std::string path = dir.file("v.safetensors");
  Tensor all = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  save_safetensors(path, {{"middle", all.rows(1, 3)}});
  Tensor got = load_safetensors(path).at("middle");
  ASSERT_EQ(got.shape(), (Shape{2, 2}));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got.item(i), i + 2) << "element " << i;
}

// The bytes torch_reference.py's save_safetensors wrote for {"b": [[5.]], "a": [1., -2.]}
// (checked once with /usr/bin/python3): compact JSON, sorted names, space padding.
std::string reference_file_bytes() {
  return safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})",
      f32_bytes({1.0f, -2.0f, 5.0f}));
}

TEST(IoSafetensors, LoadsFileWrittenByReference) {
  ScratchDir dir;
  std::string path = dir.file("ref.safetensors");
  write_raw(path, reference_file_bytes());
  TensorMap m = load_safetensors(path);
  ASSERT_EQ(m.size(), 2u);
  expect_same(m.at("a"), Tensor::from_vector<float>({1.0f, -2.0f}, {2}), "a");
  expect_same(m.at("b"), Tensor::from_vector<float>({5.0f}, {1, 1}), "b");
}

TEST(IoSafetensors, WritesTheSameBytesAsReference) {
  ScratchDir dir;
  std::string path = dir.file("ours.safetensors");
  save_safetensors(path, {{"b", Tensor::from_vector<float>({5.0f}, {1, 1})},
                          {"a", Tensor::from_vector<float>({1.0f, -2.0f}, {2})}});
  std::string bytes = read_raw(path);
  EXPECT_EQ(bytes, reference_file_bytes());
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u) << "header length " << n << " is not padded to a multiple of 8";
}

// The reference's own files: every tensor loads with the shape its config implies, and our
// writer gives back the very same bytes.
TEST(IoSafetensors, LoadsAndRewritesParityFixturesByteForByte) {
  std::vector<std::string> fixtures = io_test::parity_fixture_dirs();
  if (fixtures.empty()) GTEST_SKIP() << "no tests/fixtures/parity/*/ yet";
  ScratchDir dir;
  for (const std::string& fixture : fixtures) {
    std::string file = fixture + "/model.safetensors";
    TensorMap m = load_safetensors(file);
    Config c = load_config(fixture + "/config.json");
    ASSERT_TRUE(m.count("generator.weight")) << file;
    EXPECT_EQ(m.at("generator.weight").shape(), (Shape{c.tgt_vocab_size, c.d_model})) << file;
    for (const auto& [name, t] : m) EXPECT_EQ(t.dtype(), DType::F32) << file << ": " << name;
    save_safetensors(dir.file("again.safetensors"), m);
    EXPECT_TRUE(read_raw(dir.file("again.safetensors")) == read_raw(file))
        << "our writer does not reproduce the reference's bytes for " << file;
  }
}

TEST(IoSafetensors, SaveRefusesBadInputAndKeepsOldFile) {
  ScratchDir dir;
  std::string path = dir.file("keep.safetensors");
  write_raw(path, "old");
  std::string msg = error_of([&] { save_safetensors(path, {{"w", Tensor()}}); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("'w' is undefined"));
  msg = error_of([&] { save_safetensors(path, {{"__metadata__", Tensor::zeros({1})}}); });
  EXPECT_THAT(msg, HasSubstr("reserved"));
  msg = error_of([&] { save_safetensors(path, {{"bad\xff", Tensor::zeros({1})}}); });
  EXPECT_THAT(msg, HasSubstr("not valid UTF-8"));
  EXPECT_EQ(read_raw(path), "old");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.safetensors"});
}

TEST(IoSafetensors, MissingFileNamesThePath) {
  ScratchDir dir;
  std::string path = dir.file("absent.safetensors");
  std::string msg = error_of([&] { load_safetensors(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("No such file"));
}

// ---- corrupt files: each is refused with a message naming the file and the reason ----

struct Corrupt {
  const char* name;
  std::string bytes;   // the whole file
  const char* reason;  // a substring the message must contain
};

std::string entry(const char* dtype, const char* shape, const char* offsets) {
  return std::string(R"({"dtype":")") + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" +
         offsets + "}";
}

std::string header_length_only(uint64_t n, const std::string& rest) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + rest;
}

std::vector<Corrupt> corrupt_cases() {
  const std::string d4 = f32_bytes({1}), d8 = f32_bytes({1, 2}), d12 = f32_bytes({1, 2, 3});
  auto one = [](const std::string& e) { return "{\"a\":" + e + "}"; };
  auto two = [](const std::string& a, const std::string& b) {
    return "{\"a\":" + a + ",\"b\":" + b + "}";
  };
  return {
      {"empty_file", "", "too short"},
      {"shorter_than_8_bytes", std::string("\x10\0\0", 3), "too short"},
      {"header_length_beyond_file", header_length_only(1000, "{}      "), "runs past the end"},
      {"header_length_huge", header_length_only(~0ull, "{}"), "runs past the end"},
      {"header_not_json", safetensors_bytes(R"({"a":{"dtype")", ""), "not valid JSON"},
      {"header_binary", safetensors_bytes("\xff\xfe\x01garbage", ""), "not valid JSON"},
      {"header_empty", header_length_only(0, ""), "not valid JSON"},
      {"header_not_object", safetensors_bytes("[1,2,3]", ""), "must be a JSON object"},
      {"entry_not_object", safetensors_bytes(R"({"a":5})", ""), "expected an object"},
      {"missing_dtype", safetensors_bytes(one(R"({"shape":[1],"data_offsets":[0,4]})"), d4),
       "missing \"dtype\""},
      {"missing_shape", safetensors_bytes(one(R"({"dtype":"F32","data_offsets":[0,4]})"), d4),
       "missing \"shape\""},
      {"missing_offsets", safetensors_bytes(one(R"({"dtype":"F32","shape":[1]})"), d4),
       "missing \"data_offsets\""},
      {"unknown_field", safetensors_bytes(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1})"), d4),
       "unknown field \"x\""},
      {"unknown_dtype", safetensors_bytes(one(entry("F16", "[2]", "[0,4]")), d4),
       "unknown dtype \"F16\""},
      {"dtype_not_string", safetensors_bytes(one(R"({"dtype":4,"shape":[1],"data_offsets":[0,4]})"), d4),
       "dtype must be a string"},
      {"shape_negative", safetensors_bytes(one(entry("F32", "[-1]", "[0,4]")), d4),
       "non-negative integers"},
      {"shape_fraction", safetensors_bytes(one(entry("F32", "[1.5]", "[0,4]")), d4),
       "non-negative integers"},
      {"shape_not_array", safetensors_bytes(one(entry("F32", "4", "[0,4]")), d4),
       "shape must be an array"},
      {"offsets_one_number", safetensors_bytes(one(entry("F32", "[1]", "[4]")), d4),
       "data_offsets must be [begin, end]"},
      {"offsets_negative", safetensors_bytes(one(entry("F32", "[1]", "[-4,0]")), d4),
       "data_offsets must be [begin, end]"},
      {"offsets_reversed", safetensors_bytes(one(entry("F32", "[1]", "[4,0]")), d4), "reversed"},
      {"offsets_not_matching_shape", safetensors_bytes(one(entry("F32", "[3]", "[0,8]")), d8),
       "needs 12"},
      {"offsets_not_matching_dtype", safetensors_bytes(one(entry("F64", "[2]", "[0,8]")), d8),
       "needs 16"},
      {"shape_overflows", safetensors_bytes(one(entry("F32", "[4294967296,4294967296,16]", "[0,4]")), d4),
       "more than 2^64"},
      {"offsets_out_of_range", safetensors_bytes(one(entry("F32", "[2]", "[0,8]")), d4),
       "run past the end of the data section"},
      {"offsets_far_out_of_range", safetensors_bytes(one(entry("F32", "[1]", "[1000000,1000004]")), d4),
       "run past the end of the data section"},
      {"overlapping", safetensors_bytes(two(entry("F32", "[2]", "[0,8]"), entry("F32", "[2]", "[4,12]")), d12),
       "overlaps tensor 'a'"},
      {"same_range_twice", safetensors_bytes(two(entry("F32", "[1]", "[0,4]"), entry("F32", "[1]", "[0,4]")), d4),
       "overlaps"},
      {"gap_between", safetensors_bytes(two(entry("F32", "[1]", "[0,4]"), entry("F32", "[1]", "[8,12]")), d12),
       "belong to no tensor"},
      {"not_starting_at_zero", safetensors_bytes(one(entry("F32", "[1]", "[4,8]")), d8),
       "belong to no tensor"},
      {"trailing_bytes", safetensors_bytes(one(entry("F32", "[1]", "[0,4]")), d8), "trailing bytes"},
      // nlohmann alone would keep the last of two "a" silently.
      {"duplicate_name", safetensors_bytes("{\"a\":" + entry("F32", "[1]", "[0,4]") + ",\"a\":" +
                                               entry("F32", "[1]", "[4,8]") + "}", d8),
       "'a' appears twice"},
      {"metadata_not_strings", safetensors_bytes(R"({"__metadata__":{"step":12}})", ""),
       "must be a string"},
      {"metadata_not_object", safetensors_bytes(R"({"__metadata__":[1]})", ""),
       "\"__metadata__\" must be an object"},
  };
}

class IoSafetensorsCorrupt : public testing::TestWithParam<Corrupt> {};

TEST_P(IoSafetensorsCorrupt, IsRefusedNamingFileAndReason) {
  const Corrupt& c = GetParam();
  ScratchDir dir;
  std::string path = dir.file(std::string(c.name) + ".safetensors");
  write_raw(path, c.bytes);
  std::string msg = error_of([&] { load_safetensors(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr(c.reason));
}

INSTANTIATE_TEST_SUITE_P(Io, IoSafetensorsCorrupt, testing::ValuesIn(corrupt_cases()),
                         [](const testing::TestParamInfo<Corrupt>& info) {
                           return std::string(info.param.name);
                         });

// Every proper prefix of a real file must be refused: inside the length, inside the header,
// inside the padding and inside the data. The file is written once and shrunk step by step
// (rewriting it each time costs a flush per cut on ext4).
void expect_every_prefix_refused(const std::string& bytes, const ScratchDir& dir, size_t step) {
  std::string path = dir.file("cut.safetensors");
  write_raw(path, bytes);
  for (size_t cut = bytes.size(); cut-- > 0;) {
    if (cut >= 64 && cut + 64 < bytes.size() && cut % step != 0) continue;
    std::filesystem::resize_file(path, cut);
    std::string msg = error_of([&] { load_safetensors(path); });
    EXPECT_THAT(msg, HasSubstr(path)) << "cut at byte " << cut << " of " << bytes.size();
    EXPECT_THAT(msg, AnyOf(HasSubstr("truncated"), HasSubstr("too short")))
        << "cut at byte " << cut << " of " << bytes.size();
  }
}

TEST(IoSafetensors, TruncationAtAnyByteIsDetected) {
  ScratchDir dir;
  std::string full = dir.file("full.safetensors");
  save_safetensors(full, sample_tensors(), {{"k", "v"}});
  expect_every_prefix_refused(read_raw(full), dir, 1);
}

TEST(IoSafetensors, TruncationOfParityFixtureIsDetected) {
  std::vector<std::string> fixtures = io_test::parity_fixture_dirs();
  if (fixtures.empty()) GTEST_SKIP() << "no tests/fixtures/parity/*/ yet";
  ScratchDir dir;
  expect_every_prefix_refused(read_raw(fixtures.front() + "/model.safetensors"), dir, 499);
}

}  // namespace
}  // namespace tfm
