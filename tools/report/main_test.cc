// Runs the report binary itself: flags, the summary line on stdout, notes on stderr, exit codes.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"

namespace forge {
namespace {

using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::Runfile;
using testdata::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

testdata::ToolResult Report(const std::string& dir, const std::string& flags) {
  return testdata::RunTool("tools/report/report", flags, dir);
}

TEST(MainTest, ReportsWithNotesForWhatIsMissing) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/run/train_log.pb", "");
  const std::string golden = Runfile("tools/report/testdata/golden/");
  testdata::ToolResult result = Report(dir, absl::StrCat("--run_dir=", dir, "/run --lr_curve=", golden, "lr_curve.txtpb"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out,
              MatchesRegex("report: out_dir=.*/run/report wrote=train_log.csv,train_log_full.csv,"
                           "lr_range_test.png,logs.md left_out=loss.png,.*\n"));
  EXPECT_THAT(result.err, HasSubstr("note: no --eval: classification report and confusion matrix left out"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/run/report/lr_range_test.png"));
}

TEST(MainTest, ExitCodes) {
  const std::string dir = NewScratchDir();
  testdata::ToolResult result = Report(dir, "");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--run_dir is required"));

  result = Report(dir, absl::StrCat("--run_dir=", dir, "/missing"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr(dir + "/missing does not exist"));

  WriteTestFile(dir + "/run/train_log.pb", "");
  result = Report(dir, absl::StrCat("--run_dir=", dir, "/run --eval=", dir, "/eval.json"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr(dir + "/eval.json"));

  result = Report(dir, absl::StrCat("--run_dir=", dir, "/run stray"));
  EXPECT_EQ(result.exit_code, 2);

  // An output directory that is a file: a path the user must fix (ENOTDIR), so bad usage like
  // every errno that names a path (lib/util/exit_code.h).
  WriteTestFile(dir + "/file", "x");
  result = Report(dir, absl::StrCat("--run_dir=", dir, "/run --out_dir=", dir, "/file"));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("cannot create output directory " + dir + "/file: "));
}

}  // namespace
}  // namespace forge
