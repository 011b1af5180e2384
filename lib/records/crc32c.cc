#include "lib/records/crc32c.h"

#include <algorithm>
#include <climits>

#include <isa-l/crc.h>

namespace forge {

uint32_t Crc32cExtend(uint32_t crc, absl::string_view data) {
  // ISA-L works on the inverted register and takes an int length.
  uint32_t state = ~crc;
  while (!data.empty()) {
    const size_t chunk = std::min<size_t>(data.size(), INT_MAX);
    state = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(data.data())),
                        static_cast<int>(chunk), state);
    data.remove_prefix(chunk);
  }
  return ~state;
}

uint32_t Crc32c(absl::string_view data) { return Crc32cExtend(0, data); }

}  // namespace forge
