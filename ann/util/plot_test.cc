#include "ann/util/plot.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ann {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

TEST(PlotTest, TicksAreRound) {
  // The loss curve that used to be labelled 3.663 / 2.97 / 0.8929.
  EXPECT_THAT(RoundTicks(0.8929, 3.663),
              ElementsAre(DoubleNear(1, 1e-12), DoubleNear(1.5, 1e-12), DoubleNear(2, 1e-12),
                          DoubleNear(2.5, 1e-12), DoubleNear(3, 1e-12), DoubleNear(3.5, 1e-12)));
  EXPECT_THAT(RoundTicks(0, 300, 7), ElementsAre(0, 50, 100, 150, 200, 250, 300));
  EXPECT_THAT(
      RoundTicks(1e-4, 0.01, 6),
      ElementsAre(DoubleNear(0.002, 1e-15), DoubleNear(0.004, 1e-15), DoubleNear(0.006, 1e-15),
                  DoubleNear(0.008, 1e-15), DoubleNear(0.01, 1e-15)));
  EXPECT_THAT(RoundTicks(-1, 1, 5), ElementsAre(-1, -0.5, 0, 0.5, 1));
}

}  // namespace
}  // namespace ann
