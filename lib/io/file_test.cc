#include "lib/io/file.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

int FilesIn(const std::string& dir) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++count;
  return count;
}

TEST(FileTest, WriteThenReadRoundTrips) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/a.bin";
  std::string contents("bytes\0with a zero", 17);
  ASSERT_TRUE(WriteFileAtomically(path, contents).ok());
  absl::StatusOr<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);
  EXPECT_EQ(FilesIn(dir), 1) << "no temporary file may be left behind";
}

TEST(FileTest, OverwriteReplacesWholeFile) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/a.txt";
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100000, 'x')).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "short").ok());
  EXPECT_EQ(*ReadFile(path), "short");
  EXPECT_EQ(FilesIn(dir), 1);
}

TEST(FileTest, FailedWriteLeavesTargetAndNoTemporary) {
  const std::string dir = testdata::NewScratchDir();
  const std::string target = dir + "/occupied";
  fs::create_directories(target + "/child");  // renaming a file over a non-empty directory fails
  absl::Status status = WriteFileAtomically(target, "data");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(target), std::string::npos) << status;
  EXPECT_TRUE(fs::is_directory(target + "/child"));
  EXPECT_EQ(FilesIn(dir), 1);
}

TEST(FileTest, WriteIntoMissingDirectoryNamesThePath) {
  const std::string path = testdata::NewScratchDir() + "/no/such/dir/file.txt";
  absl::Status status = WriteFileAtomically(path, "data");
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_NE(status.message().find("file.txt"), std::string::npos) << status;
}

TEST(FileTest, ReadErrorsNameTheFile) {
  const std::string dir = testdata::NewScratchDir();
  absl::StatusOr<std::string> missing = ReadFile(dir + "/absent.txt");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_NE(missing.status().message().find("absent.txt"), std::string::npos);
  absl::StatusOr<std::string> directory = ReadFile(dir);
  EXPECT_TRUE(absl::IsInvalidArgument(directory.status())) << directory.status();
}

TEST(FileTest, EmptyFileReadsEmpty) {
  const std::string path = testdata::NewScratchDir() + "/empty";
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  EXPECT_EQ(*ReadFile(path), "");
}

TEST(AtomicFileTest, AppearsOnlyOnCommit) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/out.rec";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("new ").ok());
  ASSERT_TRUE((*file)->Append("contents").ok());
  EXPECT_EQ(*ReadFile(path), "old");
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_EQ(*ReadFile(path), "new contents");
  EXPECT_FALSE((*file)->Append("more").ok());
  EXPECT_EQ(FilesIn(dir), 1);
}

TEST(AtomicFileTest, AbandonedWriteLeavesOldFileAndNoTemporary) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/out.rec";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  {
    absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("half").ok());
    EXPECT_EQ(FilesIn(dir), 2);
  }
  EXPECT_EQ(*ReadFile(path), "old");
  EXPECT_EQ(FilesIn(dir), 1);
}

}  // namespace
}  // namespace forge
