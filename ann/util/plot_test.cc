#include "ann/util/plot.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opencv2/imgproc.hpp"

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

TEST(PlotTest, DrawsCurvesOnAWhiteCanvas) {
  const cv::Mat empty = DrawLinePlot("t", "x", "y", {});
  ASSERT_EQ(empty.size(), cv::Size(800, 480));
  const cv::Mat plot = DrawLinePlot("loss", "iteration", "loss",
                                    {{"a", {0, 1, 2}, {3, 2, 1}}, {"b", {0, 2}, {1, 2}}});
  ASSERT_EQ(plot.type(), CV_8UC3);
  // The curves and the legend add coloured pixels to the axes of an empty plot.
  auto coloured = [](const cv::Mat& image) {
    std::vector<cv::Mat> c;
    cv::split(image, c);
    return cv::countNonZero((c[0] != c[1]) | (c[1] != c[2]));
  };
  EXPECT_EQ(coloured(empty), 0);
  EXPECT_GT(coloured(plot), 500);
}

}  // namespace
}  // namespace ann
