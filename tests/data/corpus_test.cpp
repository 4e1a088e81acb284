#include "data/corpus.h"

#include <gtest/gtest.h>

#include <sstream>

#include "error_message.h"
#include "temp_dir.h"

namespace tfm {
namespace {

using testing::error_message;
using testing::TempDir;

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// Fails showing the message unless it contains every part.
void expect_message(const std::string& msg, std::initializer_list<std::string_view> parts) {
  for (std::string_view p : parts) EXPECT_TRUE(contains(msg, p)) << "missing '" << p << "' in: " << msg;
}

TEST(DataReadLines, KeepsEmptyLinesStripsCrAndBom) {
  TempDir dir;
  const std::string path = dir.write("in.txt", "\xEF\xBB\xBFnaïve\r\n\n日本\nlast");
  EXPECT_EQ(read_lines(path), (std::vector<std::string>{"naïve", "", "日本", "last"}));
  EXPECT_TRUE(read_lines(dir.write("empty.txt", "")).empty());
  EXPECT_EQ(read_lines(dir.write("one.txt", "\n")), (std::vector<std::string>{""}));
}

TEST(DataReadLines, MissingFileIsNamed) {
  TempDir dir;
  const std::string path = dir.file("nope.txt");
  expect_message(error_message([&] { read_lines(path); }), {path, "No such file"});
}

TEST(DataReadLines, InvalidUtf8NamesFileAndLine) {
  TempDir dir;
  const std::string path = dir.write("bad.txt", "ok\nfine\nbro\xc3ken\n");
  expect_message(error_message([&] { read_lines(path); }),
                 {path + ":3: invalid UTF-8 at byte 4", "expected UTF-8"});
}

TEST(DataLineReader, ReadsStreamLinesAndNamesThem) {
  std::istringstream in("a\r\nb\nc\xff\n");
  LineReader reader(in, "<stdin>");
  std::string line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "a");
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "b");
  EXPECT_EQ(reader.where(), "<stdin>:2");
  expect_message(error_message([&] { reader.next(line); }), {"<stdin>:3: invalid UTF-8"});

  std::istringstream in2("x\n\ny");
  EXPECT_EQ(read_lines(in2, "<stdin>"), (std::vector<std::string>{"x", "", "y"}));
}

TEST(DataReadParallel, ReadsAlignedFiles) {
  TempDir dir;
  const auto c = read_parallel(dir.write("a.src", "hello\nworld\n"),
                               dir.write("a.tgt", "HH AH0 L OW1\nW ER1 L D\n"));
  EXPECT_EQ(c.src, (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(c.tgt, (std::vector<std::string>{"HH AH0 L OW1", "W ER1 L D"}));
}

TEST(DataReadParallel, LineCountMismatchNamesBothFilesAndCounts) {
  TempDir dir;
  const std::string src = dir.write("b.src", "a\nb\nc\n");
  const std::string tgt = dir.write("b.tgt", "A\nB\n");
  expect_message(error_message([&] { read_parallel(src, tgt); }),
                 {"'" + src + "' has 3 lines", "'" + tgt + "' has 2", "expected the same number"});
}

TEST(DataReadParallel, InvalidUtf8InTargetNamesIt) {
  TempDir dir;
  const std::string src = dir.write("c.src", "a\nb\n");
  const std::string tgt = dir.write("c.tgt", "A\n\x80\n");
  expect_message(error_message([&] { read_parallel(src, tgt); }), {tgt + ":2: invalid UTF-8"});
}

TEST(DataReadTsv, SplitsOnTheTabAndKeepsEmptySides) {
  TempDir dir;
  const auto c = read_tsv(dir.write("d.tsv", "naïve\tN AY0 IY1 V\r\n\tempty-src\nempty-tgt\t\n"));
  EXPECT_EQ(c.src, (std::vector<std::string>{"naïve", "", "empty-tgt"}));
  EXPECT_EQ(c.tgt, (std::vector<std::string>{"N AY0 IY1 V", "empty-src", ""}));
}

TEST(DataReadTsv, ALineWithoutOneTabNamesFileLineAndExpectation) {
  TempDir dir;
  const std::string none = dir.write("e.tsv", "a\tA\nb B\n");
  expect_message(error_message([&] { read_tsv(none); }),
                 {none + ":2: expected 'source<TAB>target' with exactly one tab", "got no tab"});
  const std::string two = dir.write("f.tsv", "a\tA\nb\tB\nc\tC\tx\n");
  expect_message(error_message([&] { read_tsv(two); }), {two + ":3: expected", "got 2 tabs"});
  const std::string blank = dir.write("g.tsv", "a\tA\n\nb\tB\n");
  expect_message(error_message([&] { read_tsv(blank); }), {blank + ":2:", "(an empty line)"});
  const std::string utf = dir.write("h.tsv", "a\tA\xfe\n");
  expect_message(error_message([&] { read_tsv(utf); }), {utf + ":1: invalid UTF-8"});
}

TEST(DataReadIds, ReadsIdsAndEmptySentences) {
  TempDir dir;
  const auto ids = read_ids(dir.write("i.ids", "1 5  9\n\n 0\t4 \r\n"), 10);
  EXPECT_EQ(ids, (std::vector<std::vector<int>>{{1, 5, 9}, {}, {0, 4}}));
}

TEST(DataReadIds, ANonIntegerTokenNamesFileLineAndToken) {
  TempDir dir;
  for (std::string bad : {"x", "3.5", "12abc", "+4", "--1"}) {
    const std::string path = dir.write("j.ids", "1 2\n3 " + bad + " 4\n");
    expect_message(error_message([&] { read_ids(path, 10); }),
                   {path + ":2: expected a token id, got '" + bad + "'"});
  }
}

TEST(DataReadIds, AnIdOutOfRangeNamesFileLineIdAndRange) {
  TempDir dir;
  const std::string path = dir.write("k.ids", "1 2\n\n3 10\n");
  expect_message(error_message([&] { read_ids(path, 10); }),
                 {path + ":3: token id 10 is outside [0, 10)"});
  const std::string neg = dir.write("l.ids", "-1\n");
  expect_message(error_message([&] { read_ids(neg, 10); }), {neg + ":1: token id -1 is outside [0, 10)"});
  const std::string huge = dir.write("m.ids", "99999999999999999999\n");
  expect_message(error_message([&] { read_ids(huge, 10); }),
                 {huge + ":1: token id 99999999999999999999 is outside [0, 10)"});
  expect_message(error_message([&] { read_ids(path, 0); }), {"vocabulary size 0"});
}

TEST(DataParseIds, PrefixesWhere) {
  EXPECT_EQ(parse_ids("3 4", 5, "<stdin>:1"), (std::vector<int>{3, 4}));
  expect_message(error_message([] { parse_ids("3 q", 5, "<stdin>:7"); }),
                 {"<stdin>:7: expected a token id, got 'q'"});
}

}  // namespace
}  // namespace tfm
