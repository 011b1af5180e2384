// Whole-file reads and crash-safe whole-file writes.
#ifndef FORGE_LIB_IO_FILE_H_
#define FORGE_LIB_IO_FILE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// Returns the bytes of `path` ("-" reads standard input). Fails with NotFound if the file does
// not exist, with InvalidArgument if it is a directory and otherwise with the code
// absl::ErrnoToStatus gives the failed call's errno (PermissionDenied for EACCES, ...); messages
// name the file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces `path` with `contents` so that readers see either the old file or the new one, never
// a mix, even if the process or the machine dies: writes a temporary file in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory. "-" writes to standard output.
// On failure `path` is untouched and the temporary file is removed.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// A file written in pieces that appears at its path only when complete: the bytes go to a
// temporary file in the same directory, and Commit() fsyncs it, renames it over the path and
// fsyncs the directory. Destroying an uncommitted AtomicFile removes the temporary file, so an
// interrupted writer leaves the previous file (if any) untouched.
//
//   absl::StatusOr<std::unique_ptr<AtomicFile>> file = AtomicFile::Create("out.rec");
//   if (!file.ok()) return file.status();
//   if (absl::Status status = (*file)->Append(bytes); !status.ok()) return status;
//   return (*file)->Commit();
class AtomicFile {
 public:
  // Creates the temporary file for `path`. Fails if the directory is missing or not writable.
  static absl::StatusOr<std::unique_ptr<AtomicFile>> Create(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  absl::Status Append(absl::string_view data);
  // Makes the file visible at its path, durably. Nothing may be appended afterwards.
  absl::Status Commit();

  const std::string& path() const { return path_; }

 private:
  AtomicFile(std::string path, std::string temp_path, int fd);
  void Abort();

  const std::string path_;
  const std::string temp_path_;
  int fd_;
  bool committed_ = false;
};

}  // namespace forge

#endif  // FORGE_LIB_IO_FILE_H_
