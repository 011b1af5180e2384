#include "lib/records/crc32c.h"

#include <string>

#include <gtest/gtest.h>

namespace forge {
namespace {

// Known answers: the CRC catalogue's check value and the iSCSI vectors of RFC 3720, B.4.
TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>((i * 7919) >> 3));
  for (size_t split : {size_t{0}, size_t{1}, size_t{13}, size_t{4096}, data.size()}) {
    const absl::string_view view(data);
    EXPECT_EQ(Crc32cExtend(Crc32c(view.substr(0, split)), view.substr(split)), Crc32c(data))
        << "split at " << split;
  }
}

TEST(Crc32cTest, MaskRoundTripsAndMatchesTensorFlow) {
  for (uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu, 0x12345678u}) {
    EXPECT_EQ(UnmaskCrc32c(MaskCrc32c(crc)), crc);
    EXPECT_NE(MaskCrc32c(crc), crc);
  }
  // The header and payload CRCs of a TFRecord holding "hello" (length 5), as computed by an
  // independent bitwise implementation of CRC-32C and TensorFlow's mask.
  const std::string length("\x05\0\0\0\0\0\0\0", 8);
  EXPECT_EQ(Crc32c(length), 0xE4094DC0u);
  EXPECT_EQ(MaskCrc32c(Crc32c(length)), 0x3E04B2EAu);
  EXPECT_EQ(MaskCrc32c(Crc32c("hello")), 0x191C1FBBu);
  EXPECT_EQ(MaskCrc32c(Crc32c(std::string(8, '\0'))), 0x07980329u);
}

}  // namespace
}  // namespace forge
