// Fuzzes the synset-mapping parser ("<wnid> <name>" lines). Property: what it accepts maps WNIDs
// to non-empty names.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "lib/data/synset_mapping.h"
#include "lib/fuzzing/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::map<std::string, std::string>> names =
      forge::ParseSynsetMapping(forge::AsStringView(data, size), "LOC_synset_mapping.txt");
  if (!names.ok()) return 0;
  CHECK(!names->empty());
  for (const auto& [wnid, name] : *names) {
    CHECK(forge::IsWnid(wnid)) << wnid;
    CHECK(!name.empty()) << wnid;
  }
  return 0;
}

std::vector<std::string> ForgeFuzzSeeds() {
  return {"n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n",
          "\xEF\xBB\xBFn01440764\ttench\r\n\r\n  n02119789 kit fox, Vulpes macrotis  \r\n"};
}
