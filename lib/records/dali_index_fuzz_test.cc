// Fuzzes the DALI index parser. Property: an index it accepts formats back to text that parses
// to the same spans.
#include <cstdint>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "lib/fuzzing/fuzz_target.h"
#include "lib/records/record_index.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::vector<forge::RecordSpan>> spans = forge::ParseDaliIndex(forge::AsStringView(data, size), "fuzz.idx");
  if (!spans.ok()) return 0;
  absl::StatusOr<std::vector<forge::RecordSpan>> again = forge::ParseDaliIndex(forge::FormatDaliIndex(*spans), "again.idx");
  CHECK(again.ok()) << again.status();
  CHECK_EQ(again->size(), spans->size());
  for (size_t i = 0; i < spans->size(); ++i) {
    CHECK_EQ((*again)[i].offset, (*spans)[i].offset);
    CHECK_EQ((*again)[i].size, (*spans)[i].size);
  }
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  return {forge::FormatDaliIndex({{0, 100}, {100, 16}, {116, 4000}}), forge::FormatDaliIndex({})};
}
