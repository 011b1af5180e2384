#include "tools/valprep/labels.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge {
namespace valprep {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

MATCHER_P2(Labeled, image, wnid, "") { return arg.image == image && arg.wnid == wnid; }

TEST(LabelsFormatTest, NamesRoundTrip) {
  for (LabelsFormat format : {LabelsFormat::kAuto, LabelsFormat::kKaggleCsv,
                              LabelsFormat::kValprepSh, LabelsFormat::kWnidLines,
                              LabelsFormat::kDevkit}) {
    absl::StatusOr<LabelsFormat> parsed = ParseLabelsFormat(LabelsFormatName(format));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, format);
  }
  EXPECT_EQ(ParseLabelsFormat("csv").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LabelsTest, UnsafeComponents) {
  EXPECT_EQ(UnsafeComponentReason("ILSVRC2012_val_00000001.JPEG"), "");
  EXPECT_EQ(UnsafeComponentReason("n01440764"), "");
  EXPECT_NE(UnsafeComponentReason(""), "");
  EXPECT_NE(UnsafeComponentReason("."), "");
  EXPECT_NE(UnsafeComponentReason(".."), "");
  EXPECT_NE(UnsafeComponentReason("/etc/passwd"), "");
  EXPECT_NE(UnsafeComponentReason("a/b"), "");
  EXPECT_NE(UnsafeComponentReason("a\tb"), "");
  EXPECT_NE(UnsafeComponentReason(std::string(256, 'a')), "");
}

TEST(LabelsTest, ValImageName) {
  EXPECT_EQ(ValImageName(1), "ILSVRC2012_val_00000001.JPEG");
  EXPECT_EQ(ValImageName(50000), "ILSVRC2012_val_00050000.JPEG");
}

TEST(DetectTest, EachFormatFromItsFirstNonEmptyLine) {
  EXPECT_EQ(*DetectLabelsFormat("ImageId,PredictionString\nx,n01440764 1 2 3 4\n", "f"),
            LabelsFormat::kKaggleCsv);
  EXPECT_EQ(*DetectLabelsFormat("\xEF\xBB\xBFImageId,PredictionString\r\n", "f"),
            LabelsFormat::kKaggleCsv);
  EXPECT_EQ(*DetectLabelsFormat("mv ILSVRC2012_val_00000001.JPEG n01751748/\t\n", "f"),
            LabelsFormat::kValprepSh);
  // soumith's file starts with its mkdir lines.
  EXPECT_EQ(*DetectLabelsFormat("mkdir -p n01440764\nmv a.JPEG n01440764/\n", "f"),
            LabelsFormat::kValprepSh);
  EXPECT_EQ(*DetectLabelsFormat("\n\n  n01751748  \nn09193705\n", "f"), LabelsFormat::kWnidLines);
  EXPECT_EQ(*DetectLabelsFormat("490\r\n361\r\n", "f"), LabelsFormat::kDevkit);
}

TEST(DetectTest, UnknownLineNamesFileAndLine) {
  absl::StatusOr<LabelsFormat> format =
      DetectLabelsFormat("\nn01440764 tench, Tinca tinca\n", "labels.txt");
  ASSERT_FALSE(format.ok());
  EXPECT_EQ(format.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(format.status().message(), HasSubstr("labels.txt:2"));
  EXPECT_THAT(format.status().message(), HasSubstr("tench"));
}

TEST(DetectTest, EmptyFile) {
  for (const char* contents : {"", "\n\n", "\xEF\xBB\xBF", "  \r\n"}) {
    absl::StatusOr<LabelsFormat> format = DetectLabelsFormat(contents, "empty.txt");
    ASSERT_FALSE(format.ok());
    EXPECT_THAT(format.status().message(), HasSubstr("empty.txt"));
    EXPECT_THAT(format.status().message(), HasSubstr("empty"));
  }
}

TEST(KaggleTest, FirstTokenOfPredictionString) {
  const std::string csv =
      "\xEF\xBB\xBFImageId,PredictionString\r\n"
      "ILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789 44 21 322 295\r\n"
      "ILSVRC2012_val_00000001,n01751748 1 2 3 4 \r\n"
      "\r\n";
  GroundTruth truth = ParseGroundTruth(csv, "LOC_val_solution.csv", LabelsFormat::kAuto, nullptr);
  EXPECT_THAT(truth.errors, IsEmpty());
  EXPECT_EQ(truth.format, LabelsFormat::kKaggleCsv);
  EXPECT_THAT(truth.images, ElementsAre(Labeled("ILSVRC2012_val_00008726.JPEG", "n02119789"),
                                        Labeled("ILSVRC2012_val_00000001.JPEG", "n01751748")));
  EXPECT_EQ(truth.images[0].line, 2);
}

TEST(KaggleTest, WithoutTrailingNewlineAndNamed) {
  GroundTruth truth = ParseGroundTruth("ImageId,PredictionString\nimg,n01751748 1 2 3 4", "f",
                                       LabelsFormat::kKaggleCsv, nullptr);
  EXPECT_THAT(truth.errors, IsEmpty());
  EXPECT_THAT(truth.images, ElementsAre(Labeled("img.JPEG", "n01751748")));
}

TEST(KaggleTest, BadRowsAreListedWithLines) {
  GroundTruth truth = ParseGroundTruth(
      "ImageId,PredictionString\nno comma here\n,n01751748 1 2 3 4\nimg,\nok,n01751748 1 1 1 1\n",
      "sol.csv", LabelsFormat::kAuto, nullptr);
  EXPECT_EQ(truth.errors.size(), 3u);
  EXPECT_THAT(truth.errors[0], HasSubstr("sol.csv:2"));
  EXPECT_THAT(truth.errors[1], HasSubstr("sol.csv:3"));
  EXPECT_THAT(truth.errors[2], HasSubstr("sol.csv:4"));
}

TEST(KaggleTest, NamedButNoHeader) {
  GroundTruth truth = ParseGroundTruth("img,n01751748 1 2 3 4\n", "f", LabelsFormat::kKaggleCsv,
                                       nullptr);
  ASSERT_FALSE(truth.errors.empty());
  EXPECT_THAT(truth.errors[0], HasSubstr("ImageId,PredictionString"));
}

TEST(ValprepShTest, WithAndWithoutTrailingTab) {
  const std::string script =
      "mkdir -p n01440764\n"
      "mkdir -p n01751748\n"
      "mv ILSVRC2012_val_00000001.JPEG n01751748/\t\n"
      "mv ILSVRC2012_val_00000002.JPEG n01440764/\n"
      "  mv   ILSVRC2012_val_00000003.JPEG\tn01440764  \r\n";
  GroundTruth truth = ParseGroundTruth(script, "valprep.sh", LabelsFormat::kAuto, nullptr);
  EXPECT_THAT(truth.errors, IsEmpty());
  EXPECT_EQ(truth.format, LabelsFormat::kValprepSh);
  EXPECT_THAT(truth.images, ElementsAre(Labeled("ILSVRC2012_val_00000001.JPEG", "n01751748"),
                                        Labeled("ILSVRC2012_val_00000002.JPEG", "n01440764"),
                                        Labeled("ILSVRC2012_val_00000003.JPEG", "n01440764")));
}

TEST(ValprepShTest, OtherCommandsAreErrors) {
  GroundTruth truth = ParseGroundTruth("mv a.JPEG n01751748/\nrm -rf a.JPEG\nmv -f a b c/\n",
                                       "valprep.sh", LabelsFormat::kAuto, nullptr);
  ASSERT_EQ(truth.errors.size(), 2u);
  EXPECT_THAT(truth.errors[0], HasSubstr("valprep.sh:2"));
  EXPECT_THAT(truth.errors[1], HasSubstr("valprep.sh:3"));
}

TEST(WnidLinesTest, LineNumberIsImageNumber) {
  GroundTruth truth =
      ParseGroundTruth("n01751748\r\nn09193705\r\nn02105855\r\n\r\n\n", "f", LabelsFormat::kAuto,
                       nullptr);
  EXPECT_THAT(truth.errors, IsEmpty());
  EXPECT_EQ(truth.format, LabelsFormat::kWnidLines);
  EXPECT_THAT(truth.images, ElementsAre(Labeled("ILSVRC2012_val_00000001.JPEG", "n01751748"),
                                        Labeled("ILSVRC2012_val_00000002.JPEG", "n09193705"),
                                        Labeled("ILSVRC2012_val_00000003.JPEG", "n02105855")));
}

TEST(WnidLinesTest, BlankLineInTheMiddleWouldShiftLabels) {
  GroundTruth truth =
      ParseGroundTruth("n01751748\n\nn09193705\n", "gt.txt", LabelsFormat::kAuto, nullptr);
  ASSERT_EQ(truth.errors.size(), 1u);
  EXPECT_THAT(truth.errors[0], HasSubstr("gt.txt:2"));
}

TEST(WnidLinesTest, NonWnidLine) {
  GroundTruth truth = ParseGroundTruth("n01751748\nn0975\nn01751748 x\n", "gt.txt",
                                       LabelsFormat::kAuto, nullptr);
  ASSERT_EQ(truth.errors.size(), 2u);
  EXPECT_THAT(truth.errors[0], HasSubstr("gt.txt:2"));
  EXPECT_THAT(truth.errors[1], HasSubstr("gt.txt:3"));
}

TEST(DevkitTest, MapsThroughUnsortedSynsets) {
  // The devkit's ID order is not sorted-WNID order: ID 1 is n02119789 (kit fox).
  const std::vector<std::string> synsets = {"n02119789", "n02100735", "n01440764"};
  GroundTruth truth =
      ParseGroundTruth("3\n1\n2\n1\n", "ILSVRC2012_validation_ground_truth.txt",
                       LabelsFormat::kAuto, &synsets);
  EXPECT_THAT(truth.errors, IsEmpty());
  EXPECT_EQ(truth.format, LabelsFormat::kDevkit);
  EXPECT_THAT(truth.images, ElementsAre(Labeled("ILSVRC2012_val_00000001.JPEG", "n01440764"),
                                        Labeled("ILSVRC2012_val_00000002.JPEG", "n02119789"),
                                        Labeled("ILSVRC2012_val_00000003.JPEG", "n02100735"),
                                        Labeled("ILSVRC2012_val_00000004.JPEG", "n02119789")));
}

TEST(DevkitTest, WithoutSynsetsExplainsWhatIsNeeded) {
  GroundTruth truth =
      ParseGroundTruth("490\n361\n", "gt.txt", LabelsFormat::kAuto, /*synsets=*/nullptr);
  ASSERT_EQ(truth.errors.size(), 1u);
  EXPECT_THAT(truth.errors[0], HasSubstr("gt.txt"));
  EXPECT_THAT(truth.errors[0], HasSubstr("--synsets"));
  EXPECT_THAT(truth.images, IsEmpty());
}

TEST(DevkitTest, IdsOutOfRangeAndGarbage) {
  const std::vector<std::string> synsets = {"n02119789", "n02100735"};
  GroundTruth truth = ParseGroundTruth("1\n0\n3\n-1\nx\n2\n", "gt.txt", LabelsFormat::kDevkit,
                                       &synsets);
  ASSERT_EQ(truth.errors.size(), 4u);
  EXPECT_THAT(truth.errors[0], HasSubstr("gt.txt:2"));
  EXPECT_THAT(truth.errors[1], HasSubstr("gt.txt:3"));
  EXPECT_THAT(truth.errors[2], HasSubstr("gt.txt:4"));
  EXPECT_THAT(truth.errors[3], HasSubstr("gt.txt:5"));
}

TEST(NamedFormatTest, DoesNotFit) {
  const std::vector<std::string> synsets = {"n02119789"};
  GroundTruth truth = ParseGroundTruth("n01440764\n", "gt.txt", LabelsFormat::kDevkit, &synsets);
  ASSERT_EQ(truth.errors.size(), 1u);
  EXPECT_THAT(truth.errors[0], HasSubstr("--labels_format=devkit"));
  EXPECT_THAT(truth.errors[0], HasSubstr("wnid_lines"));
}

TEST(DuplicatesTest, SameWnidWarnsAndCountsOnce) {
  GroundTruth truth = ParseGroundTruth(
      "mv a.JPEG n01440764/\nmv b.JPEG n01440764/\nmv a.JPEG n01440764/\n", "v.sh",
      LabelsFormat::kAuto, nullptr);
  EXPECT_THAT(truth.errors, IsEmpty());
  EXPECT_EQ(truth.images.size(), 2u);
  ASSERT_EQ(truth.warnings.size(), 1u);
  EXPECT_THAT(truth.warnings[0], HasSubstr("v.sh:3"));
}

TEST(DuplicatesTest, DifferentWnidsAreAnError) {
  GroundTruth truth = ParseGroundTruth(
      "ImageId,PredictionString\na,n01440764 1 1 1 1\na,n01751748 1 1 1 1\n", "s.csv",
      LabelsFormat::kAuto, nullptr);
  ASSERT_EQ(truth.errors.size(), 1u);
  EXPECT_THAT(truth.errors[0], HasSubstr("s.csv:3"));
  EXPECT_THAT(truth.errors[0], HasSubstr("n01440764"));
  EXPECT_THAT(truth.errors[0], HasSubstr("n01751748"));
}

TEST(UnsafeNamesTest, EscapesAreRefused) {
  GroundTruth truth = ParseGroundTruth(
      "mv ../secret.JPEG n01440764/\n"       // 1: image escapes
      "mv /etc/passwd n01440764/\n"          // 2: absolute image
      "mv sub/a.JPEG n01440764/\n"           // 3: slash in image
      "mv b.JPEG ../\n"                      // 4: class ".."
      "mv c.JPEG ../../etc/\n"               // 5: class with slash
      "mv d.JPEG /tmp/\n"                    // 6: absolute class
      "mv e.JPEG .hidden/\n"                 // 7: hidden class folder
      "mv ok.JPEG n01440764/\n",
      "v.sh", LabelsFormat::kAuto, nullptr);
  ASSERT_EQ(truth.errors.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_THAT(truth.errors[i], HasSubstr("v.sh:" + std::to_string(i + 1)));
  EXPECT_THAT(truth.images, ElementsAre(Labeled("ok.JPEG", "n01440764")));
}

TEST(UnsafeNamesTest, KaggleImageIdWithSlash) {
  GroundTruth truth = ParseGroundTruth(
      "ImageId,PredictionString\n../../x,n01440764 1 1 1 1\n/abs,n01440764 1 1 1 1\n", "s.csv",
      LabelsFormat::kAuto, nullptr);
  EXPECT_EQ(truth.errors.size(), 2u);
}

TEST(GroundTruthTest, HeaderOnlyListsNothing) {
  GroundTruth truth = ParseGroundTruth("ImageId,PredictionString\n", "s.csv", LabelsFormat::kAuto,
                                       nullptr);
  ASSERT_EQ(truth.errors.size(), 1u);
  EXPECT_THAT(truth.errors[0], HasSubstr("no image"));
}

TEST(SynsetsTest, BareOrFirstWnidToken) {
  absl::StatusOr<std::vector<std::string>> synsets = ParseSynsets(
      "1 n02119789 kit fox, Vulpes macrotis\n\nn02100735\r\n3\tn02110185 Siberian husky\n",
      "synsets.txt");
  ASSERT_TRUE(synsets.ok()) << synsets.status();
  EXPECT_THAT(*synsets, ElementsAre("n02119789", "n02100735", "n02110185"));
}

TEST(SynsetsTest, LineWithoutWnidOrRepeatedWnid) {
  absl::StatusOr<std::vector<std::string>> bad = ParseSynsets("n02119789\nkit fox\n", "s.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("s.txt:2"));
  absl::StatusOr<std::vector<std::string>> repeated =
      ParseSynsets("n02119789\nn02100735\nn02119789\n", "s.txt");
  ASSERT_FALSE(repeated.ok());
  EXPECT_THAT(repeated.status().message(), HasSubstr("s.txt:3"));
  EXPECT_FALSE(ParseSynsets("\n", "s.txt").ok());
}

}  // namespace
}  // namespace valprep
}  // namespace forge
