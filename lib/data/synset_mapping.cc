#include "lib/data/synset_mapping.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/io/file.h"

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
    const absl::string_view name =
        space == absl::string_view::npos ? absl::string_view() : absl::StripAsciiWhitespace(line.substr(space));
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": expected \"<wnid> <name>\" (e.g. ",
                                                     "\"n01440764 tench, Tinca tinca\"), got \"", line, "\""));
    }
    const std::string wnid(line.substr(0, space));
    if (!names.emplace(wnid, std::string(name)).second) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": WNID ", wnid, " is listed twice"));
    }
  }
  return names;
}

absl::StatusOr<std::map<std::string, std::string>> ReadSynsetMapping(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseSynsetMapping(*text, path);
}

}  // namespace forge
