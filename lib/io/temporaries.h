// Clean-up after killed writers: AtomicFile and WriteFileAtomically (lib/io/file.h) write
// "<path>.tmp.XXXXXX" next to `path` and rename it over `path` when complete, so a process killed
// before that (kill -9, a lost machine) leaves the temporary behind, up to a whole file's size.
#ifndef FORGE_LIB_IO_TEMPORARIES_H_
#define FORGE_LIB_IO_TEMPORARIES_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace forge {

// Removes from `dir` every such temporary of a file whose name `is_output` accepts (it is called
// with the name without ".tmp.XXXXXX") and returns the paths removed; files that cannot be
// removed are left. Call it only where no other process can be writing those files (under the
// run's lock, or for outputs that only this command writes). A missing `dir` holds none.
//
//   for (const std::string& path : RemoveStaleTemporaries(dir, [](absl::string_view name) {
//          return absl::EndsWith(name, ".ckpt"); })) {
//     LOG(INFO) << "removed " << path << ", left by an interrupted run";
//   }
std::vector<std::string> RemoveStaleTemporaries(const std::string& dir,
                                                const std::function<bool(absl::string_view name)>& is_output);

}  // namespace forge

#endif  // FORGE_LIB_IO_TEMPORARIES_H_
