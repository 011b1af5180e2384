#include "lib/data/synset_mapping.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/io/file.h"

namespace forge {
namespace {

// A line quoted in a message: truncated, so that a binary file does not flood the log.
std::string Quote(absl::string_view line) {
  constexpr size_t kMax = 80;
  if (line.size() <= kMax) return absl::StrCat("\"", line, "\"");
  return absl::StrCat("\"", line.substr(0, kMax), "...\"");
}

}  // namespace

bool IsWnid(absl::string_view token) {
  if (token.size() != 9 || token[0] != 'n') return false;
  for (char c : token.substr(1)) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<std::map<std::string, std::string>> ParseSynsetMapping(absl::string_view text,
                                                                      const std::string& source) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::map<std::string, std::string> names;
  std::map<std::string, int> line_of;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);  // also the "\r" of a CRLF line end
    if (line.empty()) continue;
    const auto bad_line = [&](absl::string_view problem) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": ", problem,
                                                     " (expected \"<wnid> <name>\", e.g. \"n01440764 tench, "
                                                     "Tinca tinca\"), got ",
                                                     Quote(line)));
    };
    const size_t space = line.find_first_of(" \t");
    const absl::string_view wnid = line.substr(0, space);
    if (!IsWnid(wnid)) return bad_line("the line does not start with a WNID (n + 8 digits)");
    const absl::string_view name =
        space == absl::string_view::npos ? absl::string_view() : absl::StripAsciiWhitespace(line.substr(space));
    if (name.empty()) return bad_line(absl::StrCat("WNID ", wnid, " has no name"));
    const auto [first, inserted] = line_of.emplace(std::string(wnid), line_number);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": WNID ", wnid,
                                                     " is listed twice (first on line ", first->second, ")"));
    }
    names.emplace(std::string(wnid), std::string(name));
  }
  if (names.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": the synset mapping names no WNID (expected ",
                                                   "\"<wnid> <name>\" lines, e.g. \"n01440764 tench, Tinca tinca\")"));
  }
  return names;
}

absl::StatusOr<std::map<std::string, std::string>> ReadSynsetMapping(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseSynsetMapping(*text, path);
}

}  // namespace forge
