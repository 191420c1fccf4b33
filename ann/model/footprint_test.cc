#include "ann/model/footprint.h"

#include <limits>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(FootprintTest, CountsTheLastStageAndTheFullSizeLogits) {
  ModelConfig r50;  // depth 50, 19 classes
  // 4 bytes x (2048 x 64 x 128 + 19 x 512 x 1024).
  EXPECT_EQ(MinimumForwardBytes(r50, 512, 1024), 4 * (2048LL * 64 * 128 + 19LL * 512 * 1024));
  // Odd sizes round the stride-8 map up; a batch multiplies.
  ModelConfig r18 = r50;
  r18.depth = 18;
  r18.num_classes = 150;
  EXPECT_EQ(MinimumForwardBytes(r18, 97, 33, 3), 3 * 4 * (512LL * 13 * 5 + 150LL * 97 * 33));
  // Absurd sizes saturate instead of overflowing.
  EXPECT_EQ(MinimumForwardBytes(r50, int64_t{1} << 40, int64_t{1} << 40, 1 << 20),
            std::numeric_limits<int64_t>::max());
}

TEST(FootprintTest, CheckFitsAgainstPhysicalMemory) {
  const int64_t physical = PhysicalMemoryBytes();
  ASSERT_GT(physical, int64_t{1} << 26);
  EXPECT_TRUE(CheckFits(physical / 2, "--x", "a pass").ok());
  absl::Status too_big = CheckFits(physical + 1, "--test_scale", "a 9x9 pass", " (try slide)");
  EXPECT_TRUE(absl::IsInvalidArgument(too_big));
  EXPECT_EQ(std::string(too_big.message()).rfind("--test_scale: a 9x9 pass needs at least ", 0), 0u)
      << too_big;
  EXPECT_NE(too_big.message().find("GB of memory; this machine has "), absl::string_view::npos);
  EXPECT_NE(too_big.message().find(" (try slide)"), absl::string_view::npos);
}

}  // namespace
}  // namespace ann
