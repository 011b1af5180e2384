#include "lib/io/json_string.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(JsonStringTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("dir/\"a\".jpg"), "\"dir/\\\"a\\\".jpg\"");
  EXPECT_EQ(JsonString("odd\t\\\n\x01"), "\"odd\\t\\\\\\n\\u0001\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 passes through
  EXPECT_EQ(JsonString(absl::string_view("a\0b", 3)), "\"a\\u0000b\"");
}

TEST(JsonStringTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(JsonString("x\xff.png"), "\"x\xef\xbf\xbd.png\"");
}

}  // namespace
}  // namespace forge
