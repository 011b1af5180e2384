#include "lib/io/proto_file.h"

#include <string>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "lib/io/file.h"
#include "proto/stats.pb.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

// `name` in a new scratch directory.
std::string Scratch(const std::string& name) { return testdata::NewScratchDir() + "/" + name; }

ChannelStats SampleStats() {
  ChannelStats stats;
  for (double m : {0.485, 0.456, 0.406}) stats.add_mean(m);
  for (double s : {0.229, 0.224, 0.225}) stats.add_std(s);
  stats.set_images(1281167);
  stats.set_images_skipped(1);
  SkippedFile* skipped = stats.add_skipped();
  skipped->set_path("train/n01440764/bad.JPEG");
  skipped->set_error("truncated JPEG");
  return stats;
}

class ProtoFileFormatTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ProtoFileFormatTest, RoundTrips) {
  const std::string path = Scratch("stats" + GetParam());
  const ChannelStats written = SampleStats();
  ASSERT_TRUE(WriteProtoFile(path, written).ok());
  ChannelStats read;
  read.set_pixels(99);  // must be cleared by the read
  absl::Status status = ReadProtoFile(path, &read);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(written, read)) << read.DebugString();
}

INSTANTIATE_TEST_SUITE_P(AllFormats, ProtoFileFormatTest,
                         ::testing::Values(".pb", ".txtpb", ".textproto", ".json"));

TEST(ProtoFileTest, FormatFollowsExtension) {
  EXPECT_EQ(*ProtoFormatForPath("a/b.pb"), ProtoFormat::kBinary);
  EXPECT_EQ(*ProtoFormatForPath("b.txtpb"), ProtoFormat::kText);
  EXPECT_EQ(*ProtoFormatForPath("b.textproto"), ProtoFormat::kText);
  EXPECT_EQ(*ProtoFormatForPath("b.json"), ProtoFormat::kJson);
  EXPECT_EQ(*ProtoFormatForPath("-"), ProtoFormat::kText);
  absl::StatusOr<ProtoFormat> unknown = ProtoFormatForPath("stats.yaml");
  EXPECT_TRUE(absl::IsInvalidArgument(unknown.status()));
  EXPECT_NE(unknown.status().message().find("stats.yaml"), std::string::npos);
}

TEST(ProtoFileTest, JsonUsesProtoFieldNames) {
  const std::string path = Scratch("names.json");
  ASSERT_TRUE(WriteProtoFile(path, SampleStats()).ok());
  EXPECT_NE(ReadFile(path)->find("\"images_skipped\""), std::string::npos);
}

TEST(ProtoFileTest, MalformedTextNamesFileAndLine) {
  const std::string path = Scratch("bad.txtpb");
  ASSERT_TRUE(WriteFileAtomically(path, "images: 3\nmean: oops\n").ok());
  ChannelStats stats;
  absl::Status status = ReadProtoFile(path, &stats);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("bad.txtpb"), std::string::npos) << status;
  EXPECT_NE(status.message().find("line 2"), std::string::npos) << status;
}

TEST(ProtoFileTest, MalformedBinaryAndJsonAreRefused) {
  ChannelStats stats;
  const std::string binary = Scratch("bad.pb");
  ASSERT_TRUE(WriteFileAtomically(binary, "\xff\xff\xff garbage").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(ReadProtoFile(binary, &stats)));
  const std::string json = Scratch("bad.json");
  ASSERT_TRUE(WriteFileAtomically(json, "{\"mean\": [1, 2,").ok());
  absl::Status status = ReadProtoFile(json, &stats);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("bad.json"), std::string::npos) << status;
}

TEST(ProtoFileTest, MissingFileIsNotFound) {
  ChannelStats stats;
  EXPECT_TRUE(absl::IsNotFound(ReadProtoFile(Scratch("absent.pb"), &stats)));
}

}  // namespace
}  // namespace forge
