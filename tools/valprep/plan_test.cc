#include "tools/valprep/plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testdata/scratch.h"
#include "tools/valprep/valprep_testing.h"

namespace forge {
namespace valprep {
namespace {

using valprep_testing::ImageContents;
using valprep_testing::ListTree;
using valprep_testing::MakeFlatVal;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::WriteTestFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Images 1..n, alternating between two classes.
std::vector<LabeledImage> TwoClasses(int n) {
  std::vector<LabeledImage> images;
  for (int i = 1; i <= n; ++i) images.push_back({ValImageName(i), i % 2 ? "n01440764" : "n01443537", i});
  return images;
}

PlanOptions InPlace(const std::string& dir, PlaceMode mode = PlaceMode::kMove) {
  PlanOptions options;
  options.val_dir = dir;
  options.out_dir = dir;
  options.mode = mode;
  return options;
}

std::vector<Action> Actions(const Plan& plan) {
  std::vector<Action> actions;
  for (const PlannedImage& p : plan.images) actions.push_back(p.action);
  return actions;
}

TEST(MakePlanTest, FreshFolderPlacesEverythingAndFindsUnlisted) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir, 3);
  WriteTestFile(dir + "/ILSVRC2012_val_00000099.JPEG", "stray");
  WriteTestFile(dir + "/.DS_Store", "hidden");
  WriteTestFile(dir + "/labels.csv", "the labels file");
  WriteTestFile(dir + "/subdir/x.JPEG", "not directly in val_dir");
  PlanOptions options = InPlace(dir);
  options.ignored_files = {dir + "/labels.csv", ""};
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(3), options);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->errors, IsEmpty());
  EXPECT_THAT(Actions(*plan), ElementsAre(Action::kPlace, Action::kPlace, Action::kPlace));
  EXPECT_EQ(plan->images[1].source, dir + "/ILSVRC2012_val_00000002.JPEG");
  EXPECT_EQ(plan->images[1].destination, dir + "/n01443537/ILSVRC2012_val_00000002.JPEG");
  EXPECT_THAT(plan->unlisted, ElementsAre("ILSVRC2012_val_00000099.JPEG"));
}

TEST(MakePlanTest, AlreadyPlacedAndMissing) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir, 2);
  WriteTestFile(dir + "/n01440764/ILSVRC2012_val_00000003.JPEG", ImageContents(3));
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(4), InPlace(dir));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Actions(*plan), ElementsAre(Action::kPlace, Action::kPlace, Action::kAlreadyPlaced,
                                          Action::kMissing));
  EXPECT_THAT(plan->unlisted, IsEmpty());
}

TEST(MakePlanTest, MoveWithBothPresent) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir, 4);
  // 1: identical copy in place (an interrupted cross-file-system move); 2: different size;
  // 3: same size, different bytes; 4: the same file under two names.
  WriteTestFile(dir + "/n01440764/ILSVRC2012_val_00000001.JPEG", ImageContents(1));
  WriteTestFile(dir + "/n01443537/ILSVRC2012_val_00000002.JPEG", "something else entirely");
  std::string same_size = ImageContents(3);
  same_size.back() = 'X';
  WriteTestFile(dir + "/n01440764/ILSVRC2012_val_00000003.JPEG", same_size);
  ASSERT_EQ(::link((dir + "/ILSVRC2012_val_00000004.JPEG").c_str(),
                   (dir + "/n01443537/ILSVRC2012_val_00000004.JPEG").c_str()),
            0);
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(4), InPlace(dir));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(Actions(*plan), ElementsAre(Action::kAlreadyPlaced, Action::kConflict,
                                          Action::kConflict, Action::kAlreadyPlaced));
  EXPECT_TRUE(plan->images[0].remove_source);
  EXPECT_THAT(plan->images[1].conflict, HasSubstr("bytes"));
  EXPECT_EQ(plan->images[2].conflict, "same size, different bytes");
  EXPECT_FALSE(plan->images[3].remove_source);

  // Other modes never remove or compare: an existing destination is simply in place.
  absl::StatusOr<Plan> copy = MakePlan(TwoClasses(4), InPlace(dir, PlaceMode::kCopy));
  ASSERT_TRUE(copy.ok());
  EXPECT_THAT(Actions(*copy), ElementsAre(Action::kAlreadyPlaced, Action::kAlreadyPlaced,
                                          Action::kAlreadyPlaced, Action::kAlreadyPlaced));
  EXPECT_FALSE(copy->images[0].remove_source);
}

TEST(MakePlanTest, ClassFolderTakenByAFile) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir, 2);
  WriteTestFile(dir + "/n01443537", "a file where a folder must go");
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(2), InPlace(dir));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_THAT(plan->errors, SizeIs(1));
  EXPECT_THAT(plan->errors[0], HasSubstr(dir + "/n01443537"));
}

TEST(MakePlanTest, ListedImageThatIsADirectory) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir, 1);
  WriteTestFile(dir + "/ILSVRC2012_val_00000002.JPEG/inner", "");
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(2), InPlace(dir));
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_THAT(plan->errors, SizeIs(1));
  EXPECT_THAT(plan->errors[0], HasSubstr("is a directory"));
}

TEST(MakePlanTest, ValDirMustBeADirectory) {
  const std::string dir = NewScratchDir();
  EXPECT_EQ(MakePlan({}, InPlace(dir + "/absent")).status().code(), absl::StatusCode::kNotFound);
  WriteTestFile(dir + "/file", "");
  EXPECT_EQ(MakePlan({}, InPlace(dir + "/file")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MakePlanTest, OutDirThatIsAFile) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir + "/val", 1);
  WriteTestFile(dir + "/out", "");
  PlanOptions options = InPlace(dir + "/val");
  options.out_dir = dir + "/out";
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(1), options);
  ASSERT_TRUE(plan.ok());
  ASSERT_THAT(plan->errors, SizeIs(1));
  EXPECT_THAT(plan->errors[0], HasSubstr("--out_dir"));
}

TEST(ExecutePlanTest, PlacesIntoANewOutDirAndRemovesLeftovers) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir + "/val", 3);
  WriteTestFile(dir + "/out/n01440764/ILSVRC2012_val_00000001.JPEG", ImageContents(1));
  PlanOptions options = InPlace(dir + "/val");
  options.out_dir = dir + "/out";
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(3), options);
  ASSERT_TRUE(plan.ok());
  ExecuteCounts counts;
  ASSERT_TRUE(ExecutePlan(*plan, options.out_dir, PlaceMode::kMove, &counts).ok());
  EXPECT_EQ(counts.placed, 2);
  EXPECT_EQ(counts.sources_removed, 1);
  EXPECT_THAT(ListTree(dir), ElementsAre("out/", "out/n01440764/",
                                         "out/n01440764/ILSVRC2012_val_00000001.JPEG = " + ImageContents(1),
                                         "out/n01440764/ILSVRC2012_val_00000003.JPEG = " + ImageContents(3),
                                         "out/n01443537/",
                                         "out/n01443537/ILSVRC2012_val_00000002.JPEG = " + ImageContents(2),
                                         "val/"));
}

TEST(ExecutePlanTest, StopsAtTheFirstFailureNamingTheFile) {
  const std::string dir = NewScratchDir();
  MakeFlatVal(dir, 4);
  absl::StatusOr<Plan> plan = MakePlan(TwoClasses(4), InPlace(dir));
  ASSERT_TRUE(plan.ok());
  // After planning, a file takes the second class's folder name: placing image 2 fails.
  WriteTestFile(dir + "/n01443537", "in the way");
  ExecuteCounts counts;
  absl::Status status = ExecutePlan(*plan, dir, PlaceMode::kMove, &counts);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("n01443537"));
  EXPECT_EQ(counts.placed, 1);
  EXPECT_EQ(ReadTestFile(dir + "/n01440764/ILSVRC2012_val_00000001.JPEG"), ImageContents(1));
  EXPECT_EQ(ReadTestFile(dir + "/ILSVRC2012_val_00000002.JPEG"), ImageContents(2));
  EXPECT_EQ(ReadTestFile(dir + "/ILSVRC2012_val_00000003.JPEG"), ImageContents(3));
}

}  // namespace
}  // namespace valprep
}  // namespace forge
