#include "lib/records/record_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/records/crc32c.h"

namespace forge {
namespace {

uint64_t LoadLittleEndian(const char* bytes, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordFile>> RecordFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  return std::unique_ptr<RecordFile>(new RecordFile(path, fd, static_cast<uint64_t>(info.st_size)));
}

RecordFile::~RecordFile() { ::close(fd_); }

absl::Status RecordFile::ReadExactly(uint64_t offset, size_t length, char* out) const {
  while (length > 0) {
    ssize_t n = ::pread(fd_, out, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path_, " at byte offset ", offset));
    if (n == 0) {
      return absl::DataLossError(
          absl::StrCat("cannot read ", path_, " at byte offset ", offset, ": unexpected end of file"));
    }
    out += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RecordFile::ReadAt(uint64_t offset, uint64_t size) const {
  auto corrupt = [&](absl::string_view problem) {
    return absl::DataLossError(
        absl::StrCat(path_, ": corrupt record at byte offset ", offset, ": ", problem));
  };
  if (offset + 12 > size_) {
    return corrupt(absl::StrCat("truncated header (file ends at byte ", size_, ")"));
  }
  // With a known size, one read fetches header, payload and footer together.
  std::string framed;
  const bool whole = size >= 16 && offset + size <= size_;
  framed.resize(whole ? size : 12);
  if (absl::Status status = ReadExactly(offset, framed.size(), framed.data()); !status.ok()) {
    return status;
  }
  const uint64_t length = LoadLittleEndian(framed.data(), 8);
  if (MaskCrc32c(Crc32c(absl::string_view(framed.data(), 8))) != LoadLittleEndian(framed.data() + 8, 4)) {
    return corrupt("length CRC mismatch");
  }
  const uint64_t remaining = size_ - offset;
  if (remaining < 16 || length > remaining - 16) {
    return corrupt(absl::StrCat("truncated: a payload of ", length, " bytes runs past the end of the file (",
                                size_, " bytes)"));
  }
  if (whole && size != length + 16) {
    return corrupt(absl::StrCat("the index says ", size, " bytes, the record holds ", length + 16));
  }
  if (!whole) {
    framed.resize(length + 16);
    if (absl::Status status = ReadExactly(offset + 12, length + 4, framed.data() + 12); !status.ok()) {
      return status;
    }
  }
  const absl::string_view payload(framed.data() + 12, length);
  if (MaskCrc32c(Crc32c(payload)) != LoadLittleEndian(framed.data() + 12 + length, 4)) {
    return corrupt("payload CRC mismatch");
  }
  return std::string(payload);
}

RecordReader::RecordReader(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RecordFile>> file = RecordFile::Open(path);
  if (file.ok()) {
    file_ = std::move(*file);
  } else {
    status_ = file.status();
  }
}

bool RecordReader::ReadRecord(std::string* payload) {
  if (!status_.ok() || position_ >= file_->size()) return false;
  absl::StatusOr<std::string> record = file_->ReadAt(position_);
  if (!record.ok()) {
    status_ = record.status();
    return false;
  }
  *payload = std::move(*record);
  last_offset_ = position_;
  position_ += payload->size() + 16;
  ++records_;
  return true;
}

}  // namespace forge
