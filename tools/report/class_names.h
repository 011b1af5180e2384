// Human class names for the report: LOC_synset_mapping.txt, and how a class is labelled.
#ifndef FORGE_TOOLS_REPORT_CLASS_NAMES_H_
#define FORGE_TOOLS_REPORT_CLASS_NAMES_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

// Parses LOC_synset_mapping.txt: lines "<wnid> <human name>", e.g. "n01440764 tench, Tinca
// tinca"; blank lines and a trailing "\r" are ignored. Returns WNID -> name. Fails with
// InvalidArgument naming `source` and the line for a line without a name or a WNID listed
// twice.
absl::StatusOr<std::map<std::string, std::string>> ParseSynsetMapping(absl::string_view text,
                                                                      const std::string& source);

// How the report shows a class: "wnid (name)", the WNID alone for a class without a name, and
// "#<index>" for one without a WNID either.
std::string ClassLabel(int index, const std::string& wnid, const std::string& name);

}  // namespace forge

#endif  // FORGE_TOOLS_REPORT_CLASS_NAMES_H_
