#include "tools/shard/classes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/io/proto_file.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

using ::testing::HasSubstr;

TEST(BuildClassesTest, FoldersInSortedOrderByDefault) {
  absl::StatusOr<std::vector<ClassInfo>> classes = BuildClasses({"n00000001", "n00000002"}, "", "");
  ASSERT_TRUE(classes.ok()) << classes.status();
  ASSERT_EQ(classes->size(), 2u);
  EXPECT_EQ((*classes)[1].index(), 1);
  EXPECT_EQ((*classes)[1].wnid(), "n00000002");
  EXPECT_EQ((*classes)[1].name(), "");
}

TEST(BuildClassesTest, ClassesFromAManifestAndNamesFromAMapping) {
  const std::string dir = testdata::NewScratchDir();
  DatasetManifest train;
  for (const char* wnid : {"n00000001", "n00000002", "n00000003"}) {
    ClassInfo* info = train.add_classes();
    info->set_index(train.classes_size() - 1);
    info->set_wnid(wnid);
    info->set_name(std::string("old ") + wnid);
  }
  const std::string manifest = dir + "/train.manifest.txtpb";
  ASSERT_TRUE(WriteProtoFile(manifest, train).ok());
  absl::StatusOr<std::vector<ClassInfo>> classes = BuildClasses({"n00000003"}, manifest, "");
  ASSERT_TRUE(classes.ok()) << classes.status();
  ASSERT_EQ(classes->size(), 3u);
  EXPECT_EQ((*classes)[2].name(), "old n00000003");

  const std::string mapping = dir + "/mapping.txt";
  testdata::WriteTestFile(mapping, "n00000001 one\nn00000002 two\nn00000003 three\nn00000004 four\n");
  classes = BuildClasses({"n00000003"}, manifest, mapping);
  ASSERT_TRUE(classes.ok()) << classes.status();
  EXPECT_EQ((*classes)[2].name(), "three");

  absl::Status status = BuildClasses({"n00000000", "n00000003", "n00000009"}, manifest, "").status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("n00000000 n00000009"));

  status = BuildClasses({"n00000001", "n00000005"}, "", mapping).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("n00000005"));

  train.mutable_classes(1)->set_index(7);
  ASSERT_TRUE(WriteProtoFile(manifest, train).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(BuildClasses({"n00000001"}, manifest, "").status()));
  EXPECT_TRUE(absl::IsNotFound(BuildClasses({"n00000001"}, manifest + ".absent.txtpb", "").status()));
}

}  // namespace
}  // namespace forge
