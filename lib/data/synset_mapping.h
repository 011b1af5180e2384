// ImageNet's LOC_synset_mapping.txt: the human name of each WNID.
#ifndef FORGE_LIB_DATA_SYNSET_MAPPING_H_
#define FORGE_LIB_DATA_SYNSET_MAPPING_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// Parses lines "<wnid> <human name>", e.g. "n01440764 tench, Tinca tinca"; blank lines and
// surrounding whitespace (including "\r") are ignored. Names are not unique in ImageNet (two
// "crane"), so the result is keyed by WNID. Fails with InvalidArgument naming `source` and the
// line ("map.txt:2: ...") for a line without a name or a WNID listed twice.
absl::StatusOr<std::map<std::string, std::string>> ParseSynsetMapping(absl::string_view text,
                                                                      const std::string& source);

// Reads and parses the file at `path`.
absl::StatusOr<std::map<std::string, std::string>> ReadSynsetMapping(const std::string& path);

}  // namespace forge

#endif  // FORGE_LIB_DATA_SYNSET_MAPPING_H_
