// Writing record files in TFRecord framing, so that TensorFlow's and DALI's readers can iterate
// them: per record a little-endian uint64 length, the masked CRC-32C of those 8 bytes, the
// payload, and the masked CRC-32C of the payload.
#ifndef FORGE_LIB_RECORDS_RECORD_WRITER_H_
#define FORGE_LIB_RECORDS_RECORD_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "lib/io/file.h"
#include "lib/records/record_index.h"

namespace forge {

// Bytes of framing around each payload: 8 (length) + 4 (length CRC) + 4 (payload CRC).
inline constexpr uint64_t kRecordOverhead = 16;

// Appends the framed `payload` to `out`.
void AppendFramedRecord(absl::string_view payload, std::string* out);

// Writes one record file. The file appears at its path only when Close() succeeds (see
// AtomicFile), so a crash never leaves a half-written shard that looks finished.
//
//   absl::StatusOr<std::unique_ptr<RecordWriter>> writer = RecordWriter::Create(path);
//   if (!writer.ok()) return writer.status();
//   for (const std::string& payload : payloads) {
//     if (absl::Status status = (*writer)->Write(payload); !status.ok()) return status;
//   }
//   if (absl::Status status = (*writer)->Close(); !status.ok()) return status;
//   return WriteFileAtomically(path + ".idx", FormatDaliIndex((*writer)->spans()));
class RecordWriter {
 public:
  static absl::StatusOr<std::unique_ptr<RecordWriter>> Create(const std::string& path);

  absl::Status Write(absl::string_view payload);
  // Flushes and commits the file.
  absl::Status Close();

  // Where each record written so far starts and how many bytes it takes, framing included.
  const std::vector<RecordSpan>& spans() const { return spans_; }
  // Bytes written so far.
  uint64_t bytes() const { return bytes_; }
  // CRC-32C of all bytes written so far (the whole file once closed).
  uint32_t file_crc32c() const { return file_crc_; }

 private:
  explicit RecordWriter(std::unique_ptr<AtomicFile> file) : file_(std::move(file)) {}
  absl::Status Flush();

  std::unique_ptr<AtomicFile> file_;
  std::string buffer_;
  std::vector<RecordSpan> spans_;
  uint64_t bytes_ = 0;
  uint32_t file_crc_ = 0;
};

}  // namespace forge

#endif  // FORGE_LIB_RECORDS_RECORD_WRITER_H_
