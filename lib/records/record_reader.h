// Reading record files in TFRecord framing (see record_writer.h), checking every CRC. A corrupt
// or truncated record is reported with the file and the byte offset where it starts.
#ifndef FORGE_LIB_RECORDS_RECORD_READER_H_
#define FORGE_LIB_RECORDS_RECORD_READER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge {

// Random access to the records of one file; ReadAt is thread-safe (positional reads).
class RecordFile {
 public:
  // Fails with NotFound if `path` does not exist, InvalidArgument if it is not a regular file,
  // and otherwise with absl::ErrnoToStatus of open(2)'s error.
  static absl::StatusOr<std::unique_ptr<RecordFile>> Open(const std::string& path);
  ~RecordFile();
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // The payload of the record starting at `offset`. `size`, the framed size from an index, saves
  // one read when known (0: unknown). DataLoss for a CRC mismatch or a record that runs past
  // the end of the file, naming the file and the offset; a failing read(2) (EIO, ...) is not
  // corruption and gets absl::ErrnoToStatus's code instead.
  absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t size = 0) const;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  RecordFile(std::string path, int fd, uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  absl::Status ReadExactly(uint64_t offset, size_t length, char* out) const;

  const std::string path_;
  const int fd_;
  const uint64_t size_;
};

// Reads the records of a file in order; keeps the first error.
//
//   RecordReader reader(path);
//   std::string payload;
//   while (reader.ReadRecord(&payload)) { ... }
//   if (!reader.status().ok()) return reader.status();
class RecordReader {
 public:
  explicit RecordReader(const std::string& path);

  // The next payload; false at the end of the file or after an error (see status()).
  bool ReadRecord(std::string* payload);

  // Byte offset of the record ReadRecord returned last.
  uint64_t last_offset() const { return last_offset_; }
  // Records read so far.
  uint64_t records() const { return records_; }
  // OK at a clean end of file; otherwise the first error.
  const absl::Status& status() const { return status_; }

 private:
  std::unique_ptr<RecordFile> file_;
  absl::Status status_;
  uint64_t position_ = 0;
  uint64_t last_offset_ = 0;
  uint64_t records_ = 0;
};

}  // namespace forge

#endif  // FORGE_LIB_RECORDS_RECORD_READER_H_
