// Runs the lr_find binary itself: required flags, errors naming the flag or file, exit codes, the
// summary line and the written curve.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "lib/io/proto_file.h"
#include "proto/lr_curve.pb.h"
#include "testdata/tiny_training_inputs.h"
#include "testdata/tool_runner.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// The shared tiny training inputs (testdata/tiny_training_inputs.h), written once.
const testdata::TinyTrainingInputs& Inputs() {
  static const testdata::TinyTrainingInputs* inputs = [] {
    absl::StatusOr<testdata::TinyTrainingInputs> written =
        testdata::WriteTinyTrainingInputs(testdata::NewScratchDir("inputs"));
    EXPECT_TRUE(written.ok()) << written.status();
    return new testdata::TinyTrainingInputs(written.ok() ? *written : testdata::TinyTrainingInputs{});
  }();
  return *inputs;
}

testdata::ToolResult LrFind(const std::string& flags) {
  return testdata::RunTool("tools/lr_find/lr_find", "--device=cpu " + flags, ::testing::TempDir());
}

std::string DataFlags() {
  return absl::StrCat("--set='model.name=\"resnet18\";data.batch_size=4;data.image_size=32;optimizer.sgd={};"
                      "deterministic=true' ",
                      "--train=", Inputs().train, " --stats=", Inputs().stats);
}

TEST(MainTest, WritesTheCurveAndASummaryLine) {
  const std::string out = testdata::NewScratchDir() + "/curve.txtpb";
  testdata::ToolResult result = LrFind(absl::StrCat(DataFlags(), " --start_lr=1e-4 --end_lr=1e-2 --num_iter=12 --out=", out));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, MatchesRegex("lr_find: suggested_lr=[0-9.e+-]+ suggestion=[a-z_]+ min_loss_lr=[0-9.e+-]+ "
                                       "min_loss_lr_div10=[0-9.e+-]+ points=12 diverged=false out=.*curve.txtpb\n"));
  LrCurve curve;
  ASSERT_TRUE(ReadProtoFile(out, &curve).ok());
  EXPECT_EQ(curve.points_size(), 12);
  EXPECT_EQ(curve.settings().num_iter(), 12);
  EXPECT_EQ(curve.settings().batch_size(), 4);
  EXPECT_NE(curve.suggestion_status(), LrCurve::SUGGESTION_STATUS_UNSPECIFIED);
}

TEST(MainTest, BadUsageExitsWithTwoAndNamesTheProblem) {
  const std::string dir = testdata::NewScratchDir();
  testdata::ToolResult result = LrFind(DataFlags());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--out is required"));

  result = LrFind(absl::StrCat(DataFlags(), " --out=", dir, "/curve.csv"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("curve.csv"));

  result = LrFind(absl::StrCat(DataFlags(), " --out=", dir, "/no_such_dir/curve.pb"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("no directory"));

  result = LrFind(absl::StrCat(DataFlags(), " --mode=cosine --out=", dir, "/c.pb"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--mode"));

  result = LrFind(absl::StrCat(DataFlags(), " --num_iter=1 --out=", dir, "/c.pb"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--num_iter"));

  result = LrFind(absl::StrCat(DataFlags(), " --stats=", dir, "/absent_stats.txtpb --out=", dir,
                               "/c.pb"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("absent_stats.txtpb"));

  result = LrFind(absl::StrCat(DataFlags(), " --set='data.batch_size=-1' --out=", dir, "/c.pb"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("data.batch_size"));
  EXPECT_FALSE(fs::exists(dir + "/c.pb")) << "nothing written on failure";
}

}  // namespace
}  // namespace forge
