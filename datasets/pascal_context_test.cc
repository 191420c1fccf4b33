#include "datasets/pascal_context.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(PascalContextTest, DecodesPlainCountsColumnMajor) {
  // 2x3 mask, counts 2 zeros, 3 ones, 1 zero in column-major order:
  // column 0 = (0, 0), column 1 = (1, 1), column 2 = (1, 0).
  auto mask = DecodeRleCounts({2, 3, 1}, 2, 3);
  ASSERT_TRUE(mask.ok());
  EXPECT_EQ(*mask, (std::vector<uint8_t>{0, 0, 1, 1, 1, 0}));
  EXPECT_FALSE(DecodeRleCounts({2, 3}, 2, 3).ok());     // Does not cover the mask.
  EXPECT_FALSE(DecodeRleCounts({2, 3, 9}, 2, 3).ok());  // Overflows it.
}

TEST(PascalContextTest, DecodesCompressedStrings) {
  // Hand-encoded with pycocotools' scheme: values < 16 are one character '0' + v; from the
  // fourth count on, the difference to the count two places back is stored.
  EXPECT_EQ(*DecodeRleString("231", 2, 3), (std::vector<uint8_t>{0, 0, 1, 1, 1, 0}));
  // [1, 1, 1, 3]: the 4th is stored as 3 - 1 = 2.
  EXPECT_EQ(*DecodeRleString("1112", 2, 3), (std::vector<uint8_t>{0, 1, 0, 1, 1, 1}));
  // [1, 3, 1, 1]: the 4th is stored as 1 - 3 = -2 → (−2 & 0x1f) + 48 = 'N'.
  EXPECT_EQ(*DecodeRleString("131N", 2, 3), (std::vector<uint8_t>{0, 1, 1, 1, 0, 1}));
  // 40 needs two characters: 40 & 0x1f = 8 with the continuation bit (0x20) → 48 + 40 = 'X',
  // then 40 >> 5 = 1 → '1'. [40, 8] covers a 6x8 mask.
  auto long_run = DecodeRleString("X18", 6, 8);
  ASSERT_TRUE(long_run.ok()) << long_run.status();
  EXPECT_EQ(std::count(long_run->begin(), long_run->end(), 1), 8);
  EXPECT_EQ((*long_run)[39], 0);
  EXPECT_EQ((*long_run)[40], 1);
  EXPECT_FALSE(DecodeRleString("X", 6, 8).ok());  // Truncated in the middle of a number.
}

TEST(PascalContextTest, CategoryTable) {
  const std::vector<int>& ids = PascalContextCategoryIds();
  ASSERT_EQ(ids.size(), 60u);
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(ids.back(), 458);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
}

}  // namespace
}  // namespace ann
