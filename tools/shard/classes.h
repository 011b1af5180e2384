// The class table of a sharded split: which WNIDs exist, their indices and human names.
#ifndef FORGE_TOOLS_SHARD_CLASSES_H_
#define FORGE_TOOLS_SHARD_CLASSES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/dataset.pb.h"

namespace forge {

// The classes of a split whose class folders are `folder_wnids` (sorted):
// - by default one class per folder, index = position in sorted order;
// - with `classes_from` (a manifest written by `shard`, typically train's), exactly that
//   manifest's classes, indices and names, so that labels agree across splits; folders it does
//   not know fail with InvalidArgument listing every unknown WNID;
// - with `synset_mapping` (LOC_synset_mapping.txt), names from it; a class it lacks fails with
//   InvalidArgument listing the missing WNIDs.
// Errors name the file; unreadable files are NotFound or InvalidArgument.
absl::StatusOr<std::vector<ClassInfo>> BuildClasses(const std::vector<std::string>& folder_wnids,
                                                    const std::string& classes_from,
                                                    const std::string& synset_mapping);

}  // namespace forge

#endif  // FORGE_TOOLS_SHARD_CLASSES_H_
