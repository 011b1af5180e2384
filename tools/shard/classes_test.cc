#include "tools/shard/classes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/io/proto_file.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Scratch(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/shard_classes_test_" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

TEST(BuildClassesTest, FoldersInSortedOrderByDefault) {
  absl::StatusOr<std::vector<ClassInfo>> classes = BuildClasses({"n1", "n2"}, "", "");
  ASSERT_TRUE(classes.ok()) << classes.status();
  ASSERT_EQ(classes->size(), 2u);
  EXPECT_EQ((*classes)[1].index(), 1);
  EXPECT_EQ((*classes)[1].wnid(), "n2");
  EXPECT_EQ((*classes)[1].name(), "");
}

TEST(BuildClassesTest, ClassesFromAManifestAndNamesFromAMapping) {
  DatasetManifest train;
  for (const char* wnid : {"n1", "n2", "n3"}) {
    ClassInfo* info = train.add_classes();
    info->set_index(train.classes_size() - 1);
    info->set_wnid(wnid);
    info->set_name(std::string("old ") + wnid);
  }
  const std::string manifest = ::testing::TempDir() + "/shard_classes_test_train.manifest.txtpb";
  ASSERT_TRUE(WriteProtoFile(manifest, train).ok());
  absl::StatusOr<std::vector<ClassInfo>> classes = BuildClasses({"n3"}, manifest, "");
  ASSERT_TRUE(classes.ok()) << classes.status();
  ASSERT_EQ(classes->size(), 3u);
  EXPECT_EQ((*classes)[2].name(), "old n3");

  const std::string mapping = Scratch("mapping.txt", "n1 one\nn2 two\nn3 three\nn4 four\n");
  classes = BuildClasses({"n3"}, manifest, mapping);
  ASSERT_TRUE(classes.ok()) << classes.status();
  EXPECT_EQ((*classes)[2].name(), "three");

  absl::Status status = BuildClasses({"n0", "n3", "n9"}, manifest, "").status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("n0 n9"));

  status = BuildClasses({"n1", "n5"}, "", mapping).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("n5"));

  train.mutable_classes(1)->set_index(7);
  ASSERT_TRUE(WriteProtoFile(manifest, train).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(BuildClasses({"n1"}, manifest, "").status()));
  EXPECT_TRUE(absl::IsNotFound(BuildClasses({"n1"}, manifest + ".absent.txtpb", "").status()));
}

}  // namespace
}  // namespace forge
