#include "lib/report/csv.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(CsvWriterTest, ClassUsageExample) {
  CsvWriter csv;
  csv.AddRow({"epoch", "phase"});
  csv.AddInt(1);
  csv.AddField("train");
  csv.EndRow();
  EXPECT_EQ(csv.contents(), "epoch,phase\n1,train\n");
}

TEST(CsvWriterTest, QuotesOnlyWhenNeeded) {
  CsvWriter csv;
  csv.AddRow({"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", ""});
  EXPECT_EQ(csv.contents(), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\n");
}

TEST(CsvWriterTest, IntegersAndEmptyRows) {
  CsvWriter csv;
  csv.AddInt(-9223372036854775807LL - 1);
  csv.AddInt(0);
  csv.AddInt(1234567);
  csv.EndRow();
  csv.EndRow();
  EXPECT_EQ(csv.Release(), "-9223372036854775808,0,1234567\n\n");
  EXPECT_EQ(csv.contents(), "");
  csv.AddField("x");
  csv.EndRow();
  EXPECT_EQ(csv.contents(), "x\n");
}

TEST(CsvFieldTest, EscapesOneField) {
  EXPECT_EQ(CsvField("n01440764"), "n01440764");
  EXPECT_EQ(CsvField("tench, Tinca tinca"), "\"tench, Tinca tinca\"");
}

}  // namespace
}  // namespace forge
