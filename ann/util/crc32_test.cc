#include "ann/util/crc32.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(Crc32Test, KnownValues) {
  EXPECT_EQ(Crc32(0, "", 0), 0u);
  EXPECT_EQ(Crc32(0, "123456789", 9), 0xCBF43926u);  // the CRC-32 check value
  const std::string a(1000, 'a');
  EXPECT_EQ(Crc32(0, a.data(), a.size()), Crc32Zlib(0, a.data(), a.size()));
}

// Every length up to 1100 at every alignment 0..15, continued from a non-zero CRC, and a few
// large random buffers: equal to zlib's crc32 bit for bit.
TEST(Crc32Test, EqualsZlibForEveryLengthAlignmentAndContinuation) {
  std::mt19937 random(7);
  std::vector<uint8_t> buffer(1 << 20);
  for (uint8_t& b : buffer) b = static_cast<uint8_t>(random());
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t length = 0; length <= 1100; ++length) {
      const uint8_t* p = buffer.data() + offset;
      ASSERT_EQ(Crc32(0, p, length), Crc32Zlib(0, p, length)) << offset << " " << length;
      ASSERT_EQ(Crc32(0x12345678, p, length), Crc32Zlib(0x12345678, p, length))
          << offset << " " << length;
    }
  }
  for (size_t length : {size_t{4096}, size_t{65536 + 7}, buffer.size() - 3}) {
    EXPECT_EQ(Crc32(0, buffer.data() + 3, length), Crc32Zlib(0, buffer.data() + 3, length));
  }
  // In two parts equals in one.
  const uint32_t first = Crc32(0, buffer.data(), 1000);
  EXPECT_EQ(Crc32(first, buffer.data() + 1000, 5000), Crc32Zlib(0, buffer.data(), 6000));
}

}  // namespace
}  // namespace ann
