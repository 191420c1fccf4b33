#include "ann/efficiency/footprint.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(FootprintTest, ForwardPeakGrowsWithPixelsBatchAndClasses) {
  ModelConfig r50;  // depth 50, 19 classes
  ModelConfig r18 = r50;
  r18.depth = 18;
  const double r50_px = ForwardPeakBytes(r50, 512, 1024, std::nullopt) / (512.0 * 1024);
  const double r18_px = ForwardPeakBytes(r18, 512, 1024, std::nullopt) / (512.0 * 1024);
  // Measured exact peaks (AMD EPYC, ann_test): R-50 about 1085 B/px, R-18 about 310 B/px with 19
  // classes; the estimate lies at or above them, within 15%.
  EXPECT_GE(r50_px, 1085);
  EXPECT_LE(r50_px, 1085 * 1.15);
  EXPECT_GE(r18_px, 310);
  EXPECT_LE(r18_px, 310 * 1.15);
  // 150 classes: the logits and their softmax dominate (R-18 measured 1211 B/px, fp32 1583).
  ModelConfig r18_150 = r18;
  r18_150.num_classes = 150;
  EXPECT_GE(ForwardPeakBytes(r18_150, 100, 100, std::nullopt) / 1e4, 1211);
  EXPECT_GE(ForwardPeakBytes(r18_150, 100, 100, Precision::kFp32) / 1e4, 1583);
  // int8 holds the least (R-18 measured 204 B/px).
  EXPECT_GE(ForwardPeakBytes(r18, 100, 100, Precision::kInt8) / 1e4, 204);
  EXPECT_LT(ForwardPeakBytes(r18, 100, 100, Precision::kInt8),
            ForwardPeakBytes(r18, 100, 100, Precision::kFp32));
  // A batch multiplies; odd sizes count every pixel.
  EXPECT_DOUBLE_EQ(ForwardPeakBytes(r18, 97, 33, std::nullopt, 3),
                   3 * ForwardPeakBytes(r18, 97, 33, std::nullopt));
  EXPECT_DOUBLE_EQ(ForwardPeakBytes(r18, 97, 33, std::nullopt),
                   97 * 33 * ForwardPeakBytes(r18, 1, 1, std::nullopt));
  // Absurd sizes stay finite and huge instead of overflowing.
  const double absurd =
      ForwardPeakBytes(r50, int64_t{1} << 40, int64_t{1} << 40, std::nullopt, int64_t{1} << 20);
  EXPECT_TRUE(std::isfinite(absurd));
  EXPECT_GT(absurd, 1e30);
  // A training step keeps every feature map: more than a forward pass of the same batch.
  EXPECT_GT(TrainStepPeakBytes(r18, 256, 256, 8), ForwardPeakBytes(r18, 256, 256, std::nullopt, 8));
}

TEST(FootprintTest, CheckFitsComparesWithWhatIsAvailable) {
  EXPECT_TRUE(CheckFits(1e6, "--x", "a pass").ok());
  absl::Status too_big = CheckFits(1e18, "--test_scale", "a 9x9 pass", " (try slide)");
  EXPECT_TRUE(absl::IsInvalidArgument(too_big));
  const std::string message(too_big.message());
  EXPECT_EQ(message.rfind("--test_scale: a 9x9 pass needs about 1000000000.0 GB of memory; ", 0),
            0u)
      << message;
  EXPECT_NE(message.find(" GB is available ("), std::string::npos) << message;
  EXPECT_EQ(message.substr(message.size() - 12), " (try slide)") << message;
}

TEST(FootprintTest, AnAddressSpaceLimitIsNamed) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &saved), 0);
  // 1 GB of address space more than is mapped now: a 100 GB pass cannot fit, whatever the
  // machine.
  double pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(pages * sysconf(_SC_PAGE_SIZE) + 1e9);
  if (saved.rlim_max != RLIM_INFINITY && tight.rlim_cur > saved.rlim_max) GTEST_SKIP();
  ASSERT_EQ(setrlimit(RLIMIT_AS, &tight), 0);
  absl::Status status = CheckFits(100e9, "img.png", "a 9x9 pass");
  ASSERT_EQ(setrlimit(RLIMIT_AS, &saved), 0);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(std::string(status.message()).find("(ulimit -v)"), std::string::npos) << status;
}

}  // namespace
}  // namespace ann
