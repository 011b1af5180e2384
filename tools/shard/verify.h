// Checking shards written by `shard`: a quick check of one shard's files against its manifest
// entry (sizes and whole-file CRC-32Cs, used to decide what a resumed run may keep), and a full
// verification of every record of a manifest (`shard --verify`).
#ifndef FORGE_TOOLS_SHARD_VERIFY_H_
#define FORGE_TOOLS_SHARD_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/dataset.pb.h"

namespace forge {

struct FileChecksum {
  uint64_t size = 0;
  uint32_t crc32c = 0;
};

// The size and CRC-32C of the whole file at `path`, read in 1 MiB pieces. NotFound if it does
// not exist; other read errors name the file.
absl::StatusOr<FileChecksum> ComputeFileChecksum(const std::string& path);

// OK if the shard file and the index file of `shard` (paths relative to `directory`) exist
// with the size and the CRC-32Cs the entry records; otherwise an error (NotFound, DataLoss)
// saying which file differs and how. Reads both files once.
absl::Status CheckShardFiles(const std::string& directory, const ShardInfo& shard);

struct VerifyReport {
  // One line per problem, naming the file (and the byte offset of a bad record).
  std::vector<std::string> problems;
  int64_t shards = 0;   // checked
  int64_t records = 0;  // read back intact
  int64_t bytes = 0;    // of the shard files found
  bool ok() const { return problems.empty(); }
};

// Re-reads every shard of the manifest at `manifest_path` and reports, without stopping at the
// first, every problem: a missing file, a size or whole-file CRC-32C differing from the
// manifest, a record whose framing CRCs fail (file and byte offset; the rest of that shard
// cannot be read), a payload that is not an ImageRecord, a label outside the classes or a WNID
// that disagrees with it, an image whose JPEG header is unreadable or disagrees with the
// recorded size, a record count differing from the manifest, an index that does not list the
// records as they are, and totals that do not add up.
// Fails (InvalidArgument / NotFound) only if the manifest itself cannot be read or lists no
// classes or no shards.
absl::StatusOr<VerifyReport> VerifyShards(const std::string& manifest_path, bool progress = true);

// "shard verify: manifest=<path> shards=8 records=407 bytes=... problems=0 ok=true".
std::string VerifySummaryLine(const std::string& manifest_path, const VerifyReport& report);

}  // namespace forge

#endif  // FORGE_TOOLS_SHARD_VERIFY_H_
