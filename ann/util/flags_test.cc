#include "ann/util/flags.h"

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(FlagsTest, PrintableLineEscapesRawBytesButKeepsUtf8) {
  EXPECT_EQ(PrintableLine("plain: ok"), "plain: ok");
  // A file name in UTF-8 stays readable; a library's raw bytes and control characters do not
  // reach the terminal.
  EXPECT_EQ(PrintableLine("caf\xc3\xa9/\xe5\x9b\xbe.png"), "caf\xc3\xa9/\xe5\x9b\xbe.png");
  EXPECT_EQ(PrintableLine("version \xcc\xf5 as Long"), "version \\xcc\\xf5 as Long");
  EXPECT_EQ(PrintableLine(std::string("a\nb\x1b[2Jc\0d", 10)), "a\\x0ab\\x1b[2Jc\\x00d");
  EXPECT_EQ(PrintableLine("cut \xe5\x9b"), "cut \\xe5\\x9b");
}

TEST(FlagsTest, EnumAndSizeFlagsNameTheFlag) {
  auto mode = ParseEnumFlag<int>("mode", "x", {{"a", 1}, {"b", 2}});
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.status().message(), "--mode: expected a or b, got 'x'");
  EXPECT_TRUE(IsFlagError(mode.status()));
  auto size = ParseSizeFlag("crop_size", "97x61");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, cv::Size(97, 61));
  EXPECT_FALSE(ParseSizeFlag("crop_size", "0x5").ok());
}

}  // namespace
}  // namespace ann
