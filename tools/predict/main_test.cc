// Runs the predict binary itself: standard input lists, exit codes, usage errors.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "testdata/scratch.h"
#include "testdata/tool_runner.h"
#include "testdata/tiny_model.h"

namespace forge {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const testdata::TinyModel& Tiny() {
  static const testdata::TinyModel* tiny = [] {
    absl::StatusOr<testdata::TinyModel> written = testdata::WriteTinyModel(testdata::NewScratchDir("tiny"));
    EXPECT_TRUE(written.ok()) << written.status();
    return new testdata::TinyModel(written.ok() ? *written : testdata::TinyModel{});
  }();
  return *tiny;
}

testdata::ToolResult Predict(const std::string& flags) {
  return testdata::RunTool("tools/predict/predict",
                           absl::StrCat("--device=cpu --threads=2 --checkpoint=", Tiny().checkpoint, " ", flags),
                           ::testing::TempDir());
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST(MainTest, ReadsTheListFromStandardInput) {
  const std::string dir = testdata::NewScratchDir();
  const std::string list = dir + "/list.txt";
  testdata::WriteTestFile(list, Tiny().inputs.train + "\n");
  testdata::ToolResult result = Predict("--images_from=- --format=jsonl --top_k=2 < " + list);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), static_cast<size_t>(testdata::kTinyImages)) << result.out;
  for (const std::string& line : lines) {
    EXPECT_THAT(line, StartsWith("{\"image\":\"" + Tiny().inputs.train + "/n"));
    EXPECT_THAT(line, HasSubstr("\"probability\":"));
  }
}

TEST(MainTest, SomeImagesFailingExitsWithThreeEveryLineWritten) {
  const std::string dir = testdata::NewScratchDir();
  testdata::WriteTestFile(dir + "/broken.png", "\x89PNG\r\n\x1a\n truncated");
  testdata::ToolResult result =
      Predict(absl::StrCat("--synset_mapping=", Tiny().synset_mapping, " --batch_size=16 --images=", dir,
                           "/missing.jpg,", Tiny().inputs.train, ",", dir, "/broken.png"));
  EXPECT_EQ(result.exit_code, 3) << result.err;
  const std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), static_cast<size_t>(testdata::kTinyImages + 2)) << result.out;
  EXPECT_THAT(lines.front(), StartsWith(dir + "/missing.jpg\terror: "));
  EXPECT_THAT(lines.back(), StartsWith(dir + "/broken.png\terror: "));
  EXPECT_THAT(lines[1], HasSubstr(" name of n"));
  EXPECT_THAT(result.err, HasSubstr("2 of 42 images"));
}

TEST(MainTest, BadUsageExitsWithTwo) {
  EXPECT_EQ(Predict("").exit_code, 2) << "no images";
  EXPECT_EQ(Predict("--images=a.jpg --format=xml").exit_code, 2);
  EXPECT_EQ(Predict("--images=a.jpg --top_k=0").exit_code, 2);
  EXPECT_EQ(Predict("a.jpg").exit_code, 2) << "no positional arguments";
  testdata::ToolResult result = testdata::RunTool("tools/predict/predict", "--images=a.jpg", ::testing::TempDir());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--checkpoint"));
}

}  // namespace
}  // namespace forge
