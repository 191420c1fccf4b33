#include "ann/train/schedule.h"

#include <cmath>

#include "gtest/gtest.h"
#include "torch/torch.h"

namespace ann {
namespace {

TEST(ScheduleTest, PolyValues) {
  // (0.01 - 1e-4) * (1 - it/40000)^0.9 + 1e-4.
  EXPECT_DOUBLE_EQ(PolyLr(0.01, 1e-4, 0.9, 0, 40000), 0.01);
  EXPECT_NEAR(PolyLr(0.01, 1e-4, 0.9, 20000, 40000), 0.0099 * std::pow(0.5, 0.9) + 1e-4, 1e-15);
  EXPECT_NEAR(PolyLr(0.01, 1e-4, 0.9, 20000, 40000), 0.00540527864, 1e-11);
  EXPECT_DOUBLE_EQ(PolyLr(0.01, 1e-4, 0.9, 40000, 40000), 1e-4);
  EXPECT_DOUBLE_EQ(PolyLr(0.01, 0.0, 0.9, 60000, 60000), 0.0);  // Authors': down to 0.
  EXPECT_GT(PolyLr(0.01, 1e-4, 0.9, 1, 40000), PolyLr(0.01, 1e-4, 0.9, 2, 40000));
}

}  // namespace
}  // namespace ann
