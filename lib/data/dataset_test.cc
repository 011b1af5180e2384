#include "lib/data/dataset.h"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/records/record_index.h"
#include "lib/records/record_writer.h"
#include "testdata/scratch.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

// Writes shards of ImageRecords whose image bytes are "image <k>" and labels k % 3, and a
// manifest listing them. Returns the manifest path.
std::string WriteShardedDataset(const fs::path& dir, int shards, int per_shard, int label_offset = 0) {
  DatasetManifest manifest;
  manifest.set_format_version(1);
  for (const char* wnid : {"n01", "n02", "n03"}) {
    ClassInfo* info = manifest.add_classes();
    info->set_index(manifest.classes_size() - 1);
    info->set_wnid(wnid);
  }
  int k = 0;
  for (int s = 0; s < shards; ++s) {
    const std::string name = "train-" + std::to_string(s) + ".rec";
    auto writer = RecordWriter::Create((dir / name).string());
    EXPECT_TRUE(writer.ok());
    for (int r = 0; r < per_shard; ++r, ++k) {
      ImageRecord record;
      record.set_image("image " + std::to_string(k));
      record.set_label(k % 3 + label_offset);
      EXPECT_TRUE((*writer)->Write(record.SerializeAsString()).ok());
    }
    EXPECT_TRUE((*writer)->Close().ok());
    EXPECT_TRUE(WriteFileAtomically((dir / (name + ".idx")).string(), FormatDaliIndex((*writer)->spans())).ok());
    ShardInfo* shard = manifest.add_shards();
    shard->set_path(name);
    shard->set_index_path(name + ".idx");
    shard->set_records(per_shard);
  }
  const std::string path = (dir / "train.manifest.txtpb").string();
  EXPECT_TRUE(WriteProtoFile(path, manifest).ok());
  return path;
}

TEST(DatasetTest, FolderSamplesCarryBytesAndLabels) {
  const fs::path root = fs::path(testdata::NewScratchDir());
  for (const char* file : {"n01/a.JPEG", "n02/b.JPEG"}) {
    testdata::WriteTestFile((root / file).string(), std::string("bytes of ") + file);
  }
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(root.string());
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ((*dataset)->size(), 2u);
  ASSERT_EQ((*dataset)->classes().size(), 2u);
  EXPECT_EQ((*dataset)->classes()[1].wnid(), "n02");
  absl::StatusOr<EncodedSample> sample = (*dataset)->Read(1);
  ASSERT_TRUE(sample.ok());
  EXPECT_EQ(sample->image, "bytes of n02/b.JPEG");
  EXPECT_EQ(sample->label, 1);
  EXPECT_EQ((*dataset)->Describe(0), root.string() + "/n01/a.JPEG");
}

TEST(DatasetTest, ManifestSamplesComeFromEveryShardInOrder) {
  const std::string manifest = WriteShardedDataset(fs::path(testdata::NewScratchDir()), 3, 4);
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(manifest);
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  ASSERT_EQ((*dataset)->size(), 12u);
  EXPECT_EQ((*dataset)->classes()[2].wnid(), "n03");
  for (size_t i = 0; i < 12; ++i) {
    absl::StatusOr<EncodedSample> sample = (*dataset)->Read(i);
    ASSERT_TRUE(sample.ok()) << sample.status();
    EXPECT_EQ(sample->image, "image " + std::to_string(i));
    EXPECT_EQ(sample->label, static_cast<int>(i % 3));
  }
  EXPECT_NE((*dataset)->Describe(5).find("train-1.rec@"), std::string::npos);
}

TEST(DatasetTest, DamagedRecordIsDataLossWithShardAndOffset) {
  const fs::path dir = fs::path(testdata::NewScratchDir());
  const std::string manifest = WriteShardedDataset(dir, 1, 3);
  const std::string shard = (dir / "train-0.rec").string();
  std::string bytes = *ReadFile(shard);
  const std::vector<RecordSpan> spans = *ParseDaliIndex(*ReadFile(shard + ".idx"), "idx");
  const uint64_t second = spans[1].offset;
  bytes[second + 14] ^= 1;  // inside the second record's payload
  ASSERT_TRUE(WriteFileAtomically(shard, bytes).ok());
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(manifest);
  ASSERT_TRUE(dataset.ok());
  EXPECT_TRUE((*dataset)->Read(0).ok());
  absl::Status status = (*dataset)->Read(1).status();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_NE(status.message().find(shard), std::string::npos) << status;
  EXPECT_NE(status.message().find("byte offset " + std::to_string(second)), std::string::npos) << status;
}

TEST(DatasetTest, BadManifestsAreRefusedNamingTheFile) {
  const fs::path dir = fs::path(testdata::NewScratchDir());
  const std::string manifest = WriteShardedDataset(dir, 2, 2);
  // An index that disagrees with the manifest.
  ASSERT_TRUE(WriteFileAtomically((dir / "train-1.rec.idx").string(), "0 30\n").ok());
  absl::Status status = OpenImageDataset(manifest).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("train-1.rec.idx"), std::string::npos) << status;
  // A missing shard.
  fs::remove(dir / "train-0.rec");
  EXPECT_TRUE(absl::IsNotFound(OpenImageDataset(manifest).status()));
  // Not a manifest at all, and nothing there.
  ASSERT_TRUE(WriteFileAtomically((dir / "empty.txtpb").string(), "").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(OpenImageDataset((dir / "empty.txtpb").string()).status()));
  EXPECT_TRUE(absl::IsNotFound(OpenImageDataset((dir / "absent.pb").string()).status()));
}

TEST(DatasetTest, LabelOutsideTheClassesIsDataLoss) {
  const std::string manifest = WriteShardedDataset(fs::path(testdata::NewScratchDir()), 1, 3, /*label_offset=*/1);
  absl::StatusOr<std::unique_ptr<ImageDataset>> dataset = OpenImageDataset(manifest);
  ASSERT_TRUE(dataset.ok());
  EXPECT_TRUE((*dataset)->Read(0).ok());
  EXPECT_TRUE(absl::IsDataLoss((*dataset)->Read(2).status()));
}

}  // namespace
}  // namespace forge
