// RunPredict on the tiny inputs: eval's top-5 for every image, failing images reported on their
// own lines, folders and lists expanded, JSON lines that parse, refusals.
#include "tools/predict/predict.h"

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "testdata/scratch.h"
#include "tools/eval/eval.h"
#include "testdata/tiny_model.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Probabilities of an image in batches of other sizes: CPU kernels may sum in another order.
constexpr double kTolerance = 1e-5;

const testdata::TinyModel& Tiny() {
  static const testdata::TinyModel* tiny = [] {
    absl::StatusOr<testdata::TinyModel> written = testdata::WriteTinyModel(testdata::NewScratchDir("tiny"));
    EXPECT_TRUE(written.ok()) << written.status();
    return new testdata::TinyModel(written.ok() ? *written : testdata::TinyModel{});
  }();
  return *tiny;
}

PredictToolOptions Options() {
  PredictToolOptions options;
  options.predictor.weights_path = Tiny().checkpoint;
  options.predictor.device = "cpu";
  options.predictor.threads = 2;
  options.batch_size = 7;  // batches unlike eval's
  return options;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_TRUE(!lines.empty() && lines.back().empty()) << "every line ends in a newline";
  if (!lines.empty()) lines.pop_back();
  return lines;
}

google::protobuf::Struct ParseJson(const std::string& line) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(line, &parsed);
  EXPECT_TRUE(status.ok()) << status << " in " << line;
  return parsed;
}

// The n-th image of the tiny inputs (in ImageFolder order).
std::string TinyImage(int n) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(Tiny().inputs.train)) {
    if (entry.is_regular_file()) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths.at(n);
}

TEST(PredictTest, TopFiveIsEvalsPredictionsForAFolder) {
  EvalToolOptions eval;
  eval.checkpoint = Tiny().checkpoint;
  eval.data = Tiny().inputs.train;
  eval.resize_shorter = testdata::kTinyEvalShorterSide;  // the transform the checkpoint stores
  eval.center_crop = testdata::kTinyEvalSize;
  eval.batch_size = 16;
  eval.device = "cpu";
  eval.threads = 2;
  eval.predictions = true;
  absl::StatusOr<EvalResult> evaluated = RunEval(eval);
  ASSERT_TRUE(evaluated.ok()) << evaluated.status();
  ASSERT_EQ(evaluated->predictions_size(), testdata::kTinyImages);

  PredictToolOptions options = Options();
  options.images = {Tiny().inputs.train};
  options.format = OutputFormat::kJsonLines;
  std::ostringstream out;
  absl::StatusOr<PredictSummary> summary = RunPredict(options, out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->images, testdata::kTinyImages);
  EXPECT_EQ(summary->failed, 0);
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), static_cast<size_t>(testdata::kTinyImages));
  for (int i = 0; i < testdata::kTinyImages; ++i) {
    const ImagePrediction& want = evaluated->predictions(i);
    const google::protobuf::Struct line = ParseJson(lines[i]);
    EXPECT_EQ(line.fields().at("image").string_value(), want.source()) << "the same order as eval's";
    const auto& top = line.fields().at("top").list_value().values();
    ASSERT_EQ(top.size(), 5) << lines[i];
    for (int j = 0; j < 5; ++j) {
      const auto& entry = top[j].struct_value().fields();
      EXPECT_EQ(entry.at("index").number_value(), want.top5(j)) << lines[i];
      EXPECT_EQ(entry.at("wnid").string_value(), evaluated->classes(want.top5(j)).wnid()) << lines[i];
      EXPECT_EQ(entry.at("name").string_value(), entry.at("wnid").string_value()) << "no synset mapping";
      EXPECT_NEAR(entry.at("probability").number_value(), want.top5_probability(j), kTolerance) << lines[i];
    }
  }
}

TEST(PredictTest, MissingAndUndecodableFilesFailOnTheirOwnLines) {
  const std::string dir = testdata::NewScratchDir();
  testdata::WriteTestFile(dir + "/not_an_image.jpg", "plain text");
  PredictToolOptions options = Options();
  options.predictor.synset_mapping = Tiny().synset_mapping;
  options.top_k = 3;
  options.batch_size = 2;  // failures in both batches
  options.images = {TinyImage(0), dir + "/missing.png", dir + "/not_an_image.jpg", TinyImage(5)};
  std::ostringstream out;
  absl::StatusOr<PredictSummary> summary = RunPredict(options, out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->images, 4);
  EXPECT_EQ(summary->failed, 2);
  const std::vector<std::string> lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_THAT(lines[1], StartsWith(dir + "/missing.png\terror: "));
  EXPECT_THAT(lines[2], StartsWith(dir + "/not_an_image.jpg\terror: "));
  for (int i : {0, 3}) {
    const std::vector<std::string> fields = absl::StrSplit(lines[i], '\t');
    ASSERT_EQ(fields.size(), 4u) << lines[i];
    EXPECT_EQ(fields[0], options.images[i]);
    for (int j = 1; j <= 3; ++j) {
      // "<wnid> name of <wnid> <probability>"
      const std::vector<std::string> words = absl::StrSplit(fields[j], ' ');
      ASSERT_EQ(words.size(), 5u) << fields[j];
      EXPECT_EQ(words[3], words[0]);
      EXPECT_THAT(words[4], ::testing::MatchesRegex("0\\.[0-9]{4}"));
    }
  }

  // The same images alone give the same lines.
  options.images = {TinyImage(0), TinyImage(5)};
  std::ostringstream alone;
  ASSERT_TRUE(RunPredict(options, alone).ok());
  const std::vector<std::string> good = Lines(alone.str());
  ASSERT_EQ(good.size(), 2u);
  EXPECT_EQ(good[0], lines[0]);
  EXPECT_EQ(good[1], lines[3]);

  // JSON lines of failures parse and carry the error.
  options.format = OutputFormat::kJsonLines;
  options.images = {dir + "/missing.png"};
  std::ostringstream json;
  ASSERT_TRUE(RunPredict(options, json).ok());
  const google::protobuf::Struct line = ParseJson(Lines(json.str()).at(0));
  EXPECT_EQ(line.fields().at("image").string_value(), dir + "/missing.png");
  EXPECT_THAT(line.fields().at("error").string_value(), HasSubstr("missing.png"));
  EXPECT_EQ(line.fields().count("top"), 0u);
}

TEST(PredictTest, FoldersAreWalkedInSortedOrderForImageFilesOnly) {
  const std::string dir = testdata::NewScratchDir();
  const std::string bytes = testdata::ReadTestFile(TinyImage(0));
  for (const char* name : {"b.png", "a.JPG", "sub/z.jpeg", "sub/deeper/c.jpg", ".hidden.jpg", ".git/x.jpg"}) {
    fs::create_directories(fs::path(dir + "/" + name).parent_path());
    testdata::WriteTestFile(dir + "/" + name, bytes);
  }
  testdata::WriteTestFile(dir + "/notes.txt", "not listed");
  PredictToolOptions options = Options();
  options.images = {dir, TinyImage(1)};
  absl::StatusOr<std::vector<std::string>> listed = ListImages(options);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, ElementsAre(dir + "/a.JPG", dir + "/b.png", dir + "/sub/deeper/c.jpg", dir + "/sub/z.jpeg",
                                   TinyImage(1)));
  // A file named explicitly is taken whatever its extension.
  options.images = {dir + "/notes.txt"};
  listed = ListImages(options);
  ASSERT_TRUE(listed.ok());
  EXPECT_THAT(*listed, ElementsAre(dir + "/notes.txt"));
}

TEST(PredictTest, ImagesFromAListAfterTheImages) {
  const std::string dir = testdata::NewScratchDir();
  const std::string folder = dir + "/folder";
  fs::create_directories(folder);
  testdata::WriteTestFile(folder + "/one.png", testdata::ReadTestFile(TinyImage(2)));
  testdata::WriteTestFile(dir + "/list.txt", TinyImage(3) + "\r\n\n  \n" + folder + "\n" + dir + "/missing.jpg");
  PredictToolOptions options = Options();
  options.images = {TinyImage(4)};
  options.images_from = dir + "/list.txt";
  absl::StatusOr<std::vector<std::string>> listed = ListImages(options);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_THAT(*listed, ElementsAre(TinyImage(4), TinyImage(3), folder + "/one.png", dir + "/missing.jpg"));
  std::ostringstream out;
  absl::StatusOr<PredictSummary> summary = RunPredict(options, out);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->images, 4);
  EXPECT_EQ(summary->failed, 1);

  options.images_from = dir + "/missing_list.txt";
  EXPECT_TRUE(absl::IsNotFound(ListImages(options).status()));
}

TEST(PredictTest, RefusesBadOptionsBeforeWritingAnything) {
  PredictToolOptions options = Options();
  std::ostringstream out;
  absl::Status status = RunPredict(options, out).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("--images"));
  options.images = {TinyImage(0)};
  options.top_k = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(RunPredict(options, out).status()));
  options.top_k = 5;
  options.batch_size = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(RunPredict(options, out).status()));
  options.batch_size = 4;
  options.predictor.weights_path = Tiny().checkpoint + ".missing";
  EXPECT_TRUE(absl::IsNotFound(RunPredict(options, out).status()));
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace forge
