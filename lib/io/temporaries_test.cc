#include "lib/io/temporaries.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "lib/io/file.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

void Touch(const std::string& path) { std::ofstream(path) << "x"; }

TEST(RemoveStaleTemporariesTest, RemovesOnlyTheTemporariesOfAcceptedOutputs) {
  const std::string dir = testdata::NewScratchDir();
  for (const char* name : {"last.ckpt.tmp.a1B2c3", "epoch_0002.ckpt.tmp.zzzzzz", "last.ckpt", "notes.txt.tmp.a1B2c3",
                           "last.ckpt.tmp.toolong7", "last.ckpt.tmp.short", ".tmp.a1B2c3"}) {
    Touch(dir + "/" + name);
  }
  fs::create_directory(dir + "/best.ckpt.tmp.d1r2c3");  // a folder, not a writer's file

  std::vector<std::string> removed =
      RemoveStaleTemporaries(dir, [](absl::string_view name) { return absl::EndsWith(name, ".ckpt"); });

  EXPECT_THAT(removed, ::testing::UnorderedElementsAre(dir + "/last.ckpt.tmp.a1B2c3", dir + "/epoch_0002.ckpt.tmp.zzzzzz"));
  std::vector<std::string> left;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) left.push_back(entry.path().filename().string());
  EXPECT_THAT(left, ::testing::UnorderedElementsAre("last.ckpt", "notes.txt.tmp.a1B2c3", "last.ckpt.tmp.toolong7",
                                                    "last.ckpt.tmp.short", ".tmp.a1B2c3", "best.ckpt.tmp.d1r2c3"));
}

TEST(RemoveStaleTemporariesTest, MatchesWhatAnInterruptedAtomicFileLeaves) {
  const std::string dir = testdata::NewScratchDir();
  const std::string path = dir + "/report.md";
  {
    absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
    ASSERT_TRUE(file.ok()) << file.status();
    // A killed process neither commits nor destroys: copy its temporary before the destructor
    // removes it, as if the process had died here.
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
      fs::copy_file(entry.path(), dir + "/copy_" + entry.path().filename().string());
    }
  }
  ASSERT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // The copy keeps the "<name>.tmp.XXXXXX" shape, under the name "copy_report.md".
  EXPECT_EQ(RemoveStaleTemporaries(dir, [](absl::string_view name) { return name == "copy_report.md"; }).size(), 1u);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(RemoveStaleTemporariesTest, AMissingFolderHoldsNone) {
  EXPECT_TRUE(RemoveStaleTemporaries(testdata::NewScratchDir() + "/absent", [](absl::string_view) { return true; }).empty());
}

}  // namespace
}  // namespace forge
