#include "ann/util/flags.h"

#include <new>
#include <stdexcept>

#include "ann/util/memory.h"
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

TEST(FlagsTest, AFailedAllocationNamesWhatWasWorkedOn) {
  // LibTorch's allocator (and ours, worded alike) with the byte count.
  auto torch_oom = [] {
    throw std::runtime_error(
        "DefaultCPUAllocator: can't allocate memory: you tried to allocate 2500000000 bytes. "
        "Error code 12");
    return absl::OkStatus();
  };
  SetMemorySubject("");
  absl::Status status = RunGuarded(torch_oom);
  EXPECT_TRUE(absl::IsResourceExhausted(status));
  EXPECT_EQ(status.message(),
            "out of memory (a step needed 2.5 GB more): the input or a size flag is too large");
  // After a memory check named an image (CheckFits), the line starts with it.
  SetMemorySubject("data/a b.png");
  status = RunGuarded(torch_oom);
  EXPECT_EQ(status.message(),
            "data/a b.png: out of memory (a step needed 2.5 GB more) (less than the estimate said "
            "was free)");
  status = RunGuarded([]() -> absl::Status { throw std::bad_alloc(); });
  EXPECT_EQ(status.message(), "data/a b.png: out of memory (less than the estimate said was free)");
  SetMemorySubject("");
}

}  // namespace
}  // namespace ann
