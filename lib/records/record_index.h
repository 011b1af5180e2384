// Per-file record index in DALI's text format: one line "<offset> <size>" per record, size
// counting the framing, so that DALI's TFRecord reader can use our indexes too.
#ifndef FORGE_LIB_RECORDS_RECORD_INDEX_H_
#define FORGE_LIB_RECORDS_RECORD_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace forge {

struct RecordSpan {
  uint64_t offset = 0;  // of the record's first framing byte
  uint64_t size = 0;    // framing included
};

std::string FormatDaliIndex(const std::vector<RecordSpan>& spans);

// Parses an index; errors name `source` and the line. Spans must be contiguous and ordered.
absl::StatusOr<std::vector<RecordSpan>> ParseDaliIndex(absl::string_view text,
                                                       const std::string& source);

}  // namespace forge

#endif  // FORGE_LIB_RECORDS_RECORD_INDEX_H_
