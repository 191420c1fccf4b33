#include "ann/efficiency/blocks.h"

#include "ann/efficiency/memory.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

TEST(MemoryTest, TracksLiveTensorsAndPeak) {
  MemoryTracker& tracker = MemoryTracker::Install();
  const int64_t before = tracker.current();
  const int64_t peak = tracker.PeakDuring([] {
    torch::Tensor a = torch::empty({1000, 250}, torch::kFloat32);  // 1,000,000 bytes
    torch::Tensor b = torch::empty({500, 250}, torch::kFloat32);   //   500,000 bytes
  });
  EXPECT_GE(peak, 1500000);
  EXPECT_LT(peak, 1600000);
  EXPECT_EQ(tracker.current(), before);  // Both freed.
}

// The paper's relation, measured: APNB (and AFNB) need far less memory than non-local at every
// size of the comparison. FLOPs follow the same order.
TEST(BlocksTest, ApnbPeakMemoryIsBelowNonLocalAtEverySize) {
  MeasureOptions options;
  options.time = false;
  for (const Shape& shape :
       {Shape{1, 2048, 96, 96}, Shape{1, 2048, 128, 128}, Shape{1, 2048, 128, 256}}) {
    const BlockReport nl = MeasureBlock(BlockKind::kNonLocal, shape, options);
    const BlockReport apnb = MeasureBlock(BlockKind::kApnb, shape, options);
    const BlockReport afnb = MeasureBlock(BlockKind::kAfnb, shape, options);
    const int64_t n = shape[2] * shape[3];
    EXPECT_GT(apnb.memory_bytes, 0);
    EXPECT_LT(apnb.memory_bytes, nl.memory_bytes) << shape[2] << "x" << shape[3];
    EXPECT_LT(afnb.memory_bytes, nl.memory_bytes) << shape[2] << "x" << shape[3];
    // Non-local holds at least its N x N similarities and their softmax.
    EXPECT_GE(nl.memory_bytes, 2 * n * n * 4);
    EXPECT_LT(apnb.flops * 3, nl.flops);
    std::printf("%dx%d: memory nonlocal %.1f MB, apnb %.1f MB, afnb %.1f MB\n",
                static_cast<int>(shape[2]), static_cast<int>(shape[3]), nl.memory_bytes / 1e6,
                apnb.memory_bytes / 1e6, afnb.memory_bytes / 1e6);
  }
}

TEST(BlocksTest, TimingAndParameters) {
  MeasureOptions options;
  options.memory = false;
  options.warmup = 1;
  options.runs = 3;
  const BlockReport r = MeasureBlock(BlockKind::kApnb, {1, 64, 16, 16}, options);
  ASSERT_TRUE(r.timed);
  EXPECT_EQ(r.latency.samples_ms.size(), 3u);
  EXPECT_LE(r.latency.min_ms, r.latency.median_ms);
  // key/query ConvModule 64·256 + BN 2·256, value 64·256 + 256, out 256·64 + 64.
  EXPECT_EQ(r.params, 64 * 256 + 2 * 256 + 64 * 256 + 256 + 256 * 64 + 64);
  EXPECT_FALSE(ParseBlockKind("transformer").ok());
}

}  // namespace
}  // namespace ann
