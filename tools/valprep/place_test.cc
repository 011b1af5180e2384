#include "tools/valprep/place.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testdata/scratch.h"
#include "tools/valprep/valprep_testing.h"

namespace forge {
namespace valprep {
namespace {

using valprep_testing::ListTree;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::WriteTestFile;
using ::testing::ElementsAre;

ino_t Inode(const std::string& path) {
  struct stat info;
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_ino;
}

bool Exists(const std::string& path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

TEST(PlaceModeTest, NamesRoundTrip) {
  for (PlaceMode mode : {PlaceMode::kMove, PlaceMode::kCopy, PlaceMode::kHardlink,
                         PlaceMode::kSymlink}) {
    EXPECT_EQ(*ParsePlaceMode(PlaceModeName(mode)), mode);
  }
  EXPECT_EQ(ParsePlaceMode("rename").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlaceFileTest, Move) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/a.JPEG", "bytes");
  WriteTestFile(dir + "/n1/.keep", "");
  const ino_t inode = Inode(dir + "/a.JPEG");
  ASSERT_TRUE(PlaceFile(dir + "/a.JPEG", dir + "/n1/a.JPEG", PlaceMode::kMove).ok());
  EXPECT_FALSE(Exists(dir + "/a.JPEG"));
  EXPECT_EQ(ReadTestFile(dir + "/n1/a.JPEG"), "bytes");
  EXPECT_EQ(Inode(dir + "/n1/a.JPEG"), inode);  // a rename, not a copy
}

TEST(PlaceFileTest, CopyKeepsSourceBytesAndPermissionsWithoutLeftovers) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/a.JPEG", std::string(3 << 20, 'x') + "end");  // larger than one buffer
  ASSERT_EQ(::chmod((dir + "/a.JPEG").c_str(), 0640), 0);
  WriteTestFile(dir + "/n1/.keep", "");
  ASSERT_TRUE(PlaceFile(dir + "/a.JPEG", dir + "/n1/a.JPEG", PlaceMode::kCopy).ok());
  EXPECT_EQ(ReadTestFile(dir + "/n1/a.JPEG"), ReadTestFile(dir + "/a.JPEG"));
  EXPECT_NE(Inode(dir + "/n1/a.JPEG"), Inode(dir + "/a.JPEG"));
  struct stat info;
  ASSERT_EQ(::stat((dir + "/n1/a.JPEG").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  EXPECT_THAT(ListTree(dir + "/n1"), ElementsAre(".keep = ", "a.JPEG = " + ReadTestFile(dir + "/a.JPEG")));
}

TEST(PlaceFileTest, HardlinkSharesTheInode) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/a.JPEG", "bytes");
  WriteTestFile(dir + "/n1/.keep", "");
  ASSERT_TRUE(PlaceFile(dir + "/a.JPEG", dir + "/n1/a.JPEG", PlaceMode::kHardlink).ok());
  EXPECT_EQ(Inode(dir + "/n1/a.JPEG"), Inode(dir + "/a.JPEG"));
}

TEST(PlaceFileTest, SymlinkPointsAtTheAbsoluteSource) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/a.JPEG", "bytes");
  WriteTestFile(dir + "/n1/.keep", "");
  // A relative source path still yields an absolute link.
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir.c_str()), 0);
  absl::Status status = PlaceFile("./a.JPEG", "n1/a.JPEG", PlaceMode::kSymlink);
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(status.ok()) << status;
  char target[PATH_MAX];
  const ssize_t n = ::readlink((dir + "/n1/a.JPEG").c_str(), target, sizeof(target));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(target, n), dir + "/a.JPEG");
  EXPECT_EQ(ReadTestFile(dir + "/n1/a.JPEG"), "bytes");
}

class NeverReplaceTest : public ::testing::TestWithParam<PlaceMode> {};

TEST_P(NeverReplaceTest, ExistingDestinationIsAlreadyExistsAndUntouched) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/a.JPEG", "new");
  WriteTestFile(dir + "/n1/a.JPEG", "old");
  const auto before = ListTree(dir);
  absl::Status status = PlaceFile(dir + "/a.JPEG", dir + "/n1/a.JPEG", GetParam());
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists) << status;
  EXPECT_EQ(ListTree(dir), before);
}

INSTANTIATE_TEST_SUITE_P(AllModes, NeverReplaceTest,
                         ::testing::Values(PlaceMode::kMove, PlaceMode::kCopy,
                                           PlaceMode::kHardlink, PlaceMode::kSymlink),
                         [](const auto& info) { return std::string(PlaceModeName(info.param)); });

TEST(PlaceFileTest, FailureNamesTheFileAndLeavesNoTemporary) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/n1/.keep", "");
  absl::Status status = PlaceFile(dir + "/absent.JPEG", dir + "/n1/absent.JPEG", PlaceMode::kCopy);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("absent.JPEG"));
  // Missing destination folder: the temporary file cannot even be created.
  WriteTestFile(dir + "/b.JPEG", "b");
  status = PlaceFile(dir + "/b.JPEG", dir + "/n2/b.JPEG", PlaceMode::kCopy);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("n2/b.JPEG"));
  EXPECT_THAT(ListTree(dir), ElementsAre("b.JPEG = b", "n1/", "n1/.keep = "));
}

TEST(SameContentsTest, InodeSizeAndBytes) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/a", "abc");
  WriteTestFile(dir + "/same", "abc");
  WriteTestFile(dir + "/longer", "abcd");
  WriteTestFile(dir + "/other", "abd");
  ASSERT_EQ(::link((dir + "/a").c_str(), (dir + "/link").c_str()), 0);
  EXPECT_TRUE(*SameContents(dir + "/a", dir + "/link"));
  EXPECT_TRUE(*SameContents(dir + "/a", dir + "/same"));
  EXPECT_FALSE(*SameContents(dir + "/a", dir + "/longer"));
  EXPECT_FALSE(*SameContents(dir + "/a", dir + "/other"));
  EXPECT_FALSE(SameContents(dir + "/a", dir + "/absent").ok());
}

TEST(SyncDirectoryTest, ExistingAndMissing) {
  const std::string dir = NewScratchDir();
  EXPECT_TRUE(SyncDirectory(dir).ok());
  EXPECT_FALSE(SyncDirectory(dir + "/absent").ok());
}

}  // namespace
}  // namespace valprep
}  // namespace forge
