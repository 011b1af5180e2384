// Tests of RunShard on the tiny ImageNet: what the shards hold (read back independently),
// determinism across thread counts, pathological files, --strict, --classes_from, synset
// names, --max_side and resuming.
#include "tools/shard/shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/image/decode.h"
#include "lib/io/proto_file.h"
#include "lib/records/crc32c.h"
#include "lib/records/record_index.h"
#include "testdata/extreme_images.h"
#include "testdata/scratch.h"
#include "tools/shard/shard_testing.h"

namespace forge {
namespace {

namespace fs = std::filesystem;
using shard_testing::ReadBackRecord;
using shard_testing::ReadShard;
using shard_testing::TinyImageNet;
using testdata::NewScratchDir;
using testdata::ReadTestFile;
using testdata::ReadTestTree;
using testdata::WriteTestFile;
using ::testing::HasSubstr;

constexpr int kTrainFiles = 407;   // 10 classes x 40 + 7 pathological
constexpr int kBadTrainFiles = 3;  // truncated, empty, not an image

ShardRunOptions Options(const std::string& data, const std::string& out_dir) {
  ShardRunOptions options;
  options.data = data;
  options.out_dir = out_dir;
  options.num_shards = 4;
  options.threads = 2;
  options.progress = false;
  return options;
}

std::string Train() { return TinyImageNet() + "/train"; }

// Pathological train files relative to train/.
testdata::PathologicalFiles Bad() {
  testdata::PathologicalFiles bad =
      testdata::TinyImageNetPathologicalFiles(shard_testing::TinyOptions());
  for (std::string* path : {&bad.cmyk, &bad.grayscale, &bad.progressive, &bad.png_as_jpeg,
                            &bad.truncated, &bad.empty, &bad.not_an_image}) {
    *path = path->substr(std::string("train/").size());
  }
  return bad;
}

uint64_t LoadLittleEndian(const std::string& bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

// Every record of every shard of `manifest` (in `dir`), in shard order.
std::vector<ImageRecord> AllRecords(const std::string& dir, const DatasetManifest& manifest) {
  std::vector<ImageRecord> records;
  for (const ShardInfo& shard : manifest.shards()) {
    for (ReadBackRecord& r : ReadShard(dir + "/" + shard.path()))
      records.push_back(std::move(r.record));
  }
  return records;
}

struct FileStamp {
  ino_t inode;
  int64_t mtime_ns;
};
FileStamp Stamp(const std::string& path) {
  struct stat info;
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return {info.st_ino,
          static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
}

TEST(ShardTest, ShardsReadBackIndependently) {
  const std::string out = NewScratchDir();
  absl::StatusOr<ShardResult> result = RunShard(Options(Train(), out));
  ASSERT_TRUE(result.ok()) << result.status();
  const DatasetManifest& manifest = result->manifest;
  EXPECT_EQ(result->manifest_path, out + "/train.manifest.txtpb");
  EXPECT_EQ(result->shards_written, 4);
  EXPECT_FALSE(fs::exists(out + "/train.partial.txtpb"));

  // The manifest on disk is the one returned.
  DatasetManifest on_disk;
  ASSERT_TRUE(ReadProtoFile(result->manifest_path, &on_disk).ok());
  EXPECT_EQ(on_disk.SerializeAsString(), manifest.SerializeAsString());
  EXPECT_EQ(manifest.format_version(), 1);
  EXPECT_EQ(manifest.split(), "train");
  ASSERT_EQ(manifest.classes_size(), 10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(manifest.classes(i).index(), i);
    EXPECT_EQ(manifest.classes(i).wnid(), testdata::TinyImageNetClasses()[i].first);
  }
  EXPECT_EQ(manifest.source_files(), kTrainFiles);
  EXPECT_EQ(manifest.records(), kTrainFiles - kBadTrainFiles);
  EXPECT_EQ(manifest.options().num_shards(), 4);
  EXPECT_EQ(manifest.options().quality(), 90);

  ASSERT_EQ(manifest.shards_size(), 4);
  std::set<std::string> sources;
  int64_t records = 0, bytes = 0;
  for (int s = 0; s < 4; ++s) {
    const ShardInfo& shard = manifest.shards(s);
    EXPECT_EQ(shard.path(), absl::StrCat("train-0000", s, "-of-00004.rec"));
    EXPECT_EQ(shard.index_path(), shard.path() + ".idx");
    const std::string file = ReadTestFile(out + "/" + shard.path());
    EXPECT_EQ(static_cast<int64_t>(file.size()), shard.bytes());
    EXPECT_EQ(Crc32c(file), shard.crc32c());
    // Contiguous, near-equal ranges of the order: 407 / 4 = 101 or 102 files per shard.
    const int64_t files = shard.records() + shard.images_skipped();
    EXPECT_TRUE(files == 101 || files == 102) << files;

    // Framing of the first record, checked by hand: length, masked CRC of the length, payload,
    // masked CRC of the payload.
    ASSERT_GE(file.size(), 16u);
    const uint64_t length = LoadLittleEndian(file, 0, 8);
    ASSERT_LE(length + 16, file.size());
    EXPECT_EQ(LoadLittleEndian(file, 8, 4),
              MaskCrc32c(Crc32c(absl::string_view(file).substr(0, 8))));
    const std::string payload = file.substr(12, length);
    EXPECT_EQ(LoadLittleEndian(file, 12 + length, 4), MaskCrc32c(Crc32c(payload)));
    ImageRecord first;
    ASSERT_TRUE(first.ParseFromString(payload));

    // Every record, through RecordReader, against the index and the source files.
    std::vector<ReadBackRecord> read = ReadShard(out + "/" + shard.path());
    ASSERT_EQ(static_cast<int64_t>(read.size()), shard.records());
    EXPECT_EQ(read[0].record.SerializeAsString(), first.SerializeAsString());
    std::vector<RecordSpan> spans;
    std::set<int> labels;
    for (size_t i = 0; i < read.size(); ++i) {
      const ImageRecord& record = read[i].record;
      spans.push_back({read[i].offset,
                       (i + 1 < read.size() ? read[i + 1].offset : file.size()) - read[i].offset});
      EXPECT_TRUE(sources.insert(record.source()).second) << record.source();
      const std::string wnid = record.source().substr(0, record.source().find('/'));
      EXPECT_EQ(record.wnid(), wnid);
      ASSERT_GE(record.label(), 0);
      ASSERT_LT(record.label(), 10);
      EXPECT_EQ(manifest.classes(record.label()).wnid(), wnid);
      labels.insert(record.label());
      EXPECT_EQ(record.format(), STORED_FORMAT_JPEG);
      absl::StatusOr<Image> image = DecodeImage(record.image());
      ASSERT_TRUE(image.ok()) << record.source() << ": " << image.status();
      EXPECT_EQ(image->width, record.width());
      EXPECT_EQ(image->height, record.height());
    }
    EXPECT_EQ(ReadTestFile(out + "/" + shard.index_path()), FormatDaliIndex(spans));
    EXPECT_EQ(Crc32c(FormatDaliIndex(spans)), shard.index_crc32c());
    EXPECT_GE(labels.size(), 5u) << "shard " << s << " should mix classes";
    records += shard.records();
    bytes += shard.bytes();
  }
  EXPECT_EQ(records, manifest.records());
  EXPECT_EQ(bytes, manifest.bytes());
  EXPECT_EQ(static_cast<int64_t>(sources.size()), manifest.records());
}

TEST(ShardTest, ByteIdenticalWhateverTheThreadCount) {
  for (int max_side : {0, 80}) {
    std::map<std::string, std::string> reference;
    for (int threads : {1, 3}) {
      const std::string out =
          NewScratchDir(absl::StrCat("max_side", max_side, "_threads", threads));
      ShardRunOptions options = Options(Train(), out);
      options.threads = threads;
      options.max_side = max_side;
      options.num_shards = 3;
      absl::StatusOr<ShardResult> result = RunShard(options);
      ASSERT_TRUE(result.ok()) << result.status();
      std::map<std::string, std::string> tree = ReadTestTree(out);
      EXPECT_EQ(tree.size(), 3u * 2 + 1);
      if (reference.empty()) {
        reference = std::move(tree);
      } else {
        EXPECT_TRUE(tree == reference) << "max_side=" << max_side << " threads=" << threads;
      }
    }
  }
}

TEST(ShardTest, SeedChangesTheOrderNotTheContents) {
  const std::string a = NewScratchDir("a"), b = NewScratchDir("b");
  ShardRunOptions options = Options(Train(), a);
  absl::StatusOr<ShardResult> first = RunShard(options);
  options.out_dir = b;
  options.seed = 7;
  absl::StatusOr<ShardResult> second = RunShard(options);
  ASSERT_TRUE(first.ok() && second.ok());
  std::vector<std::string> order_a, order_b;
  for (const ImageRecord& r : AllRecords(a, first->manifest)) order_a.push_back(r.source());
  for (const ImageRecord& r : AllRecords(b, second->manifest)) order_b.push_back(r.source());
  EXPECT_NE(order_a, order_b);
  std::sort(order_a.begin(), order_a.end());
  std::sort(order_b.begin(), order_b.end());
  EXPECT_EQ(order_a, order_b);
  EXPECT_EQ(second->manifest.options().seed(), 7u);
}

TEST(ShardTest, PathologicalFilesAreConvertedOrSkipped) {
  const std::string out = NewScratchDir();
  absl::StatusOr<ShardResult> result = RunShard(Options(Train(), out));
  ASSERT_TRUE(result.ok()) << result.status();
  const DatasetManifest& manifest = result->manifest;
  const testdata::PathologicalFiles bad = Bad();

  std::map<std::string, ImageRecord> by_source;
  for (ImageRecord& record : AllRecords(out, manifest))
    by_source[record.source()] = std::move(record);
  for (const std::string& path : {bad.cmyk, bad.grayscale, bad.progressive, bad.png_as_jpeg}) {
    ASSERT_EQ(by_source.count(path), 1u) << path;
    absl::StatusOr<ImageHeader> header = ReadImageHeader(by_source[path].image());
    ASSERT_TRUE(header.ok()) << path << ": " << header.status();
    EXPECT_EQ(header->format, ImageFormat::kJpeg) << path;
    EXPECT_EQ(header->color_space, ColorSpace::kYCbCr) << path;
    EXPECT_EQ(header->components, 3) << path;
    EXPECT_TRUE(DecodeImage(by_source[path].image()).ok()) << path;
  }
  // The progressive file is a YCbCr JPEG already: stored untouched. The others are converted.
  EXPECT_EQ(by_source[bad.progressive].image(), ReadTestFile(Train() + "/" + bad.progressive));
  for (const std::string& path : {bad.cmyk, bad.grayscale, bad.png_as_jpeg}) {
    EXPECT_NE(by_source[path].image(), ReadTestFile(Train() + "/" + path)) << path;
  }
  EXPECT_EQ(manifest.converted(), 3);
  EXPECT_EQ(manifest.reencoded(), 0);

  std::map<std::string, std::string> skipped;
  for (const SkippedFile& file : manifest.skipped()) skipped[file.path()] = file.error();
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_THAT(skipped[bad.truncated], HasSubstr("truncated"));
  EXPECT_THAT(skipped[bad.empty], HasSubstr("empty"));
  EXPECT_THAT(skipped[bad.not_an_image], HasSubstr("unknown image format"));
  EXPECT_EQ(manifest.images_skipped(), 3);
  int64_t per_shard = 0;
  for (const ShardInfo& shard : manifest.shards()) per_shard += shard.images_skipped();
  EXPECT_EQ(per_shard, 3);
  for (const std::string& path : {bad.truncated, bad.empty, bad.not_an_image}) {
    EXPECT_EQ(by_source.count(path), 0u) << path;
  }
}

TEST(ShardTest, StrictFailsNamingTheFile) {
  const std::string out = NewScratchDir();
  ShardRunOptions options = Options(Train(), out);
  options.strict = true;
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  const testdata::PathologicalFiles bad = Bad();
  const std::string message(result.status().message());
  EXPECT_TRUE(message.find(bad.truncated) != std::string::npos ||
              message.find(bad.empty) != std::string::npos ||
              message.find(bad.not_an_image) != std::string::npos)
      << message;
  EXPECT_FALSE(fs::exists(out + "/train.manifest.txtpb"));

  // Without the bad files, strict succeeds.
  ShardRunOptions clean =
      Options(shard_testing::CleanTinyImageNet() + "/train", NewScratchDir("clean"));
  clean.strict = true;
  absl::StatusOr<ShardResult> ok = RunShard(clean);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->manifest.records(), 400);
  EXPECT_EQ(ok->manifest.images_skipped(), 0);
}

// Images of extreme shapes: every one that can be stored is (whatever the thread count, byte
// for byte the same); one wider than a JPEG can be cannot be converted and is skipped and
// listed, or refused with --strict; downscaled with --max_side it fits.
TEST(ShardTest, ExtremeImagesAreStoredOrSkippedNeverACrash) {
  const std::string data = NewScratchDir("data") + "/train";
  for (const testdata::ExtremeImage& image : testdata::ExtremeImages()) {
    fs::create_directories(data + "/n01440764");
    WriteTestFile(data + "/n01440764/" + image.name, image.bytes);
  }
  std::map<std::string, std::string> first_tree;
  for (int threads : {1, 3}) {
    const std::string out = NewScratchDir(absl::StrCat("out", threads));
    ShardRunOptions options = Options(data, out);
    options.num_shards = 2;
    options.threads = threads;
    absl::StatusOr<ShardResult> result = RunShard(options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->manifest.records(), 6);
    ASSERT_EQ(result->manifest.skipped_size(), 1);
    EXPECT_EQ(result->manifest.skipped(0).path(), "n01440764/too_wide_70000x1.png");
    EXPECT_THAT(result->manifest.skipped(0).error(), HasSubstr("65500"));
    std::map<std::string, std::string> tree = ReadTestTree(out);
    if (threads == 1) {
      first_tree = std::move(tree);
    } else {
      EXPECT_TRUE(tree == first_tree) << "output depends on the thread count";
    }
  }

  ShardRunOptions strict = Options(data, NewScratchDir("strict"));
  strict.num_shards = 2;
  strict.strict = true;
  absl::StatusOr<ShardResult> refused = RunShard(strict);
  ASSERT_TRUE(absl::IsInvalidArgument(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("too_wide_70000x1.png"));

  ShardRunOptions small = Options(data, NewScratchDir("max_side"));
  small.num_shards = 2;
  small.max_side = 400;
  small.strict = true;
  absl::StatusOr<ShardResult> downscaled = RunShard(small);
  ASSERT_TRUE(downscaled.ok()) << downscaled.status();
  EXPECT_EQ(downscaled->manifest.records(), 7);
  for (const ImageRecord& record : AllRecords(small.out_dir, downscaled->manifest)) {
    EXPECT_LE(std::max(record.width(), record.height()), 400) << record.source();
    EXPECT_GE(std::min(record.width(), record.height()), 1) << record.source();
  }
}

TEST(ShardTest, ValTakesTrainIndicesWithClassesFrom) {
  const std::string out = NewScratchDir();
  absl::StatusOr<ShardResult> train = RunShard(Options(Train(), out));
  ASSERT_TRUE(train.ok()) << train.status();

  // A val split holding only some classes, in folders whose sorted order differs from train's
  // indices for them.
  const std::string val = NewScratchDir("val") + "/val";
  const std::vector<std::string> kept = {testdata::TinyImageNetClasses()[3].first,
                                         testdata::TinyImageNetClasses()[7].first};
  for (const std::string& wnid : kept) {
    fs::create_directories(val);
    fs::copy(TinyImageNet() + "/prepared/val/" + wnid, val + "/" + wnid,
             fs::copy_options::recursive);
  }
  ShardRunOptions options = Options(val, out);
  options.num_shards = 2;
  options.classes_from = train->manifest_path;
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->manifest.split(), "val");
  ASSERT_EQ(result->manifest.classes_size(), 10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(result->manifest.classes(i).SerializeAsString(),
              train->manifest.classes(i).SerializeAsString());
  }
  std::set<int> labels;
  for (const ImageRecord& record : AllRecords(out, result->manifest)) {
    EXPECT_EQ(train->manifest.classes(record.label()).wnid(), record.wnid());
    labels.insert(record.label());
  }
  EXPECT_EQ(labels, (std::set<int>{3, 7}));
  // Without --classes_from the same folders would be labelled 0 and 1.
  ShardRunOptions own = Options(val, NewScratchDir("own"));
  own.num_shards = 1;
  absl::StatusOr<ShardResult> own_result = RunShard(own);
  ASSERT_TRUE(own_result.ok()) << own_result.status();
  EXPECT_EQ(own_result->manifest.classes_size(), 2);

  // A class folder train does not know is refused, naming it.
  fs::create_directories(val + "/n99999999");
  fs::copy_file(TinyImageNet() + "/prepared/val/" + kept[0] + "/" +
                    fs::directory_iterator(TinyImageNet() + "/prepared/val/" + kept[0])
                        ->path()
                        .filename()
                        .string(),
                val + "/n99999999/x.JPEG");
  fs::create_directories(val + "/n88888888");
  fs::copy_file(val + "/n99999999/x.JPEG", val + "/n88888888/y.JPEG");
  absl::Status status = RunShard(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("n88888888 n99999999"));
}

TEST(ShardTest, SynsetNamesLandInTheManifest) {
  const std::string out = NewScratchDir();
  ShardRunOptions options = Options(Train(), out);
  options.synset_mapping = TinyImageNet() + "/LOC_synset_mapping.txt";
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const auto& classes = testdata::TinyImageNetClasses();
  int cranes = 0;
  for (int i = 0; i < result->manifest.classes_size(); ++i) {
    EXPECT_EQ(result->manifest.classes(i).wnid(), classes[i].first);
    EXPECT_EQ(result->manifest.classes(i).name(), classes[i].second);
    if (classes[i].second == "crane") ++cranes;
  }
  EXPECT_EQ(cranes, 2);
  DatasetManifest on_disk;
  ASSERT_TRUE(ReadProtoFile(result->manifest_path, &on_disk).ok());
  EXPECT_EQ(on_disk.classes(0).name(), classes[0].second);

  // A mapping that lacks a class is refused.
  WriteTestFile(out + "/short_mapping.txt", "n01440764 tench, Tinca tinca\n");
  options.synset_mapping = out + "/short_mapping.txt";
  absl::Status status = RunShard(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("n01443537"));
}

TEST(ShardTest, MaxSideBoundsEveryImageAndKeepsTheRestUntouched) {
  constexpr int kMaxSide = 90;  // source sides are 64..112
  const std::string out = NewScratchDir();
  ShardRunOptions options = Options(Train(), out);
  options.max_side = kMaxSide;
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const testdata::PathologicalFiles bad = Bad();
  int64_t downscaled = 0, untouched = 0;
  for (const ImageRecord& record : AllRecords(out, result->manifest)) {
    absl::StatusOr<ImageHeader> stored = ReadImageHeader(record.image());
    ASSERT_TRUE(stored.ok()) << record.source();
    EXPECT_EQ(stored->width, record.width());
    EXPECT_EQ(stored->height, record.height());
    EXPECT_LE(std::max(stored->width, stored->height), kMaxSide) << record.source();
    const std::string source = ReadTestFile(Train() + "/" + record.source());
    absl::StatusOr<ImageHeader> original = ReadImageHeader(source);
    ASSERT_TRUE(original.ok()) << record.source();
    const int longer = std::max(original->width, original->height);
    if (longer > kMaxSide) {
      ++downscaled;
      EXPECT_EQ(std::max(stored->width, stored->height), kMaxSide);
      // Aspect kept: the shorter side is rounded from the scaled one.
      const int shorter = std::min(original->width, original->height);
      const double expected = static_cast<double>(shorter) * kMaxSide / longer;
      EXPECT_NEAR(std::min(stored->width, stored->height), expected, 0.5 + 1e-9) << record.source();
    } else if (original->color_space == ColorSpace::kYCbCr &&
               original->format == ImageFormat::kJpeg) {
      ++untouched;
      EXPECT_EQ(record.image(), source) << record.source();
    }
  }
  EXPECT_GT(downscaled, 50);
  EXPECT_GT(untouched, 50);
  EXPECT_EQ(result->manifest.reencoded(), downscaled);
  EXPECT_EQ(result->manifest.options().max_side(), kMaxSide);
}

TEST(ShardTest, WithoutMaxSideNormalFilesAreStoredByteForByte) {
  const std::string out = NewScratchDir();
  absl::StatusOr<ShardResult> result =
      RunShard(Options(shard_testing::CleanTinyImageNet() + "/train", out));
  ASSERT_TRUE(result.ok()) << result.status();
  int checked = 0;
  for (const ImageRecord& record : AllRecords(out, result->manifest)) {
    EXPECT_EQ(record.image(),
              ReadTestFile(shard_testing::CleanTinyImageNet() + "/train/" + record.source()));
    ++checked;
  }
  EXPECT_EQ(checked, 400);
  EXPECT_EQ(result->manifest.converted(), 0);
}

TEST(ShardTest, ShardSizeMbPicksTheShardCountFromSourceBytes) {
  const std::string out = NewScratchDir();
  ShardRunOptions options = Options(Train(), out);
  options.num_shards = 0;
  options.shard_size_mb = 0.5;  // 2^19 bytes
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const int64_t expected = (result->manifest.source_bytes() + (1 << 19) - 1) / (1 << 19);
  EXPECT_EQ(result->manifest.shards_size(), expected);
  EXPECT_GT(expected, 1);
  EXPECT_EQ(result->manifest.shards(0).path(),
            absl::StrFormat("train-00000-of-%05d.rec", expected));

  // The default, 128 MB, makes one shard of this tiny split.
  options.shard_size_mb = 0;
  options.out_dir = NewScratchDir("default");
  result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->manifest.shards_size(), 1);
  EXPECT_EQ(result->manifest.options().shard_size_mb(), 128);
}

TEST(ShardTest, BadOptionsAreInvalidArgument) {
  const std::string out = NewScratchDir();
  auto status_with = [&](auto change) {
    ShardRunOptions options = Options(Train(), out);
    change(options);
    return RunShard(options).status();
  };
  EXPECT_TRUE(absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.data.clear(); })));
  EXPECT_TRUE(absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.out_dir.clear(); })));
  EXPECT_TRUE(absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.quality = 0; })));
  EXPECT_TRUE(absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.quality = 101; })));
  EXPECT_TRUE(
      absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.shard_size_mb = 1; })));
  EXPECT_TRUE(absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.max_side = -1; })));
  EXPECT_TRUE(absl::IsInvalidArgument(
      status_with([](ShardRunOptions& o) { o.num_shards = kTrainFiles + 1; })));
  EXPECT_TRUE(absl::IsNotFound(status_with([](ShardRunOptions& o) { o.data += "/absent"; })));
  EXPECT_TRUE(
      absl::IsNotFound(status_with([](ShardRunOptions& o) { o.classes_from = "/absent.txtpb"; })));
  EXPECT_TRUE(fs::is_empty(out));
  EXPECT_TRUE(absl::IsInvalidArgument(status_with([](ShardRunOptions& o) { o.out_dir = o.data; })));
  EXPECT_TRUE(absl::IsInvalidArgument(
      status_with([](ShardRunOptions& o) { o.out_dir = o.data + "/../train/shards"; })));
  EXPECT_FALSE(fs::exists(Train() + "/shards"));
}

// --- Resuming ---------------------------------------------------------------------------------

class ResumeTest : public ::testing::Test {
 protected:
  // An uninterrupted run into `reference_`, copied to `out_` for the test to damage.
  void SetUp() override {
    reference_ = NewScratchDir("reference");
    out_ = NewScratchDir("out");
    absl::StatusOr<ShardResult> result = RunShard(Options(Train(), reference_));
    ASSERT_TRUE(result.ok()) << result.status();
    manifest_ = result->manifest;
    fs::copy(reference_, out_, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }

  std::string Path(const std::string& name) const { return out_ + "/" + name; }

  // The journal an interrupted run would have left after finishing the shards in `finished`.
  void WriteJournal(const std::set<int>& finished) {
    DatasetManifest journal = manifest_;
    journal.clear_shards();
    journal.set_records(0);
    journal.set_bytes(0);
    for (int s : finished) {
      *journal.add_shards() = manifest_.shards(s);
      journal.set_records(journal.records() + manifest_.shards(s).records());
      journal.set_bytes(journal.bytes() + manifest_.shards(s).bytes());
    }
    ASSERT_TRUE(WriteProtoFile(Path("train.partial.txtpb"), journal).ok());
  }

  std::string reference_;
  std::string out_;
  DatasetManifest manifest_;
};

TEST_F(ResumeTest, RewritesOnlyTheMissingShardAndEndsLikeAnUninterruptedRun) {
  fs::remove(Path("train.manifest.txtpb"));
  fs::remove(Path(manifest_.shards(3).path()));
  fs::remove(Path(manifest_.shards(3).index_path()));
  WriteJournal({0, 1, 2});
  std::vector<FileStamp> before;
  for (int s = 0; s < 3; ++s) before.push_back(Stamp(Path(manifest_.shards(s).path())));

  ShardRunOptions options = Options(Train(), out_);
  options.threads = 1;
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->shards_reused, 3);
  EXPECT_EQ(result->shards_written, 1);
  for (int s = 0; s < 3; ++s) {
    const FileStamp after = Stamp(Path(manifest_.shards(s).path()));
    EXPECT_EQ(after.inode, before[s].inode) << s;
    EXPECT_EQ(after.mtime_ns, before[s].mtime_ns) << s;
  }
  EXPECT_FALSE(fs::exists(Path("train.partial.txtpb")));
  EXPECT_TRUE(ReadTestTree(out_) == ReadTestTree(reference_));
}

TEST_F(ResumeTest, CorruptedJournaledShardIsRedone) {
  fs::remove(Path("train.manifest.txtpb"));
  WriteJournal({0, 1, 2, 3});
  std::string damaged = ReadTestFile(Path(manifest_.shards(1).path()));
  damaged[damaged.size() / 2] ^= 0x40;
  WriteTestFile(Path(manifest_.shards(1).path()), damaged);
  const FileStamp untouched = Stamp(Path(manifest_.shards(2).path()));

  absl::StatusOr<ShardResult> result = RunShard(Options(Train(), out_));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->shards_reused, 3);
  EXPECT_EQ(result->shards_written, 1);
  EXPECT_EQ(Stamp(Path(manifest_.shards(2).path())).mtime_ns, untouched.mtime_ns);
  EXPECT_TRUE(ReadTestTree(out_) == ReadTestTree(reference_));
}

TEST_F(ResumeTest, FinishedRunIsLeftAloneButADamagedOneIsRepaired) {
  const FileStamp manifest_stamp = Stamp(Path("train.manifest.txtpb"));
  absl::StatusOr<ShardResult> result = RunShard(Options(Train(), out_));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->already_complete);
  EXPECT_EQ(result->shards_written, 0);
  EXPECT_EQ(result->shards_reused, 4);
  EXPECT_EQ(result->manifest.SerializeAsString(), manifest_.SerializeAsString());
  EXPECT_EQ(Stamp(Path("train.manifest.txtpb")).mtime_ns, manifest_stamp.mtime_ns);

  // An index file lost after completion: that shard is redone.
  fs::remove(Path(manifest_.shards(0).index_path()));
  result = RunShard(Options(Train(), out_));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->already_complete);
  EXPECT_EQ(result->shards_written, 1);
  EXPECT_TRUE(ReadTestTree(out_) == ReadTestTree(reference_));
}

TEST_F(ResumeTest, DifferentOptionsStartOver) {
  fs::remove(Path("train.manifest.txtpb"));
  WriteJournal({0, 1});
  ShardRunOptions options = Options(Train(), out_);
  options.seed = 3;
  absl::StatusOr<ShardResult> result = RunShard(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->shards_reused, 0);
  EXPECT_EQ(result->shards_written, 4);

  // Back to the first options: everything differs from the journal-free, finished seed-3 run.
  result = RunShard(Options(Train(), out_));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->shards_reused, 0);
  EXPECT_TRUE(ReadTestTree(out_) == ReadTestTree(reference_));

  // --strict and --threads do not change the output, so they do not force a restart.
  ShardRunOptions same =
      Options(shard_testing::CleanTinyImageNet() + "/train", NewScratchDir("clean"));
  ASSERT_TRUE(RunShard(same).ok());
  same.strict = true;
  same.threads = 1;
  result = RunShard(same);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->already_complete);
}

// A real interruption: --strict stops at the first bad file, after the journal recorded the
// shards finished before it; a rerun without --strict keeps those and does the rest.
TEST(ResumeAfterFailureTest, JournalOfAStoppedRunIsResumed) {
  constexpr int kShards = 40;
  const std::string reference = NewScratchDir("reference");
  ShardRunOptions options = Options(Train(), reference);
  options.num_shards = kShards;
  absl::StatusOr<ShardResult> uninterrupted = RunShard(options);
  ASSERT_TRUE(uninterrupted.ok()) << uninterrupted.status();
  int clean_prefix = 0;
  while (uninterrupted->manifest.shards(clean_prefix).images_skipped() == 0) ++clean_prefix;
  ASSERT_GT(clean_prefix, 0)
      << "the order puts a bad file in the first shard; the test needs another seed";

  const std::string out = NewScratchDir("out");
  options.out_dir = out;
  options.strict = true;
  options.threads = 3;
  ASSERT_TRUE(absl::IsInvalidArgument(RunShard(options).status()));
  EXPECT_FALSE(fs::exists(out + "/train.manifest.txtpb"));
  DatasetManifest journal;
  ASSERT_TRUE(ReadProtoFile(out + "/train.partial.txtpb", &journal).ok());
  ASSERT_EQ(journal.shards_size(), clean_prefix);
  for (int s = 0; s < clean_prefix; ++s) {
    EXPECT_EQ(journal.shards(s).SerializeAsString(),
              uninterrupted->manifest.shards(s).SerializeAsString());
  }
  EXPECT_TRUE(journal.options().strict());
  int64_t journaled_records = 0;
  for (const ShardInfo& shard : journal.shards()) journaled_records += shard.records();
  EXPECT_EQ(journal.records(), journaled_records);
  // No half-written shard is left behind.
  EXPECT_FALSE(fs::exists(out + "/" + ShardFileName("train", clean_prefix, kShards)));

  options.strict = false;
  absl::StatusOr<ShardResult> resumed = RunShard(options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->shards_reused, clean_prefix);
  EXPECT_EQ(resumed->shards_written, kShards - clean_prefix);
  EXPECT_EQ(resumed->manifest.SerializeAsString(), uninterrupted->manifest.SerializeAsString());
  EXPECT_TRUE(ReadTestTree(out) == ReadTestTree(reference));
}

// kill -9 leaves the temporary files being written; the rerun removes this split's and keeps the
// rest of the directory as it is.
TEST_F(ResumeTest, TemporariesOfAKilledRunAreRemoved) {
  fs::remove(Path("train.manifest.txtpb"));
  fs::remove(Path(manifest_.shards(2).path()));
  fs::remove(Path(manifest_.shards(2).index_path()));
  WriteJournal({0, 1, 3});
  const std::vector<std::string> left = {
      manifest_.shards(2).path() + ".tmp.Ab12Cd", manifest_.shards(2).index_path() + ".tmp.xY9zQw",
      "train.partial.txtpb.tmp.000000", "train.manifest.txtpb.tmp.a1B2c3",
      ShardFileName("train", 3, 8) + ".tmp.Qq1Ww2"};
  const std::vector<std::string> others = {"val-00000-of-00001.rec.tmp.Ab12Cd", "notes.txt.tmp.Ab12Cd",
                                           "train-00002-of-00004.rec.tmp.toolong"};
  for (const std::string& name : left) WriteTestFile(Path(name), "half-written");
  for (const std::string& name : others) WriteTestFile(Path(name), "not this run's");

  absl::StatusOr<ShardResult> result = RunShard(Options(Train(), out_));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->shards_written, 1);
  for (const std::string& name : left) EXPECT_FALSE(fs::exists(Path(name))) << name;
  for (const std::string& name : others) {
    EXPECT_TRUE(fs::exists(Path(name))) << name;
    fs::remove(Path(name));
  }
  EXPECT_TRUE(ReadTestTree(out_) == ReadTestTree(reference_));
}

TEST_F(ResumeTest, StrictRefusesFilesAnEarlierRunSkipped) {
  fs::remove(Path("train.manifest.txtpb"));
  WriteJournal({0, 1, 2, 3});
  ShardRunOptions options = Options(Train(), out_);
  options.strict = true;
  absl::Status status = RunShard(options).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("skipped by an earlier run"));
}

}  // namespace
}  // namespace forge
