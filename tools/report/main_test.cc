// Runs the report binary itself: flags, the summary line on stdout, notes on stderr, exit codes.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tools/report/report_testing.h"

namespace forge {
namespace {

using report_testing::NewScratchDir;
using report_testing::ReadBytes;
using report_testing::Runfile;
using report_testing::WriteBytes;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Result Report(const std::string& dir, const std::string& flags) {
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  const std::string command = absl::StrCat("'", Runfile("tools/report/report"), "' ", flags, " >'",
                                           out, "' 2>'", err, "'");
  const int status = std::system(command.c_str());
  Result result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = ReadBytes(out);
  result.err = ReadBytes(err);
  return result;
}

TEST(MainTest, ReportsWithNotesForWhatIsMissing) {
  const std::string dir = NewScratchDir();
  WriteBytes(dir + "/run/train_log.pb", "");
  const std::string golden = Runfile("tools/report/testdata/golden/");
  Result result = Report(dir, absl::StrCat("--run_dir=", dir, "/run --lr_curve=", golden, "lr_curve.txtpb"));
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out,
              MatchesRegex("report: out_dir=.*/run/report wrote=train_log.csv,train_log_full.csv,"
                           "lr_range_test.png,logs.md left_out=loss.png,.*\n"));
  EXPECT_THAT(result.err, HasSubstr("note: no --eval: classification report and confusion matrix left out"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/run/report/lr_range_test.png"));
}

TEST(MainTest, ExitCodes) {
  const std::string dir = NewScratchDir();
  Result result = Report(dir, "");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--run_dir is required"));

  result = Report(dir, absl::StrCat("--run_dir=", dir, "/missing"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr(dir + "/missing does not exist"));

  WriteBytes(dir + "/run/train_log.pb", "");
  result = Report(dir, absl::StrCat("--run_dir=", dir, "/run --eval=", dir, "/eval.json"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr(dir + "/eval.json"));

  result = Report(dir, absl::StrCat("--run_dir=", dir, "/run stray"));
  EXPECT_EQ(result.exit_code, 2);

  // A write that fails at run time: the output directory is a file.
  WriteBytes(dir + "/file", "x");
  result = Report(dir, absl::StrCat("--run_dir=", dir, "/run --out_dir=", dir, "/file"));
  EXPECT_EQ(result.exit_code, 1) << result.err;
}

}  // namespace
}  // namespace forge
