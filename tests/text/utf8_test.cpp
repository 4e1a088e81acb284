#include "text/utf8.h"

#include <gtest/gtest.h>

#include "../data/error_message.h"

namespace tfm {
namespace {

using testing::error_message;

TEST(TextUtf8, AcceptsValidMultiByteText) {
  EXPECT_EQ(find_invalid_utf8("naïve 日本 😀"), std::string_view::npos);
  EXPECT_EQ(find_invalid_utf8(""), std::string_view::npos);
}

TEST(TextUtf8, FindsEachKindOfInvalidSequence) {
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);               // never valid
  EXPECT_EQ(find_invalid_utf8("a\xc3"), 1u);                // truncated
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);             // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xe0\x80\xaf"), 0u);         // overlong
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);        // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xf4\x90\x80\x80"), 0u);     // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\x80"), 0u);                 // lone continuation byte
  EXPECT_EQ(find_invalid_utf8("\xf4\x8f\xbf\xbf"), std::string_view::npos);  // U+10FFFF
}

TEST(TextUtf8, CheckNamesWhereAndWhichByte) {
  const std::string msg = error_message([] { check_utf8("ab\xff", "in.txt:7"); });
  EXPECT_NE(msg.find("in.txt:7"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid UTF-8 at byte 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0xFF"), std::string::npos) << msg;
}

TEST(TextUtf8, SplitsIntoCodePoints) {
  const auto cps = split_code_points("aï日😀");
  ASSERT_EQ(cps.size(), 4u);
  EXPECT_EQ(cps[1], "ï");
  EXPECT_EQ(cps[2], "日");
  EXPECT_EQ(cps[3], "😀");
}

TEST(TextUtf8, QuoteClippedCutsAtACodePointBoundary) {
  EXPECT_EQ(quote_clipped("abc"), "'abc'");
  EXPECT_EQ(quote_clipped("日本語", 4), "'日...'");  // 4 bytes would split 本
}

}  // namespace
}  // namespace tfm
