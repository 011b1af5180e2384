#include "lib/records/record_writer.h"

#include "lib/records/crc32c.h"

namespace forge {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

// Appends the `width` low bytes of `value`, least significant first.
void AppendLittleEndian(uint64_t value, int width, std::string* out) {
  for (int i = 0; i < width; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

void AppendFramedRecord(absl::string_view payload, std::string* out) {
  const size_t start = out->size();
  AppendLittleEndian(payload.size(), 8, out);
  AppendLittleEndian(MaskCrc32c(Crc32c(absl::string_view(*out).substr(start, 8))), 4, out);
  out->append(payload.data(), payload.size());
  AppendLittleEndian(MaskCrc32c(Crc32c(payload)), 4, out);
}

absl::StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Create(const std::string& path) {
  absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<RecordWriter>(new RecordWriter(std::move(*file)));
}

absl::Status RecordWriter::Write(absl::string_view payload) {
  const size_t start = buffer_.size();
  AppendFramedRecord(payload, &buffer_);
  const absl::string_view framed = absl::string_view(buffer_).substr(start);
  file_crc_ = Crc32cExtend(file_crc_, framed);
  spans_.push_back({bytes_, framed.size()});
  bytes_ += framed.size();
  if (buffer_.size() >= kFlushBytes) return Flush();
  return absl::OkStatus();
}

absl::Status RecordWriter::Flush() {
  absl::Status status = file_->Append(buffer_);
  buffer_.clear();
  return status;
}

absl::Status RecordWriter::Close() {
  if (absl::Status status = Flush(); !status.ok()) return status;
  return file_->Commit();
}

}  // namespace forge
