// CRC-32C (Castagnoli polynomial), the checksum of TFRecord framing, and its masked form.
// Computed by Intel's ISA-L, which uses the CPU's CRC32/PCLMUL instructions where present.
#ifndef FORGE_LIB_RECORDS_CRC32C_H_
#define FORGE_LIB_RECORDS_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace forge {

// The CRC-32C of `data` (e.g. 0xE3069283 for "123456789").
uint32_t Crc32c(absl::string_view data);

// The CRC-32C of the concatenation of the bytes `crc` covers and `data`.
uint32_t Crc32cExtend(uint32_t crc, absl::string_view data);

// TFRecord's masking, which keeps CRCs of data that contains CRCs well distributed:
// rotate right by 15 bits, then add 0xa282ead8.
inline uint32_t MaskCrc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

inline uint32_t UnmaskCrc32c(uint32_t masked) {
  const uint32_t rotated = masked - 0xa282ead8u;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace forge

#endif  // FORGE_LIB_RECORDS_CRC32C_H_
