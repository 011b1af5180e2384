#include "lib/data/dataset.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "lib/data/image_folder.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/records/record_index.h"
#include "lib/records/record_reader.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

class FolderDataset : public ImageDataset {
 public:
  explicit FolderDataset(ImageFolder folder) : folder_(std::move(folder)) {
    for (size_t i = 0; i < folder_.classes.size(); ++i) {
      ClassInfo info;
      info.set_index(static_cast<int>(i));
      info.set_wnid(folder_.classes[i]);
      classes_.push_back(std::move(info));
    }
  }
  const std::string& source() const override { return folder_.root; }
  size_t size() const override { return folder_.samples.size(); }
  const std::vector<ClassInfo>& classes() const override { return classes_; }
  std::string Describe(size_t i) const override {
    return absl::StrCat(folder_.root, "/", folder_.samples[i].path);
  }
  absl::StatusOr<EncodedSample> Read(size_t i) const override {
    absl::StatusOr<std::string> bytes = ReadFile(Describe(i));
    if (!bytes.ok()) return bytes.status();
    return EncodedSample{std::move(*bytes), folder_.samples[i].label};
  }

 private:
  ImageFolder folder_;
  std::vector<ClassInfo> classes_;
};

class ShardedDataset : public ImageDataset {
 public:
  struct Sample {
    int shard;
    RecordSpan span;
  };

  static absl::StatusOr<std::unique_ptr<ShardedDataset>> Open(const std::string& path) {
    auto dataset = std::unique_ptr<ShardedDataset>(new ShardedDataset(path));
    if (absl::Status status = ReadProtoFile(path, &dataset->manifest_); !status.ok()) return status;
    const DatasetManifest& manifest = dataset->manifest_;
    if (manifest.classes_size() == 0 || manifest.shards_size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, " is not a dataset manifest: it lists no ",
                                                     manifest.classes_size() == 0 ? "classes" : "shards"));
    }
    dataset->classes_.assign(manifest.classes().begin(), manifest.classes().end());
    const fs::path directory = fs::path(path).parent_path();
    for (int s = 0; s < manifest.shards_size(); ++s) {
      const ShardInfo& shard = manifest.shards(s);
      absl::StatusOr<std::unique_ptr<RecordFile>> file = RecordFile::Open((directory / shard.path()).string());
      if (!file.ok()) return file.status();
      const std::string index_path = (directory / shard.index_path()).string();
      absl::StatusOr<std::string> index_text = ReadFile(index_path);
      if (!index_text.ok()) return index_text.status();
      absl::StatusOr<std::vector<RecordSpan>> spans = ParseDaliIndex(*index_text, index_path);
      if (!spans.ok()) return spans.status();
      if (static_cast<int64_t>(spans->size()) != shard.records()) {
        return absl::InvalidArgumentError(absl::StrCat(index_path, " lists ", spans->size(),
                                                       " records, the manifest says ", shard.records()));
      }
      dataset->files_.push_back(std::move(*file));
      for (const RecordSpan& span : *spans) dataset->samples_.push_back({s, span});
    }
    return dataset;
  }

  const std::string& source() const override { return path_; }
  size_t size() const override { return samples_.size(); }
  const std::vector<ClassInfo>& classes() const override { return classes_; }
  std::string Describe(size_t i) const override {
    return absl::StrCat(files_[samples_[i].shard]->path(), "@", samples_[i].span.offset);
  }
  absl::StatusOr<EncodedSample> Read(size_t i) const override {
    absl::StatusOr<ImageRecord> record = ReadRecord(i);
    if (!record.ok()) return record.status();
    if (record->label() < 0 || record->label() >= static_cast<int>(classes_.size())) {
      return absl::DataLossError(absl::StrCat(Describe(i), ": label ", record->label(),
                                              " is outside the manifest's ", classes_.size(), " classes"));
    }
    return EncodedSample{std::move(*record->mutable_image()), record->label()};
  }

  absl::StatusOr<ImageRecord> ReadRecord(size_t i) const {
    const Sample& sample = samples_[i];
    absl::StatusOr<std::string> payload = files_[sample.shard]->ReadAt(sample.span.offset, sample.span.size);
    if (!payload.ok()) return payload.status();
    ImageRecord record;
    if (!record.ParseFromString(*payload)) {
      return absl::DataLossError(absl::StrCat(Describe(i), ": the record is not an ImageRecord"));
    }
    return record;
  }

 private:
  explicit ShardedDataset(std::string path) : path_(std::move(path)) {}

  std::string path_;
  DatasetManifest manifest_;
  std::vector<ClassInfo> classes_;
  std::vector<std::unique_ptr<RecordFile>> files_;
  std::vector<Sample> samples_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ImageDataset>> OpenImageDataset(const std::string& path) {
  std::error_code error;
  if (fs::is_directory(path, error)) {
    absl::StatusOr<ImageFolder> folder = ListImageFolder(path);
    if (!folder.ok()) return folder.status();
    return std::make_unique<FolderDataset>(std::move(*folder));
  }
  if (!fs::exists(path, error)) return absl::NotFoundError(absl::StrCat("no such file or directory: ", path));
  absl::StatusOr<std::unique_ptr<ShardedDataset>> sharded = ShardedDataset::Open(path);
  if (!sharded.ok()) return sharded.status();
  return std::unique_ptr<ImageDataset>(std::move(*sharded));
}

}  // namespace forge
