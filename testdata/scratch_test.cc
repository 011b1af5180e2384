#include "testdata/scratch.h"

#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest-spi.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace forge::testdata {
namespace {

namespace fs = std::filesystem;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

TEST(ScratchTest, UsageExample) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/in/map.txt", "n01440764 tench\n");
  EXPECT_EQ(ReadTestFile(dir + "/in/map.txt"), "n01440764 tench\n");
}

TEST(ScratchTest, EveryCallGetsAFreshEmptyDirectoryNamedAfterTheTest) {
  const std::string first = NewScratchDir();
  const std::string second = NewScratchDir();
  const std::string tagged = NewScratchDir("input");
  EXPECT_NE(first, second);
  for (const std::string& dir : {first, second, tagged}) {
    EXPECT_TRUE(fs::is_directory(dir)) << dir;
    EXPECT_TRUE(fs::is_empty(dir)) << dir;
    EXPECT_THAT(dir, StartsWith(::testing::TempDir()));
    EXPECT_THAT(dir, HasSubstr("ScratchTest.EveryCallGetsAFreshEmptyDirectoryNamedAfterTheTest"));
    EXPECT_NE(dir.back(), '/');
  }
  EXPECT_THAT(tagged, HasSubstr(".input."));
}

TEST(ScratchTest, WriteReplacesAndReadsBackBinaryBytes) {
  const std::string path = NewScratchDir() + "/a/b/c.bin";
  WriteTestFile(path, "a much longer first version");
  const std::string bytes("\0\xff\r\n", 4);
  WriteTestFile(path, bytes);
  EXPECT_EQ(ReadTestFile(path), bytes);
  WriteTestFile(path, "");
  EXPECT_EQ(ReadTestFile(path), "");
}

TEST(ScratchTest, UnreadableFilesFailTheTest) {
  const std::string dir = NewScratchDir();
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(ReadTestFile(dir + "/absent"), ""), "cannot open");
  EXPECT_NONFATAL_FAILURE(EXPECT_EQ(ReadTestFile(dir), ""), "cannot read");
  // EXPECT_FATAL_FAILURE cannot see local variables.
  static std::string* const below_a_file = new std::string;
  WriteTestFile(dir + "/file", "x");
  *below_a_file = dir + "/file/child";
  EXPECT_FATAL_FAILURE(WriteTestFile(*below_a_file, "x"), "cannot create");
}

TEST(ScratchTest, ReadTestTreeListsRegularFilesOnly) {
  const std::string dir = NewScratchDir();
  WriteTestFile(dir + "/b/c.txt", "c");
  WriteTestFile(dir + "/a.txt", "a");
  fs::create_directories(dir + "/empty");
  fs::create_symlink(dir + "/a.txt", dir + "/link");
  EXPECT_THAT(ReadTestTree(dir), ElementsAre(Pair("a.txt", "a"), Pair("b/c.txt", "c")));
}

}  // namespace
}  // namespace forge::testdata
