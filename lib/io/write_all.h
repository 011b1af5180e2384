// Writing a whole buffer to a file descriptor.
#ifndef FORGE_LIB_IO_WRITE_ALL_H_
#define FORGE_LIB_IO_WRITE_ALL_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace forge {

// Writes all of `data` to `fd`: write(2) may write less than asked (pipes, signals, full disks
// that free up) or be interrupted before writing anything, so this retries short writes and
// EINTR until every byte is written. `path` only names the file in messages. Fails with
// absl::ErrnoToStatus of the first other error ("cannot write <path>: <strerror>"); the file
// then holds an unknown prefix of `data`.
//
//   if (absl::Status status = WriteAll(fd, bytes, path); !status.ok()) return status;
absl::Status WriteAll(int fd, absl::string_view data, absl::string_view path);

}  // namespace forge

#endif  // FORGE_LIB_IO_WRITE_ALL_H_
