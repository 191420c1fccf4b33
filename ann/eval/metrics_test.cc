#include "ann/eval/metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace ann {
namespace {

TEST(MetricsTest, HandComputedConfusion) {
  // 3 classes. Ground truth / prediction over 8 pixels (255 ignored, 7 = outside the classes):
  //   gt:   0 0 0 1 1 255 2 0
  //   pred: 0 0 1 1 0   2 7 0
  cv::Mat gt = (cv::Mat_<uint8_t>(1, 8) << 0, 0, 0, 1, 1, 255, 2, 0);
  cv::Mat pred = (cv::Mat_<uint8_t>(1, 8) << 0, 0, 1, 1, 0, 2, 7, 0);
  ConfusionMatrix m(3);
  m.Add(pred, gt);
  // class 0: TP 3, FN 1 (→1), FP 1 (gt 1 → 0): IoU 3/5, Acc 3/4.
  // class 1: TP 1, FN 1, FP 1: IoU 1/3, Acc 1/2.
  // class 2: TP 0, FN 1 (→ outside), FP 0 (the 255 pixel does not count): IoU 0, Acc 0.
  const std::vector<double> iou = m.IoU();
  EXPECT_DOUBLE_EQ(iou[0], 3.0 / 5);
  EXPECT_DOUBLE_EQ(iou[1], 1.0 / 3);
  EXPECT_DOUBLE_EQ(iou[2], 0.0);
  EXPECT_DOUBLE_EQ(m.Accuracy()[0], 0.75);
  EXPECT_DOUBLE_EQ(m.AllAccuracy(), 4.0 / 7);
  EXPECT_DOUBLE_EQ(m.MeanIoU(), (3.0 / 5 + 1.0 / 3 + 0.0) / 3);
  EXPECT_EQ(m.LabelledPixels(), 7);
}

TEST(MetricsTest, AbsentClassesAreNanAndSkipped) {
  cv::Mat gt = (cv::Mat_<uint8_t>(1, 4) << 0, 0, 1, 1);
  ConfusionMatrix m(4);
  m.Add(gt, gt);  // Perfect prediction.
  const std::vector<double> iou = m.IoU();
  EXPECT_EQ(iou[0], 1.0);
  EXPECT_EQ(iou[1], 1.0);
  EXPECT_TRUE(std::isnan(iou[2]));
  EXPECT_TRUE(std::isnan(iou[3]));
  EXPECT_EQ(m.MeanIoU(), 1.0);
  ConfusionMatrix other(4);
  cv::Mat wrong = (cv::Mat_<uint8_t>(1, 4) << 3, 3, 3, 3);
  other.Add(wrong, gt);
  m.Merge(other);
  EXPECT_DOUBLE_EQ(m.IoU()[0], 2.0 / 4);
  EXPECT_EQ(m.IoU()[3], 0.0);  // FP only: defined, zero.
  EXPECT_TRUE(std::isnan(NanMean({NAN, NAN})));
}

}  // namespace
}  // namespace ann
