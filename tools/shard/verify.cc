#include "tools/shard/verify.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "lib/image/decode.h"
#include "lib/io/file.h"
#include "lib/io/proto_file.h"
#include "lib/records/crc32c.h"
#include "lib/records/record_index.h"
#include "lib/records/record_reader.h"
#include "lib/records/record_writer.h"
#include "lib/util/progress.h"

namespace forge {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadBytes = 1 << 20;

std::string Hex(uint32_t value) { return absl::StrCat("0x", absl::Hex(value, absl::kZeroPad8)); }

// Checks one shard; appends problems. `progress` counts its records.
void VerifyShard(const fs::path& directory, const DatasetManifest& manifest, const ShardInfo& shard,
                 ProgressBar* progress, VerifyReport* report) {
  const std::string path = (directory / shard.path()).string();
  auto problem = [&](const std::string& text) { report->problems.push_back(text); };

  absl::StatusOr<FileChecksum> checksum = ComputeFileChecksum(path);
  if (!checksum.ok()) {
    problem(std::string(checksum.status().message()));
    return;
  }
  report->bytes += static_cast<int64_t>(checksum->size);
  if (static_cast<int64_t>(checksum->size) != shard.bytes()) {
    problem(absl::StrCat(path, ": ", checksum->size, " bytes, the manifest says ", shard.bytes()));
  }
  if (checksum->crc32c != shard.crc32c()) {
    problem(absl::StrCat(path, ": whole-file CRC-32C is ", Hex(checksum->crc32c),
                         ", the manifest says ", Hex(shard.crc32c())));
  }

  // Records, read by the checking reader; the framing cannot be resynchronised after an error.
  std::vector<RecordSpan> spans;
  RecordReader reader(path);
  std::string payload;
  while (reader.ReadRecord(&payload)) {
    const uint64_t offset = reader.last_offset();
    spans.push_back({offset, payload.size() + kRecordOverhead});
    if (progress != nullptr) progress->Add();
    const std::string where =
        absl::StrCat(path, ": record ", spans.size() - 1, " at byte offset ", offset);
    ImageRecord record;
    if (!record.ParseFromString(payload)) {
      problem(absl::StrCat(where, ": the payload is not an ImageRecord"));
      continue;
    }
    if (record.label() < 0 || record.label() >= manifest.classes_size()) {
      problem(absl::StrCat(where, ": label ", record.label(), " is outside the manifest's ",
                           manifest.classes_size(), " classes"));
      continue;
    }
    if (record.wnid() != manifest.classes(record.label()).wnid()) {
      problem(absl::StrCat(where, ": WNID ", record.wnid(), " but label ", record.label(), " is ",
                           manifest.classes(record.label()).wnid()));
    }
    absl::StatusOr<ImageHeader> header = ReadImageHeader(record.image());
    if (!header.ok()) {
      problem(absl::StrCat(where, " (", record.source(),
                           "): unreadable image: ", header.status().message()));
      continue;
    }
    if (record.format() != STORED_FORMAT_JPEG || header->format != ImageFormat::kJpeg) {
      problem(absl::StrCat(where, " (", record.source(), "): not a JPEG"));
    }
    if (header->width != record.width() || header->height != record.height()) {
      problem(absl::StrCat(where, " (", record.source(), "): the image is ", header->width, "x",
                           header->height, ", the record says ", record.width(), "x",
                           record.height()));
    }
    ++report->records;
  }
  const bool complete = reader.status().ok();
  if (!complete) problem(std::string(reader.status().message()));
  if (complete && static_cast<int64_t>(spans.size()) != shard.records()) {
    problem(absl::StrCat(path, ": holds ", spans.size(), " records, the manifest says ",
                         shard.records()));
  }

  const std::string index_path = (directory / shard.index_path()).string();
  absl::StatusOr<std::string> index_text = ReadFile(index_path);
  if (!index_text.ok()) {
    problem(std::string(index_text.status().message()));
    return;
  }
  if (shard.index_crc32c() != 0 && Crc32c(*index_text) != shard.index_crc32c()) {
    problem(absl::StrCat(index_path, ": CRC-32C is ", Hex(Crc32c(*index_text)),
                         ", the manifest says ", Hex(shard.index_crc32c())));
  }
  absl::StatusOr<std::vector<RecordSpan>> index = ParseDaliIndex(*index_text, index_path);
  if (!index.ok()) {
    problem(std::string(index.status().message()));
    return;
  }
  if (!complete) return;  // the records cannot be compared with an index past the damage
  if (index->size() != spans.size()) {
    problem(absl::StrCat(index_path, ": lists ", index->size(), " records, the shard holds ",
                         spans.size()));
    return;
  }
  for (size_t i = 0; i < spans.size(); ++i) {
    if ((*index)[i].offset != spans[i].offset || (*index)[i].size != spans[i].size) {
      problem(absl::StrCat(index_path, ": entry ", i, " says \"", (*index)[i].offset, " ",
                           (*index)[i].size, "\", the record is at ", spans[i].offset, " with ",
                           spans[i].size, " bytes"));
      return;
    }
  }
}

}  // namespace

absl::StatusOr<FileChecksum> ComputeFileChecksum(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  FileChecksum checksum;
  std::unique_ptr<char[]> buffer(new char[kReadBytes]);
  while (true) {
    const ssize_t n = ::read(fd, buffer.get(), kReadBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status status = absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    checksum.crc32c =
        Crc32cExtend(checksum.crc32c, absl::string_view(buffer.get(), static_cast<size_t>(n)));
    checksum.size += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return checksum;
}

absl::Status CheckShardFiles(const std::string& directory, const ShardInfo& shard) {
  struct Expected {
    std::string path;
    uint64_t size;  // 0: not recorded
    uint32_t crc32c;
  };
  const Expected files[] = {
      {(fs::path(directory) / shard.path()).string(), static_cast<uint64_t>(shard.bytes()),
       shard.crc32c()},
      {(fs::path(directory) / shard.index_path()).string(), 0, shard.index_crc32c()},
  };
  for (const Expected& file : files) {
    absl::StatusOr<FileChecksum> checksum = ComputeFileChecksum(file.path);
    if (!checksum.ok()) return checksum.status();
    if (&file == &files[0] && checksum->size != file.size) {
      return absl::DataLossError(
          absl::StrCat(file.path, " has ", checksum->size, " bytes instead of ", file.size));
    }
    if (checksum->crc32c != file.crc32c) {
      return absl::DataLossError(absl::StrCat(file.path, " has CRC-32C ", Hex(checksum->crc32c),
                                              " instead of ", Hex(file.crc32c)));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> VerifyShards(const std::string& manifest_path, bool progress) {
  DatasetManifest manifest;
  if (absl::Status status = ReadProtoFile(manifest_path, &manifest); !status.ok()) return status;
  if (manifest.classes_size() == 0 || manifest.shards_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(manifest_path, " is not a dataset manifest: it lists no ",
                     manifest.classes_size() == 0 ? "classes" : "shards"));
  }
  VerifyReport report;
  for (int i = 0; i < manifest.classes_size(); ++i) {
    if (manifest.classes(i).index() != i) {
      report.problems.push_back(absl::StrCat(manifest_path, ": class ", i, " (",
                                             manifest.classes(i).wnid(), ") has index ",
                                             manifest.classes(i).index()));
    }
  }
  std::unique_ptr<ProgressBar> bar;
  if (progress) {
    ProgressOptions options;
    options.unit = "rec";
    bar = std::make_unique<ProgressBar>("shard verify", manifest.records(), options);
  }
  const fs::path directory = fs::path(manifest_path).parent_path();
  int64_t records = 0, bytes = 0;
  for (const ShardInfo& shard : manifest.shards()) {
    VerifyShard(directory, manifest, shard, bar.get(), &report);
    ++report.shards;
    records += shard.records();
    bytes += shard.bytes();
  }
  if (bar) bar->Finish();
  if (records != manifest.records()) {
    report.problems.push_back(absl::StrCat(manifest_path, ": the shards list ", records,
                                           " records in all, the manifest's total says ",
                                           manifest.records()));
  }
  if (bytes != manifest.bytes()) {
    report.problems.push_back(absl::StrCat(manifest_path, ": the shards list ", bytes,
                                           " bytes in all, the manifest's total says ",
                                           manifest.bytes()));
  }
  return report;
}

std::string VerifySummaryLine(const std::string& manifest_path, const VerifyReport& report) {
  return absl::StrCat("shard verify: manifest=", manifest_path, " shards=", report.shards,
                      " records=", report.records, " bytes=", report.bytes,
                      " problems=", report.problems.size(), " ok=", report.ok() ? "true" : "false");
}

}  // namespace forge
