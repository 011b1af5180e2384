// Runs the valprep binary itself: flags, exit codes, the summary line and --report.

#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/io/proto_file.h"
#include "proto/valprep.pb.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"
#include "tools/valprep/valprep_testing.h"

namespace forge {
namespace {

using valprep_testing::ListTree;
using valprep_testing::MakeFlatVal;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Runs valprep with `flags` (already shell-quoted where needed), capturing stdout and stderr.
testdata::ToolResult RunValprep(const std::string& dir, const std::string& flags) {
  return testdata::RunTool("tools/valprep/valprep", flags, dir);
}

TEST(MainTest, GoodLabelsExitZeroWithOneSummaryLineAndAReport) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir + "/val", 2);
  WriteTestFile(dir + "/labels.txt", "n01440764\nn01443537\n");
  const std::string flags = absl::StrCat("--val_dir='", dir, "/val' --labels='", dir,
                                         "/labels.txt' --report='", dir, "/report.txtpb'");
  testdata::ToolResult result = RunValprep(dir, flags);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "valprep: listed=2 placed=2 already_placed=0 missing=0 unlisted=0 conflicts=0 "
            "classes=2 uneven_classes=0 errors=0 dry_run=false ok=true\n");
  ValprepReport report;
  ASSERT_TRUE(ReadProtoFile(dir + "/report.txtpb", &report).ok());
  EXPECT_EQ(report.labels_format(), "wnid_lines");
  EXPECT_EQ(report.placed(), 2);
  EXPECT_EQ(ReadTestFile(dir + "/val/n01443537/ILSVRC2012_val_00000002.JPEG"),
            valprep_testing::ImageContents(2));

  // Rerun: nothing to do, and the report of the first run in val's parent is not "unlisted".
  result = RunValprep(dir, flags);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("listed=2 placed=0 already_placed=2"));
}

TEST(MainTest, BadLabelsExitTwoNamingTheFileAndTouchNothing) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir + "/val", 2);
  WriteTestFile(dir + "/labels.txt", "n01440764\nthis is not a label\n");
  const std::vector<std::string> before = ListTree(dir);
  testdata::ToolResult result = RunValprep(dir, absl::StrCat("--val_dir='", dir, "/val' --labels='", dir,
                                               "/labels.txt' --report='", dir, "/r.json'"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr(dir + "/labels.txt:2"));
  EXPECT_THAT(result.out, MatchesRegex("valprep: [^\n]* errors=1 [^\n]* ok=false\n"));
  ValprepReport report;
  ASSERT_TRUE(ReadProtoFile(dir + "/r.json", &report).ok());
  ASSERT_EQ(report.errors_size(), 1);
  EXPECT_THAT(report.errors(0), HasSubstr("labels.txt:2"));
  ::remove((dir + "/r.json").c_str());
  EXPECT_EQ(ListTree(dir), before);
}

TEST(MainTest, BadUsageExitsTwo) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir + "/val", 1);
  WriteTestFile(dir + "/labels.txt", "n01440764\n");
  const std::string good = absl::StrCat("--val_dir='", dir, "/val' --labels='", dir, "/labels.txt'");
  for (const std::string& flags :
       {std::string("--labels=x"), absl::StrCat("--val_dir='", dir, "/val'"),
        good + " --mode=rename", good + " --labels_format=tsv", good + " --report=r.yaml",
        absl::StrCat("--val_dir='", dir, "/absent' --labels='", dir, "/labels.txt'"),
        good + " positional"}) {
    testdata::ToolResult result = RunValprep(dir, flags);
    EXPECT_EQ(result.exit_code, 2) << flags << "\n" << result.err;
    EXPECT_FALSE(result.err.empty()) << flags;
  }
  EXPECT_EQ(ReadTestFile(dir + "/val/ILSVRC2012_val_00000001.JPEG"),
            valprep_testing::ImageContents(1));
}

}  // namespace
}  // namespace forge
