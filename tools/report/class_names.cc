#include "tools/report/class_names.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace forge {

absl::StatusOr<std::map<std::string, std::string>> ParseSynsetMapping(absl::string_view text,
                                                                      const std::string& source) {
  std::map<std::string, std::string> names;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const size_t space = line.find_first_of(" \t");
    const absl::string_view wnid = line.substr(0, space);
    const absl::string_view name =
        space == absl::string_view::npos ? "" : absl::StripAsciiWhitespace(line.substr(space));
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, " line ", line_number, ": expected '<wnid> <name>', e.g. 'n01440764 tench, Tinca tinca'"));
    }
    if (!names.emplace(std::string(wnid), std::string(name)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " line ", line_number, ": ", wnid, " is listed twice"));
    }
  }
  return names;
}

std::string ClassLabel(int index, const std::string& wnid, const std::string& name) {
  if (wnid.empty()) return name.empty() ? absl::StrCat("#", index) : absl::StrCat("#", index, " (", name, ")");
  return name.empty() ? wnid : absl::StrCat(wnid, " (", name, ")");
}

}  // namespace forge
