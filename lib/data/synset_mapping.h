// ImageNet's LOC_synset_mapping.txt: the human name of each WNID. The one parser of that file:
// valprep checks WNIDs against it, shard and report take class names from it.
#ifndef FORGE_LIB_DATA_SYNSET_MAPPING_H_
#define FORGE_LIB_DATA_SYNSET_MAPPING_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// True for a WordNet ID as ImageNet spells it: "n" followed by exactly 8 digits ("n01440764").
bool IsWnid(absl::string_view token);

// Parses lines "<wnid> <human name>", e.g. "n01440764 tench, Tinca tinca": the WNID (see
// IsWnid), then spaces or tabs, then a non-empty name. Tolerated, since editors and downloads
// add them: a UTF-8 byte order mark at the start, CRLF line ends, surrounding whitespace and
// blank lines. Names are not unique in ImageNet (two "crane"), so the result is keyed by WNID.
// Fails with InvalidArgument naming `source` and the line ("map.txt:2: ...") for a line without
// a WNID or without a name, or a WNID listed twice; and naming `source` for a file without any
// entry.
//
//   absl::StatusOr<std::map<std::string, std::string>> names =
//       ParseSynsetMapping("n01440764 tench, Tinca tinca\n", "map.txt");
//   // names->at("n01440764") == "tench, Tinca tinca"
absl::StatusOr<std::map<std::string, std::string>> ParseSynsetMapping(absl::string_view text,
                                                                      const std::string& source);

// Reads and parses the file at `path` ("-": standard input); reading fails as ReadFile does
// (lib/io/file.h).
absl::StatusOr<std::map<std::string, std::string>> ReadSynsetMapping(const std::string& path);

}  // namespace forge

#endif  // FORGE_LIB_DATA_SYNSET_MAPPING_H_
