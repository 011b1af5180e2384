#include "lib/data/image_folder.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

void Touch(const fs::path& path) { testdata::WriteTestFile(path.string(), "x"); }

TEST(ImageFolderTest, ListsClassesSortedAndSamplesByClass) {
  const fs::path root = fs::path(testdata::NewScratchDir());
  Touch(root / "n02" / "b.JPEG");
  Touch(root / "n02" / "a.jpg");
  Touch(root / "n01" / "sub" / "deep.PNG");
  Touch(root / "n01" / "notes.txt");
  Touch(root / "n01" / ".hidden.JPEG");
  Touch(root / ".ipynb_checkpoints" / "x.JPEG");
  Touch(root / "stray.JPEG");  // files directly in root are not samples
  fs::create_directories(root / "n03_empty");
  absl::StatusOr<ImageFolder> folder = ListImageFolder(root.string());
  ASSERT_TRUE(folder.ok()) << folder.status();
  EXPECT_EQ(folder->classes, (std::vector<std::string>{"n01", "n02", "n03_empty"}));
  ASSERT_EQ(folder->samples.size(), 3u);
  EXPECT_EQ(folder->samples[0].path, "n01/sub/deep.PNG");
  EXPECT_EQ(folder->samples[0].label, 0);
  EXPECT_EQ(folder->samples[1].path, "n02/a.jpg");
  EXPECT_EQ(folder->samples[2].path, "n02/b.JPEG");
  EXPECT_EQ(folder->samples[2].label, 1);
}

TEST(ImageFolderTest, FollowsSymlinkedFiles) {
  const fs::path root = fs::path(testdata::NewScratchDir());
  Touch(root / "elsewhere" / "real.JPEG");
  fs::create_directories(root / "data" / "n01");
  fs::create_symlink(root / "elsewhere" / "real.JPEG", root / "data" / "n01" / "link.JPEG");
  absl::StatusOr<ImageFolder> folder = ListImageFolder((root / "data").string());
  ASSERT_TRUE(folder.ok()) << folder.status();
  ASSERT_EQ(folder->samples.size(), 1u);
  EXPECT_EQ(folder->samples[0].path, "n01/link.JPEG");
}

TEST(ImageFolderTest, RefusesMissingEmptyAndFlatFolders) {
  EXPECT_TRUE(absl::IsNotFound(ListImageFolder((fs::path(testdata::NewScratchDir()) / "absent").string()).status()));
  const fs::path flat = fs::path(testdata::NewScratchDir());
  Touch(flat / "ILSVRC2012_val_00000001.JPEG");
  absl::Status status = ListImageFolder(flat.string()).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("no class folders"), std::string::npos) << status;
  const fs::path empty_classes = fs::path(testdata::NewScratchDir());
  fs::create_directories(empty_classes / "n01");
  EXPECT_TRUE(absl::IsInvalidArgument(ListImageFolder(empty_classes.string()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ListImageFolder((flat / "ILSVRC2012_val_00000001.JPEG").string()).status()));
}

TEST(ImageFolderTest, ImageExtensionsIgnoreCase) {
  EXPECT_TRUE(HasImageExtension("a.JPEG"));
  EXPECT_TRUE(HasImageExtension("a.Png"));
  EXPECT_TRUE(HasImageExtension("a.b.webp"));
  EXPECT_FALSE(HasImageExtension("a.txt"));
  EXPECT_FALSE(HasImageExtension("JPEG"));
  EXPECT_FALSE(HasImageExtension("a.jpeg.bak"));
}

}  // namespace
}  // namespace forge
