// The class table of a sharded split: which WNIDs exist, their indices and human names.
#ifndef FORGE_TOOLS_SHARD_CLASSES_H_
#define FORGE_TOOLS_SHARD_CLASSES_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/dataset.pb.h"

namespace forge {

// Parses LOC_synset_mapping.txt: lines "<wnid> <human name>", e.g. "n01440764 tench, Tinca
// tinca"; blank lines and trailing "\r" are ignored. Returns WNID -> name (names are not
// unique, WNIDs are). Fails with InvalidArgument naming `source` and the line for a line
// without a name or a WNID listed twice.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>> ParseSynsetMapping(
    absl::string_view text, const std::string& source);

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
