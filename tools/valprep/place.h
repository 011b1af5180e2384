// Putting one file at its new name without ever replacing an existing file and without ever
// leaving a half-written one: the file-system half of valprep.
#ifndef FORGE_TOOLS_VALPREP_PLACE_H_
#define FORGE_TOOLS_VALPREP_PLACE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {
namespace valprep {

enum class PlaceMode {
  kMove,      // rename; across file systems: atomic copy, then unlink the source
  kCopy,      // copy to a temporary file beside the destination, fsync, rename
  kHardlink,  // link(); source and destination must share a file system
  kSymlink,   // an absolute symlink to the source's absolute path
};

// "move", "copy", "hardlink" or "symlink"; anything else is InvalidArgument.
absl::StatusOr<PlaceMode> ParsePlaceMode(absl::string_view name);
absl::string_view PlaceModeName(PlaceMode mode);

// Places `source` at `destination`, whose directory must exist. Never replaces anything: if
// `destination` exists the result is AlreadyExists and nothing changes. Other failures
// (PermissionDenied, ResourceExhausted for a full disk, Internal) name the file and leave
// `destination` absent and `source` in place; a copy's temporary file is removed. Does not
// fsync the destination directory (see SyncDirectory), except after a move across file
// systems, where the copy must be durable before the source is unlinked.
absl::Status PlaceFile(const std::string& source, const std::string& destination,
                       PlaceMode mode);

// Copies `source` (following symlinks) to `destination`, which must not exist, through a
// hidden temporary file in the destination's directory that is fsynced and then renamed; keeps
// the permission bits and modification time.
absl::Status CopyFileAtomically(const std::string& source, const std::string& destination);

// Whether two existing files hold the same bytes (following symlinks): true at once for the
// same inode, false at once for different sizes, otherwise compared byte by byte.
absl::StatusOr<bool> SameContents(const std::string& a, const std::string& b);

// fsyncs a directory so that renames and creations in it survive a crash.
absl::Status SyncDirectory(const std::string& directory);

}  // namespace valprep
}  // namespace forge

#endif  // FORGE_TOOLS_VALPREP_PLACE_H_
