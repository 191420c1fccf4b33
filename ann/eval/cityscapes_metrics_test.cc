#include "ann/eval/cityscapes_metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace ann {
namespace {

constexpr double kPersonSize = 3462.4756337644;  // cityscapesScripts' avgClassSize.

// One row of 8 pixels (trainIds; instance ids as in *_gtFine_instanceIds.png):
//   col:         0      1      2      3      4      5      6     7
//   truth:       person person person person car    car    road  ignore
//   instance:    24001  24001  24001  24002  26001  26001  7     0
//   prediction:  person person rider  road   car    255    person car
struct Case {
  cv::Mat truth = (cv::Mat_<uint8_t>(1, 8) << 11, 11, 11, 11, 13, 13, 0, 255);
  cv::Mat instances = (cv::Mat_<uint16_t>(1, 8) << 24001, 24001, 24001, 24002, 26001, 26001, 7, 0);
  cv::Mat prediction = (cv::Mat_<uint8_t>(1, 8) << 11, 11, 12, 0, 13, 255, 11, 13);
};

TEST(CityscapesMetricsTest, HandComputedLikeCityscapesScripts) {
  Case c;
  ConfusionMatrix matrix(19);
  matrix.Add(c.prediction, c.truth);
  InstanceStats stats;
  stats.Add(c.prediction, c.instances);
  const CityscapesScores s = ComputeCityscapesScores(matrix, stats);
  // person: TP 2, FN 2 (rider, road), FP 1 (road pixel predicted person) → 2/5.
  EXPECT_DOUBLE_EQ(s.class_iou[11], 2.0 / 5);
  // rider: only a false positive → 0. car: TP 1, FN 1 (predicted 255 counts against it), the
  // car prediction on ignored ground truth is no FP → 1/2. road: FN 1, FP 1 → 0.
  EXPECT_DOUBLE_EQ(s.class_iou[12], 0.0);
  EXPECT_DOUBLE_EQ(s.class_iou[13], 0.5);
  EXPECT_DOUBLE_EQ(s.class_iou[0], 0.0);
  EXPECT_TRUE(std::isnan(s.class_iou[1]));
  EXPECT_DOUBLE_EQ(s.class_iou_mean, (0.4 + 0 + 0.5 + 0) / 4);
  // person iIoU: instance 24001 (3 px, 2 right) weight A/3, 24002 (1 px, 0 right) weight A:
  // TPw = 2A/3, FNw = A/3 + A; FP 1 unweighted.
  const double a = kPersonSize;
  EXPECT_NEAR(s.class_iiou[11], (2 * a / 3) / (2 * a / 3 + 1 + 4 * a / 3), 1e-12);
  EXPECT_DOUBLE_EQ(s.class_iiou[12], 0.0);  // No rider instances, FP 1.
  EXPECT_NEAR(s.class_iiou[13], 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(s.class_iiou[14]));  // truck: nothing at all.
  EXPECT_TRUE(std::isnan(s.class_iiou[0]));   // road has no instances.
  EXPECT_NEAR(s.class_iiou_mean, ((2 * a / 3) / (2 * a + 1) + 0 + 0.5) / 3, 1e-12);
  // Categories: human TP 3 (rider counts), FN 1, FP 1 → 3/5; vehicle 1/2; flat 0.
  EXPECT_DOUBLE_EQ(s.category_iou[5], 3.0 / 5);
  EXPECT_DOUBLE_EQ(s.category_iou[6], 0.5);
  EXPECT_DOUBLE_EQ(s.category_iou[0], 0.0);
  EXPECT_TRUE(std::isnan(s.category_iou[1]));
  // human iIoU: 24001 fully in category (TPw = A), 24002 not (FNw = A), FP 1.
  EXPECT_NEAR(s.category_iiou[5], a / (2 * a + 1), 1e-12);
  EXPECT_NEAR(s.category_iiou[6], 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(s.category_iiou[0]));  // Only human and vehicle have nIoU.
}

TEST(CityscapesMetricsTest, PerfectPredictionScoresOne) {
  Case c;
  ConfusionMatrix matrix(19);
  matrix.Add(c.truth, c.truth);
  InstanceStats stats;
  stats.Add(c.truth, c.instances);
  const CityscapesScores s = ComputeCityscapesScores(matrix, stats);
  EXPECT_DOUBLE_EQ(s.class_iou_mean, 1.0);
  EXPECT_DOUBLE_EQ(s.class_iiou_mean, 1.0);
  EXPECT_DOUBLE_EQ(s.category_iou_mean, 1.0);
  EXPECT_DOUBLE_EQ(s.category_iiou_mean, 1.0);
  const std::string table = FormatCityscapesTable(s);
  EXPECT_NE(table.find("person        :   1.000    1.000"), std::string::npos) << table;
  EXPECT_NE(table.find("Score Average :   1.000    1.000"), std::string::npos);
}

TEST(CityscapesMetricsTest, NoInstancesMeansNoInstanceScoresButFalsePositivesStillCount) {
  // Like the authors' README: without instance maps, TP = FN = 0 and nIoU is 0 where a class
  // was predicted on other ground truth, NaN elsewhere.
  Case c;
  ConfusionMatrix matrix(19);
  matrix.Add(c.prediction, c.truth);
  const CityscapesScores s = ComputeCityscapesScores(matrix, InstanceStats());
  EXPECT_DOUBLE_EQ(s.class_iiou[11], 0.0);
  EXPECT_TRUE(std::isnan(s.class_iiou[13]));
}

}  // namespace
}  // namespace ann
