// Whole-file reads and crash-safe whole-file writes.
#ifndef FORGE_LIB_IO_FILE_H_
#define FORGE_LIB_IO_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// Returns the bytes of `path` ("-" reads standard input). Fails with NotFound if the file does
// not exist and with InvalidArgument if it is a directory; messages name the file.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Replaces `path` with `contents` so that readers see either the old file or the new one, never
// a mix, even if the process or the machine dies: writes a temporary file in the same directory,
// fsyncs it, renames it over `path` and fsyncs the directory. "-" writes to standard output.
// On failure `path` is untouched and the temporary file is removed.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

}  // namespace forge

#endif  // FORGE_LIB_IO_FILE_H_
