#include "tools/compute_stats/compute_stats.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "testdata/extreme_images.h"
#include "testdata/image_writers.h"
#include "testdata/tiny_imagenet.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

testdata::TinyImageNetOptions TinyOptions() {
  testdata::TinyImageNetOptions options;
  options.train_per_class = 12;
  return options;
}

// The tiny ImageNet, generated once for all tests.
const std::string& TinyImageNet() {
  static const std::string* root = [] {
    auto* path = new std::string(testdata::NewScratchDir("tiny") + "/data");
    absl::Status status = testdata::WriteTinyImageNet(*path, TinyOptions());
    EXPECT_TRUE(status.ok()) << status;
    return path;
  }();
  return *root;
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

ComputeStatsOptions Options(const std::string& data) {
  ComputeStatsOptions options;
  options.data = data;
  options.progress = false;
  return options;
}

TEST(ComputeStatsTest, ExactValuesOnLosslessImages) {
  const fs::path root = fs::path(testdata::NewScratchDir());
  fs::remove_all(root);
  // Class a: one 2x2 image, pixels (0,0,0) (255,255,255) (255,0,0) (0,0,255).
  const uint8_t first[] = {0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255};
  WriteBytes(root / "a" / "1.png", testdata::EncodePng(first, 2, 2, 3));
  // Class b: one 1x2 gray image (51, 102), replicated to RGB.
  const uint8_t second[] = {51, 102};
  WriteBytes(root / "b" / "2.PNG", testdata::EncodePng(second, 1, 2, 1));
  ComputeStatsOptions options = Options(root.string());
  options.resize_shorter = 0;
  options.center_crop = 0;
  absl::StatusOr<ChannelStats> stats = ComputeStats(options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->images(), 2);
  EXPECT_EQ(stats->pixels(), 6);
  // Red channel values /255: {0, 1, 1, 0, 0.2, 0.4}.
  const double red[] = {0, 1, 1, 0, 0.2, 0.4};
  double mean = 0, square = 0;
  for (double v : red) mean += v / 6;
  for (double v : red) square += (v - mean) * (v - mean) / 6;
  EXPECT_NEAR(stats->mean(0), mean, 1e-12);
  EXPECT_NEAR(stats->std(0), std::sqrt(square), 1e-12);
  EXPECT_EQ(stats->sum(0), 255u + 255u + 51u + 102u);
  EXPECT_EQ(stats->options().resize_shorter(), 0);
}

TEST(ComputeStatsTest, IdenticalWhateverTheThreadCount) {
  ComputeStatsOptions options = Options(TinyImageNet() + "/train");
  options.threads = 1;
  absl::StatusOr<ChannelStats> one = ComputeStats(options);
  ASSERT_TRUE(one.ok()) << one.status();
  for (int threads : {2, 3, 8}) {
    options.threads = threads;
    absl::StatusOr<ChannelStats> many = ComputeStats(options);
    ASSERT_TRUE(many.ok()) << many.status();
    EXPECT_EQ(many->SerializeAsString(), one->SerializeAsString()) << "threads=" << threads;
  }
  EXPECT_EQ(one->pixels(), one->images() * 224 * 224);
  for (int c = 0; c < 3; ++c) {
    EXPECT_GT(one->mean(c), 0.05);
    EXPECT_LT(one->mean(c), 0.95);
    EXPECT_GT(one->std(c), 0.01);
  }
}

TEST(ComputeStatsTest, PathologicalFilesAreSkippedAndListed) {
  const testdata::PathologicalFiles bad = testdata::TinyImageNetPathologicalFiles(TinyOptions());
  absl::StatusOr<ChannelStats> stats = ComputeStats(Options(TinyImageNet() + "/train"));
  ASSERT_TRUE(stats.ok()) << stats.status();
  std::set<std::string> skipped;
  for (const SkippedFile& file : stats->skipped()) {
    skipped.insert(fs::path(file.path()).filename().string());
    EXPECT_FALSE(file.error().empty());
  }
  // Unreadable ones are skipped; CMYK, grayscale, progressive and PNG-as-JPEG are read.
  for (const std::string& path : {bad.truncated, bad.empty, bad.not_an_image}) {
    if (path.rfind("train/", 0) != 0) continue;
    EXPECT_EQ(skipped.count(fs::path(path).filename().string()), 1u) << path;
  }
  for (const std::string& path : {bad.cmyk, bad.grayscale, bad.progressive, bad.png_as_jpeg}) {
    EXPECT_EQ(skipped.count(fs::path(path).filename().string()), 0u) << path;
  }
  EXPECT_EQ(stats->images_skipped(), stats->skipped_size());
  EXPECT_GE(stats->images_skipped(), 1);
}

TEST(ComputeStatsTest, StrictFailsNamingTheFile) {
  ComputeStatsOptions options = Options(TinyImageNet() + "/train");
  options.strict = true;
  absl::StatusOr<ChannelStats> stats = ComputeStats(options);
  EXPECT_TRUE(absl::IsInvalidArgument(stats.status())) << stats.status();
  EXPECT_NE(stats.status().message().find(".JPEG"), std::string::npos) << stats.status();
}

// Very wide and very tall images pass the decoder, but resizing their shorter side to 256
// would need gigabytes: they are skipped and listed (refused with --strict), never a crash.
// One-pixel images work.
TEST(ComputeStatsTest, ExtremeAspectRatiosAreSkippedAndOnePixelWorks) {
  const fs::path root = fs::path(testdata::NewScratchDir());
  fs::remove_all(root);
  for (const testdata::ExtremeImage& image : testdata::ExtremeImages()) {
    WriteBytes(root / "n01440764" / image.name, image.bytes);
  }
  const std::set<std::string> expected_skipped = {
      "tall_2x20000.JPEG", "tall_2x20000.png", "too_wide_70000x1.png", "wide_20000x2.JPEG",
      "wide_20000x2.png"};
  for (int threads : {1, 3}) {
    ComputeStatsOptions options = Options(root.string());
    options.threads = threads;
    absl::StatusOr<ChannelStats> stats = ComputeStats(options);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->images(), 2);  // the one-pixel JPEG and PNG
    EXPECT_EQ(stats->pixels(), 2 * 224 * 224);
    std::set<std::string> skipped;
    for (const SkippedFile& file : stats->skipped()) {
      skipped.insert(fs::path(file.path()).filename().string());
      EXPECT_NE(file.error().find("resizing"), std::string::npos) << file.error();
    }
    EXPECT_EQ(skipped, expected_skipped);

    options.strict = true;
    stats = ComputeStats(options);
    ASSERT_TRUE(absl::IsInvalidArgument(stats.status())) << stats.status();
    // The first in dataset order.
    EXPECT_NE(stats.status().message().find("tall_2x20000.JPEG"), std::string::npos)
        << stats.status();
  }
  // Without the resize, every one of them is read whole.
  ComputeStatsOptions whole = Options(root.string());
  whole.resize_shorter = 0;
  whole.center_crop = 0;
  absl::StatusOr<ChannelStats> stats = ComputeStats(whole);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->images(), 7);
}

TEST(ComputeStatsTest, SampleReadsExactlyThatManyImages) {
  ComputeStatsOptions options = Options(TinyImageNet() + "/train");
  options.sample = 25;
  options.seed = 7;
  absl::StatusOr<ChannelStats> stats = ComputeStats(options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->images() + stats->images_skipped(), 25);
  EXPECT_EQ(stats->options().sample(), 25);
  options.threads = 1;
  EXPECT_EQ(ComputeStats(options)->SerializeAsString(), stats->SerializeAsString());
}

TEST(ComputeStatsTest, FullImagesWhenResizeAndCropDisabled) {
  ComputeStatsOptions options = Options(TinyImageNet() + "/train");
  options.resize_shorter = 0;
  options.center_crop = 0;
  absl::StatusOr<ChannelStats> stats = ComputeStats(options);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_NE(stats->pixels(), stats->images() * 224 * 224);
  EXPECT_GT(stats->pixels(), stats->images() * 64 * 64 - 1);
}

TEST(ComputeStatsTest, BadInputsAreInvalidArgument) {
  EXPECT_TRUE(absl::IsNotFound(ComputeStats(Options(TinyImageNet() + "/absent")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ComputeStats(Options("")).status()));
  ComputeStatsOptions negative = Options(TinyImageNet() + "/train");
  negative.center_crop = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(ComputeStats(negative).status()));
  // A folder whose only image is unreadable: nothing to compute.
  const fs::path root = fs::path(testdata::NewScratchDir());
  WriteBytes(root / "a" / "x.JPEG", "not an image");
  absl::Status status = ComputeStats(Options(root.string())).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

}  // namespace
}  // namespace forge
