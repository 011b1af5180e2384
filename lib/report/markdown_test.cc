#include "lib/report/markdown.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace {

using ::testing::HasSubstr;

TEST(MarkdownTableTest, ClassUsageExample) {
  MarkdownTable table({{"epoch", MarkdownTable::kRight}, {"phase", MarkdownTable::kLeft}});
  table.AddRow({"1", "train"});
  EXPECT_EQ(table.Render(), "| epoch | phase |\n| ----: | :---- |\n|     1 | train |\n");
}

TEST(MarkdownTableTest, PadsToWidestCellCountingCodePoints) {
  MarkdownTable table({{"a"}, {"b", MarkdownTable::kRight}});
  table.AddRow({"caf\xc3\xa9", "1"});
  table.AddRow({"x|y", "12345"});
  table.AddRow({"two\nlines", ""});
  EXPECT_EQ(table.Render(),
            "| a         |     b |\n"
            "| :-------- | ----: |\n"
            "| caf\xc3\xa9      |     1 |\n"
            "| x\\|y      | 12345 |\n"
            "| two lines |       |\n");
}

TEST(MarkdownTableTest, HeaderOnly) {
  MarkdownTable table({{"x"}});
  EXPECT_EQ(table.rows(), 0);
  EXPECT_EQ(table.Render(), "| x   |\n| :-- |\n");
}

TEST(MarkdownTest, EscapesInlineText) {
  EXPECT_EQ(EscapeMarkdown("jack-o'-lantern"), "jack-o'-lantern");
  EXPECT_EQ(EscapeMarkdown("a*b_c [d] <e> |f| `g` \\"), "a\\*b\\_c \\[d\\] \\<e\\> \\|f\\| \\`g\\` \\\\");
}

TEST(MarkdownTest, FencedBlockOutgrowsBackticksInside) {
  EXPECT_EQ(FencedBlock("a: 1\n", "text"), "```text\na: 1\n```\n");
  EXPECT_EQ(FencedBlock("no newline", ""), "```\nno newline\n```\n");
  EXPECT_EQ(FencedBlock("x ```` y\n", "text"), "`````text\nx ```` y\n`````\n");
  EXPECT_EQ(FencedBlock("", "text"), "```text\n```\n");
}

constexpr char kStart[] = "<!-- s -->";
constexpr char kEnd[] = "<!-- e -->";

TEST(UpsertMarkedBlockTest, ReplacesBetweenMarkersOnly) {
  const std::string document = "# Title\nintro\n<!-- s -->\nold\nstuff\n<!-- e --> tail\nmore\n";
  absl::StatusOr<std::string> out = UpsertMarkedBlock(document, kStart, kEnd, "new\n", "R.md");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "# Title\nintro\n<!-- s -->\nnew\n<!-- e --> tail\nmore\n");
}

TEST(UpsertMarkedBlockTest, AppendsThenRefreshesInPlace) {
  absl::StatusOr<std::string> first = UpsertMarkedBlock("# Title\nno newline", kStart, kEnd, "v1\n", "R.md");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "# Title\nno newline\n\n<!-- s -->\nv1\n<!-- e -->\n");
  absl::StatusOr<std::string> second = UpsertMarkedBlock(*first, kStart, kEnd, "v2\n", "R.md");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, "# Title\nno newline\n\n<!-- s -->\nv2\n<!-- e -->\n");
  absl::StatusOr<std::string> again = UpsertMarkedBlock(*second, kStart, kEnd, "v2\n", "R.md");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *second);

  absl::StatusOr<std::string> empty = UpsertMarkedBlock("", kStart, kEnd, "x\n", "R.md");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "<!-- s -->\nx\n<!-- e -->\n");
  absl::StatusOr<std::string> trailing = UpsertMarkedBlock("a\n", kStart, kEnd, "x\n", "R.md");
  ASSERT_TRUE(trailing.ok());
  EXPECT_EQ(*trailing, "a\n\n<!-- s -->\nx\n<!-- e -->\n");
}

TEST(UpsertMarkedBlockTest, RefusesBrokenMarkersNamingTheFile) {
  for (const char* document : {"a\n<!-- s -->\nb\n", "a\n<!-- e -->\n",
                               "<!-- e -->\n<!-- s -->\n", "<!-- s --><!-- s --><!-- e -->",
                               "<!-- s --><!-- e --><!-- e -->"}) {
    absl::StatusOr<std::string> out = UpsertMarkedBlock(document, kStart, kEnd, "x\n", "docs/R.md");
    ASSERT_FALSE(out.ok()) << document;
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(out.status().message(), HasSubstr("docs/R.md"));
  }
}

}  // namespace
}  // namespace forge
