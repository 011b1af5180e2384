#include "lib/records/record_index.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace forge {

std::string FormatDaliIndex(const std::vector<RecordSpan>& spans) {
  std::string text;
  for (const RecordSpan& span : spans) absl::StrAppend(&text, span.offset, " ", span.size, "\n");
  return text;
}

absl::StatusOr<std::vector<RecordSpan>> ParseDaliIndex(absl::string_view text,
                                                       const std::string& source) {
  std::vector<RecordSpan> spans;
  int line_number = 0;
  uint64_t expected_offset = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    RecordSpan span;
    if (fields.size() != 2 || !absl::SimpleAtoi(fields[0], &span.offset) ||
        !absl::SimpleAtoi(fields[1], &span.size) || span.size < 16) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": expected \"<offset> <size>\", got \"", line, "\""));
    }
    if (span.offset != expected_offset) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", line_number, ": record at offset ",
                                                     span.offset, ", expected ", expected_offset));
    }
    expected_offset = span.offset + span.size;
    spans.push_back(span);
  }
  return spans;
}

}  // namespace forge
