#include "tools/predict/lines.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace forge {
namespace {

const std::vector<ClassLabel>& Classes() {
  static const std::vector<ClassLabel> classes = {
      {"n01440764", "tench, Tinca tinca"}, {"n01443537", "goldfish"}, {"n00000002", "odd\t\"name\"\\"}};
  return classes;
}

TopK Answer() {
  TopK answer;
  answer.classes = {1, 0, 2};
  answer.probabilities = {0.90625f, 0.0625f, 0.03125f};
  return answer;
}

TEST(LinesTest, Text) {
  EXPECT_EQ(PredictionLine("dir/a b.jpg", Answer(), Classes(), OutputFormat::kText),
            "dir/a b.jpg\tn01443537 goldfish 0.9062\tn01440764 tench, Tinca tinca 0.0625\t"
            "n00000002 odd \"name\"\\ 0.0312\n");
  EXPECT_EQ(PredictionLine("x\ty.png", absl::NotFoundError("no such file: x\ty.png\n"), Classes(),
                           OutputFormat::kText),
            "x y.png\terror: no such file: x y.png \n");
}

TEST(LinesTest, JsonLines) {
  EXPECT_EQ(PredictionLine("dir/\"a\".jpg", Answer(), Classes(), OutputFormat::kJsonLines),
            "{\"image\":\"dir/\\\"a\\\".jpg\",\"top\":["
            "{\"index\":1,\"wnid\":\"n01443537\",\"name\":\"goldfish\",\"probability\":0.90625},"
            "{\"index\":0,\"wnid\":\"n01440764\",\"name\":\"tench, Tinca tinca\",\"probability\":0.0625},"
            "{\"index\":2,\"wnid\":\"n00000002\",\"name\":\"odd\\t\\\"name\\\"\\\\\",\"probability\":0.03125}]}\n");
  EXPECT_EQ(PredictionLine("a.png", absl::InvalidArgumentError("not a JPEG\x01"), Classes(), OutputFormat::kJsonLines),
            "{\"image\":\"a.png\",\"error\":\"not a JPEG\\u0001\"}\n");
}

TEST(LinesTest, NonFiniteProbabilitiesAreJsonNull) {
  TopK answer;
  answer.classes = {0, 1};
  answer.probabilities = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
  EXPECT_EQ(PredictionLine("a", answer, Classes(), OutputFormat::kJsonLines),
            "{\"image\":\"a\",\"top\":[{\"index\":0,\"wnid\":\"n01440764\",\"name\":\"tench, Tinca tinca\","
            "\"probability\":null},"
            "{\"index\":1,\"wnid\":\"n01443537\",\"name\":\"goldfish\",\"probability\":null}]}\n");
}

TEST(LinesTest, ParsesTheFormatFlag) {
  EXPECT_EQ(*ParseOutputFormat("text"), OutputFormat::kText);
  EXPECT_EQ(*ParseOutputFormat("jsonl"), OutputFormat::kJsonLines);
  EXPECT_TRUE(absl::IsInvalidArgument(ParseOutputFormat("json").status()));
}

}  // namespace
}  // namespace forge
