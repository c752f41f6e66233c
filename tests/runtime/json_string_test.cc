// JSON strings as the C API and the CLI print them: always valid UTF-8.
#include "gmock/gmock.h"
#include "lib/core/utf8.h"
#include "lib/runtime/json_lines.h"

namespace landfall::internal {
namespace {

TEST(Utf8Test, WellFormedCharactersHaveTheirLength) {
  EXPECT_EQ(Utf8CharLength("a"), 1u);
  EXPECT_EQ(Utf8CharLength("\xc3\xa9"), 2u);          // é
  EXPECT_EQ(Utf8CharLength("\xe2\x82\xac"), 3u);      // €
  EXPECT_EQ(Utf8CharLength("\xf0\x9f\x8c\x8a"), 4u);  // 🌊
  EXPECT_EQ(Utf8CharLength("\xf4\x8f\xbf\xbf"), 4u);  // U+10FFFF
  EXPECT_TRUE(IsValidUtf8("Jalan \xe2\x82\xac 2018-11-03"));
}

TEST(Utf8Test, MalformedSequencesAreNotCharacters) {
  EXPECT_EQ(Utf8CharLength(""), 0u);
  EXPECT_EQ(Utf8CharLength("\x80"), 0u);              // Continuation byte.
  EXPECT_EQ(Utf8CharLength("\xc3"), 0u);              // Cut short.
  EXPECT_EQ(Utf8CharLength("\xc0\xaf"), 0u);          // Overlong '/'.
  EXPECT_EQ(Utf8CharLength("\xe0\x80\xaf"), 0u);      // Overlong '/'.
  EXPECT_EQ(Utf8CharLength("\xed\xa0\x80"), 0u);      // Surrogate.
  EXPECT_EQ(Utf8CharLength("\xf4\x90\x80\x80"), 0u);  // Past U+10FFFF.
  EXPECT_EQ(Utf8CharLength("\xff"), 0u);
  EXPECT_FALSE(IsValidUtf8("size\xff"));
}

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(JsonString("a\"b\\c\nd\te\x01"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
}

TEST(JsonStringTest, KeepsUtf8AndReplacesOtherBytes) {
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(JsonString("part-\xff\xfe.csv"), "\"part-\\ufffd\\ufffd.csv\"");
  EXPECT_EQ(JsonString("\xc3"), "\"\\ufffd\"");
}

}  // namespace
}  // namespace landfall::internal
