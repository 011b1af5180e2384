// Tests of VerifyShards and CheckShardFiles on shards written by RunShard, then damaged.
#include "tools/shard/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/records/crc32c.h"
#include "lib/records/record_index.h"
#include "lib/records/record_writer.h"
#include "testdata/scratch.h"
#include "tools/shard/shard.h"
#include "tools/shard/shard_testing.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using shard_testing::ReadShard;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::WriteTestFile;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewScratchDir();
    ShardRunOptions options;
    options.data = shard_testing::TinyImageNet() + "/train";
    options.out_dir = dir_;
    options.num_shards = 4;
    options.progress = false;
    absl::StatusOr<ShardResult> result = RunShard(options);
    ASSERT_TRUE(result.ok()) << result.status();
    manifest_ = result->manifest;
    manifest_path_ = result->manifest_path;
  }

  std::string Path(int shard) const { return dir_ + "/" + manifest_.shards(shard).path(); }
  std::string IndexPath(int shard) const {
    return dir_ + "/" + manifest_.shards(shard).index_path();
  }

  VerifyReport Verify(const std::string& manifest_path) {
    absl::StatusOr<VerifyReport> report = VerifyShards(manifest_path, /*progress=*/false);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport();
  }

  std::string dir_;
  std::string manifest_path_;
  DatasetManifest manifest_;
};

TEST_F(VerifyTest, GoodShardsPass) {
  const VerifyReport report = Verify(manifest_path_);
  EXPECT_TRUE(report.ok()) << absl::StrJoin(report.problems, "\n");
  EXPECT_EQ(report.shards, 4);
  EXPECT_EQ(report.records, manifest_.records());
  EXPECT_EQ(report.bytes, manifest_.bytes());
  EXPECT_EQ(VerifySummaryLine(manifest_path_, report),
            absl::StrCat("shard verify: manifest=", manifest_path_, " shards=4 records=",
                         manifest_.records(), " bytes=", manifest_.bytes(), " problems=0 ok=true"));
  for (int s = 0; s < 4; ++s) EXPECT_TRUE(CheckShardFiles(dir_, manifest_.shards(s)).ok());
}

TEST_F(VerifyTest, FlippedPayloadByteIsReportedWithFileAndRecordOffset) {
  const std::vector<shard_testing::ReadBackRecord> records = ReadShard(Path(2));
  ASSERT_GT(records.size(), 6u);
  const uint64_t offset = records[5].offset;
  std::string bytes = ReadTestFile(Path(2));
  bytes[offset + 12 + 40] ^= 0x01;  // inside the payload of record 5
  WriteTestFile(Path(2), bytes);

  const VerifyReport report = Verify(manifest_path_);
  EXPECT_FALSE(report.ok());
  EXPECT_THAT(report.problems,
              Contains(AllOf(HasSubstr(Path(2)), HasSubstr(absl::StrCat("byte offset ", offset)),
                             HasSubstr("payload CRC mismatch"))));
  EXPECT_THAT(report.problems,
              Contains(AllOf(HasSubstr(Path(2)), HasSubstr("whole-file CRC-32C"))));
  EXPECT_EQ(report.records, manifest_.records() - (manifest_.shards(2).records() - 5));
  absl::Status check = CheckShardFiles(dir_, manifest_.shards(2));
  EXPECT_TRUE(absl::IsDataLoss(check)) << check;
  EXPECT_THAT(check.message(), HasSubstr(Path(2)));
}

TEST_F(VerifyTest, FlippedLengthByteIsReported) {
  std::string bytes = ReadTestFile(Path(0));
  bytes[2] ^= 0x10;
  WriteTestFile(Path(0), bytes);
  const VerifyReport report = Verify(manifest_path_);
  EXPECT_THAT(report.problems, Contains(AllOf(HasSubstr(Path(0)), HasSubstr("byte offset 0"),
                                              HasSubstr("length CRC mismatch"))));
}

TEST_F(VerifyTest, WrongRecordCountIsReported) {
  DatasetManifest wrong = manifest_;
  wrong.mutable_shards(1)->set_records(manifest_.shards(1).records() + 1);
  const std::string path = dir_ + "/wrong.manifest.txtpb";
  ASSERT_TRUE(WriteProtoFile(path, wrong).ok());
  const VerifyReport report = Verify(path);
  EXPECT_THAT(report.problems,
              Contains(AllOf(HasSubstr(Path(1)),
                             HasSubstr(absl::StrCat("holds ", manifest_.shards(1).records(),
                                                    " records, the manifest says ",
                                                    manifest_.shards(1).records() + 1)))));
  EXPECT_THAT(report.problems, Contains(HasSubstr("the manifest's total says")));
}

TEST_F(VerifyTest, MissingFilesAndBadIndexesAreReported) {
  fs::remove(Path(3));
  std::string index = ReadTestFile(IndexPath(1));
  index = index.substr(0, index.rfind('\n', index.size() - 2) + 1);  // drop the last entry
  WriteTestFile(IndexPath(1), index);
  fs::remove(IndexPath(2));
  const VerifyReport report = Verify(manifest_path_);
  EXPECT_THAT(report.problems, Contains(AllOf(HasSubstr(Path(3)), HasSubstr("No such file"))));
  EXPECT_THAT(report.problems, Contains(AllOf(HasSubstr(IndexPath(1)), HasSubstr("lists"))));
  EXPECT_THAT(report.problems, Contains(HasSubstr(IndexPath(2))));
  EXPECT_EQ(report.problems.size(), 4u)
      << absl::StrJoin(report.problems, "\n");  // + index CRC of 1
}

TEST_F(VerifyTest, BadPayloadsAreReported) {
  // A shard written by hand: a good record, a label out of range, a payload that is no
  // ImageRecord, and a record whose WNID disagrees with its label.
  ImageRecord good = ReadShard(Path(0))[0].record;
  ImageRecord bad_label = good;
  bad_label.set_label(99);
  ImageRecord bad_wnid = good;
  bad_wnid.set_wnid("n00000000");
  const std::string path = dir_ + "/hand.rec";
  absl::StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(path);
  ASSERT_TRUE(writer.ok());
  for (const std::string& payload :
       {good.SerializeAsString(), bad_label.SerializeAsString(), std::string("\xff\xff\xff", 3),
        bad_wnid.SerializeAsString()}) {
    ASSERT_TRUE((*writer)->Write(payload).ok());
  }
  ASSERT_TRUE((*writer)->Close().ok());
  const std::string index = FormatDaliIndex((*writer)->spans());
  ASSERT_TRUE(WriteFileAtomically(path + ".idx", index).ok());
  DatasetManifest hand = manifest_;
  hand.clear_shards();
  ShardInfo* shard = hand.add_shards();
  shard->set_path("hand.rec");
  shard->set_index_path("hand.rec.idx");
  shard->set_records(4);
  shard->set_bytes(static_cast<int64_t>((*writer)->bytes()));
  shard->set_crc32c((*writer)->file_crc32c());
  shard->set_index_crc32c(Crc32c(index));
  hand.set_records(4);
  hand.set_bytes(shard->bytes());
  const std::string manifest_path = dir_ + "/hand.manifest.txtpb";
  ASSERT_TRUE(WriteProtoFile(manifest_path, hand).ok());

  const VerifyReport report = Verify(manifest_path);
  const uint64_t second = (*writer)->spans()[1].offset, third = (*writer)->spans()[2].offset;
  EXPECT_THAT(report.problems, Contains(AllOf(HasSubstr(absl::StrCat("byte offset ", second)),
                                              HasSubstr("label 99"))));
  EXPECT_THAT(report.problems, Contains(AllOf(HasSubstr(absl::StrCat("byte offset ", third)),
                                              HasSubstr("not an ImageRecord"))));
  EXPECT_THAT(report.problems, Contains(HasSubstr("WNID n00000000")));
  EXPECT_EQ(report.problems.size(), 3u) << absl::StrJoin(report.problems, "\n");
}

TEST_F(VerifyTest, UnreadableManifestIsAnError) {
  EXPECT_TRUE(absl::IsNotFound(VerifyShards(dir_ + "/absent.txtpb", false).status()));
  WriteTestFile(dir_ + "/garbage.txtpb", "this is { not a manifest");
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyShards(dir_ + "/garbage.txtpb", false).status()));
  WriteTestFile(dir_ + "/empty.txtpb", "");
  EXPECT_TRUE(absl::IsInvalidArgument(VerifyShards(dir_ + "/empty.txtpb", false).status()));
}

}  // namespace
}  // namespace forge
